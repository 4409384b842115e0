import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import type { Descriptor, ImageIndex, Platform } from '../image/oci.ts';

/** `linux/arm64/v8`, `linux/amd64` → a Platform; the `--platform` value. */
export function parsePlatformSpec(spec: string): Platform {
  const parts = spec.split('/');
  const ok = /^[a-z0-9_.-]+$/i;
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !ok.test(p))) {
    throw new InvalidArgumentError(`invalid platform ${JSON.stringify(spec)}: want os/arch[/variant]`);
  }
  const p: Platform = { os: parts[0]!.toLowerCase(), architecture: parts[1]!.toLowerCase() };
  if (parts[2] !== undefined) p.variant = parts[2].toLowerCase();
  return p;
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
}

// What a platform without a variant means, as containerd's platforms.Normalize has it.
function defaultVariant(arch: string): string | undefined {
  if (arch === 'arm64') return 'v8';
  if (arch === 'arm') return 'v7';
  return undefined;
}

/**
 * The manifest of an index that serves `want`: os and architecture must match; a variant, when asked for (or
 * implied: arm64 means v8), must match too, an entry without one counting as the default. Attestation entries
 * (platform unknown/unknown) never match.
 */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor {
  const wantVariant = want.variant ?? defaultVariant(want.architecture);
  const found = index.manifests.find((d) => {
    const p = d.platform;
    if (p === undefined || p.os !== want.os || p.architecture !== want.architecture) return false;
    const variant = p.variant ?? defaultVariant(p.architecture);
    return wantVariant === undefined || variant === undefined || variant === wantVariant;
  });
  if (!found) {
    const offered = index.manifests
      .map((d) => (d.platform ? formatPlatform(d.platform) : '?'))
      .filter((p) => p !== 'unknown/unknown');
    throw new NotFoundError(
      `no matching manifest for ${formatPlatform(want)} in the manifest list entries (offered: ${offered.join(', ') || 'none'})`,
    );
  }
  return found;
}
