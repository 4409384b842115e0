import type { Stats } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/**
 * Reads one file of an image without mounting it: the overlayfs lookup rules applied to the unpacked layers.
 * `layers` is topmost first, each with its opaque directories. A 0/0 character device hides the name below it; an
 * opaque directory hides the same directory in lower layers; symbolic links are followed inside the image (an
 * absolute target starts at the image root, ".." stops there), at most 40 of them.
 */
export interface LayerView {
  dir: string;
  opaque: ReadonlySet<string>; // relative paths, "." for the root
}

const MAX_SYMLINKS = 40;

export async function readFileFromLayers(
  layers: readonly LayerView[],
  file: string,
  opts: { maxBytes?: number } = {},
): Promise<Buffer | undefined> {
  const found = await lookup(layers, file);
  if (found === undefined || !found.stat.isFile()) return undefined;
  const max = opts.maxBytes ?? 16 * 1024 * 1024;
  if (found.stat.size > max) return undefined;
  return fsp.readFile(found.path);
}

interface Found {
  path: string;
  stat: Stats;
}

async function lookup(layers: readonly LayerView[], file: string): Promise<Found | undefined> {
  let pending = file.split('/');
  let links = 0;
  restart: for (;;) {
    const resolved: string[] = [];
    let visible = layers.map((_, i) => i); // layers in which the directory `resolved` is a real, visible dir
    while (pending.length > 0) {
      const c = pending.shift()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        resolved.pop();
        pending = [...resolved, ...pending];
        continue restart;
      }
      const rel = [...resolved, c].join('/');
      const top = await topmost(layers, visible, rel);
      if (top === undefined) return undefined;
      if (top.stat.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) return undefined;
        const target = await fsp.readlink(top.path);
        pending = [...(target.startsWith('/') ? [] : resolved), ...target.split('/'), ...pending];
        continue restart;
      }
      if (pending.length === 0) return top;
      if (!top.stat.isDirectory()) return undefined;
      visible = top.below;
      resolved.push(c);
    }
    // The path named the root itself.
    return undefined;
  }
}

/**
 * The topmost visible entry for `rel`, and, when it is a directory, the layers in which that directory continues
 * (it and the lower layers where it is also a directory, down to the first opaque one).
 */
async function topmost(
  layers: readonly LayerView[],
  visible: readonly number[],
  rel: string,
): Promise<(Found & { below: number[] }) | undefined> {
  let top: Found | undefined;
  const below: number[] = [];
  for (const i of visible) {
    const layer = layers[i]!;
    const p = path.join(layer.dir, rel);
    let st: Stats;
    try {
      st = await fsp.lstat(p);
    } catch {
      continue;
    }
    const whiteout = st.isCharacterDevice() && st.rdev === 0;
    if (top === undefined) {
      if (whiteout) return undefined;
      top = { path: p, stat: st };
      if (!st.isDirectory()) return { ...top, below };
    } else if (whiteout || !st.isDirectory()) {
      break;
    }
    below.push(i);
    if (layer.opaque.has(rel)) break;
  }
  return top === undefined ? undefined : { ...top, below };
}
