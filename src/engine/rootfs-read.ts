import fs from 'node:fs/promises';
import path from 'node:path';
import { resolveDirInRoot } from '../drivers/layers/scoped-path.ts';

/**
 * Reads a small text file of a container's root file system as the container would see it: symbolic links are
 * followed inside the root (an absolute target starts again at the root), never out of it. Undefined when absent.
 */
export async function readFileInRoot(root: string, file: string): Promise<string | undefined> {
  let rel = file;
  for (let hops = 0; hops < 40; hops++) {
    const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
    const base = parts.pop();
    if (base === undefined || base === '..') return undefined;
    const dir = await resolveDirInRoot(root, parts, { create: false, label: 'rootfs', entry: file });
    if (dir === undefined) return undefined;
    const p = path.join(dir, base);
    let st: import('node:fs').Stats;
    try {
      st = await fs.lstat(p);
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      const target = await fs.readlink(p);
      rel = target.startsWith('/') ? target : path.posix.join(path.relative(root, dir), target);
      continue;
    }
    if (!st.isFile()) return undefined;
    return fs.readFile(p, 'utf8');
  }
  return undefined;
}
