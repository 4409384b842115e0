import { InvalidArgumentError } from '../errors.ts';

/**
 * Names inside a layer tarball (OCI image spec, layer.md), reduced to safe relative paths before anything touches
 * the disk. Policy: a leading "/" is dropped, so absolute names are relative to the layer root (as docker does);
 * "." components vanish; a ".." that would climb above the layer root is refused, never clamped, because an archive
 * that tries it is broken or hostile and silently rewriting it would hide that.
 */

/** Path components of a cleaned entry name; [] is the layer root itself. */
export function entryComponents(name: string, layer: string): string[] {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw escapes(layer, name);
      out.pop();
      continue;
    }
    if (part.includes('\0'))
      throw new InvalidArgumentError(`layer ${layer}: entry ${JSON.stringify(name)} contains NUL`);
    out.push(part);
  }
  return out;
}

export function escapes(layer: string, name: string): InvalidArgumentError {
  return new InvalidArgumentError(`layer ${layer}: entry ${JSON.stringify(name)} escapes the layer root`);
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

export type WhiteoutKind =
  | { kind: 'none' }
  | { kind: 'opaque' } // the directory holding the marker hides everything below it
  | { kind: 'whiteout'; target: string } // hides `target` in the same directory
  | { kind: 'meta' }; // other .wh..wh.* names: AUFS bookkeeping, ignored as the spec says

/** What a base name means under the OCI whiteout rules; throws for whiteouts of "." or "..". */
export function classifyWhiteout(base: string, layer: string, name: string): WhiteoutKind {
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  if (base === OPAQUE_MARKER) return { kind: 'opaque' };
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return { kind: 'meta' };
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..') {
    throw new InvalidArgumentError(`layer ${layer}: whiteout entry ${JSON.stringify(name)} names no file`);
  }
  return { kind: 'whiteout', target };
}

/** Short layer name for messages: `sha256:ab12cd34ef56…`. */
export function layerLabel(digest: string | undefined): string {
  if (digest === undefined) return '(unnamed)';
  return digest.length > 19 ? `${digest.slice(0, 19)}…` : digest;
}
