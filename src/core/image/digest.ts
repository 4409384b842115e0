import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors.ts';

/**
 * Content digests. The store only speaks sha256 (the only algorithm docker and the OCI spec require); a digest is
 * always written `sha256:<64 lowercase hex>`, and an image id is the digest of its config blob.
 */
export type Digest = `sha256:${string}`;

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST.test(value);
}

/** `what` names the field for the error message, e.g. `manifest layers[2].digest`. */
export function parseDigest(value: unknown, what = 'digest'): Digest {
  if (!isDigest(value)) {
    throw new InvalidArgumentError(`${what}: invalid digest ${JSON.stringify(value)} (want sha256:<64 hex>)`);
  }
  return value;
}

export function hexOf(digest: Digest): string {
  return digest.slice('sha256:'.length);
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * Chain ids (OCI image spec, config.md): the base layer's chain id is its diff id; every layer above is
 * sha256(parentChainId + " " + diffId). A chain id names an unpacked layer together with everything below it,
 * which is why unpacked layers are stored by chain id and not by diff id.
 */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const diffId of diffIds) {
    const parent = out.at(-1);
    out.push(parent === undefined ? diffId : sha256(`${parent} ${diffId}`));
  }
  return out;
}

/** Short form for display and messages: the first 12 hex characters. */
export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}
