import fs from 'node:fs';
import path from 'node:path';

/** Bytes used below a directory (apparent sizes; does not follow symlinks). */
export function duSync(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(current, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) total += fs.lstatSync(p).size;
    }
  }
  return total;
}
