import { InvalidArgumentError, NotFoundError } from '../../core/errors.ts';
import type { Digest } from '../../core/image/digest.ts';
import { formatReference, parseReference, repositoryName } from '../../core/image/reference.ts';
import type { ResolvedImage } from '../api/images.ts';
import type { ImageContext } from './context.ts';
import type { ImageStore } from './store.ts';

const HEX_PREFIX = /^(?:sha256:)?([a-f0-9]{1,64})$/;
const FULL_ID = /^sha256:[a-f0-9]{64}$/;

/** A visible image a reference names: its id, the normalised name it was found by (or the id), and how. */
export interface FoundImage {
  id: Digest;
  ref: string;
  byName: boolean;
}

/**
 * Finds a visible image by name (`busybox`, `busybox:1`, `host:5000/a/b:t`), by `name@sha256:<digest>` (a repo
 * digest first, then any stored manifest), by id, or by a unique id prefix (with or without `sha256:`). Names win
 * over id prefixes, as in docker.
 */
export function findImage(store: ImageStore, ref: string): FoundImage {
  let parsed: ReturnType<typeof parseReference> | undefined;
  let parseError: unknown;
  try {
    if (!/^sha256:/.test(ref)) parsed = parseReference(ref);
  } catch (err) {
    parseError = err;
  }
  if (parsed?.digest !== undefined) {
    const id = store.idByDigest(`${parsed.domain}/${parsed.path}@${parsed.digest}`, parsed.digest);
    if (id) return { id, ref: formatReference({ ...parsed, tag: undefined } as never), byName: true };
  } else if (parsed !== undefined) {
    const name = formatReference({ domain: parsed.domain, path: parsed.path, tag: parsed.tag ?? 'latest' });
    const id = store.tagTarget(name);
    if (id) return { id, ref: name, byName: true };
  }
  const hex = HEX_PREFIX.exec(ref);
  if (hex) {
    const ids = store.idsWithPrefix(hex[1]!);
    if (ids.length > 1) {
      throw new InvalidArgumentError(
        `image id prefix ${JSON.stringify(ref)} is ambiguous: it matches several images`,
      );
    }
    if (ids.length === 1) return { id: ids[0]!, ref: ids[0]!, byName: false };
  }
  if (parseError !== undefined && !hex) throw parseError;
  throw new NotFoundError(`No such image: ${ref}`);
}

/**
 * The local image a reference names, with its config. A full id (`sha256:<64 hex>`, as a container records it)
 * also finds an image hidden by `remove -f`: the containers that still use it start from its config.
 */
export async function resolveImage(
  ctx: Pick<ImageContext, 'store' | 'files'>,
  ref: string,
): Promise<ResolvedImage> {
  const found =
    FULL_ID.test(ref) && ctx.store.row(ref as Digest)
      ? { id: ref as Digest, ref }
      : findImage(ctx.store, ref);
  const config = await ctx.files.configFile(found.id);
  return {
    id: found.id,
    ref: found.ref,
    config: config.config ?? {},
    chainIds: ctx.store.chainIds(found.id),
    platform: {
      os: config.os,
      architecture: config.architecture,
      ...(config.variant ? { variant: config.variant } : {}),
    },
  };
}

/** A target name for tag/import: normalised, and never a digest reference. */
export function tagName(ref: string): string {
  const r = parseReference(ref);
  if (r.digest !== undefined) {
    throw new InvalidArgumentError(`refusing to create a tag with a digest reference: ${ref}`);
  }
  return `${repositoryName(r)}:${r.tag ?? 'latest'}`;
}

/** An image id as containers may give it, with or without `sha256:`. */
export function asImageId(imageId: string): Digest {
  return imageId.startsWith('sha256:') ? (imageId as Digest) : (`sha256:${imageId}` as Digest);
}
