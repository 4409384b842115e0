import fs from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from '../../core/errors.ts';

/** Linux gives up after 40 symbolic links in one lookup; so do we, which also bounds hostile loops. */
const MAX_SYMLINKS = 40;

/**
 * Resolves directories inside `root` the way a chroot would: symbolic links are followed, but an absolute target
 * starts again at `root` and ".." stops at `root`, so no lookup can leave it (the idea of Go's securejoin).
 * Every returned component was lstat'ed as a real directory, so a caller that then creates, replaces or links the
 * final component (which is never followed) stays inside `root`, provided nobody else writes the tree meanwhile;
 * layers are unpacked into private temporary directories, so nobody does. That is its only use: it resolves in user
 * space and then hands out a path that is opened by name, which a tree someone else writes (a container's, a
 * volume) can race. Anything reaching into a container's tree goes through drivers/rootfs/ instead.
 */
export async function resolveDirInRoot(
  root: string,
  components: readonly string[],
  opts: { create: boolean; label: string; entry: string },
): Promise<string | undefined> {
  const stack: string[] = [];
  const queue = [...components];
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      stack.pop();
      continue;
    }
    const p = path.join(root, ...stack, c);
    let st: import('node:fs').Stats;
    try {
      st = await fs.lstat(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (!opts.create) return undefined;
      await fs.mkdir(p, { mode: 0o755 });
      stack.push(c);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) {
        throw new InvalidArgumentError(
          `layer ${opts.label}: entry ${JSON.stringify(opts.entry)}: too many levels of symbolic links`,
        );
      }
      const target = await fs.readlink(p);
      if (target.startsWith('/')) stack.length = 0;
      queue.unshift(...target.split('/'));
      continue;
    }
    if (!st.isDirectory()) {
      if (!opts.create) return undefined;
      throw new InvalidArgumentError(
        `layer ${opts.label}: entry ${JSON.stringify(opts.entry)}: ${JSON.stringify(path.join(...stack, c))} is not a directory`,
      );
    }
    stack.push(c);
  }
  return path.join(root, ...stack);
}

/** Throws when any directory between `root` and `target` (exclusive) is not a real directory. */
export async function assertNoSymlinkBetween(root: string, target: string): Promise<void> {
  const rel = path.relative(root, path.dirname(target));
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${target} is outside ${root}`);
  let p = root;
  for (const c of rel === '' ? [] : rel.split(path.sep)) {
    p = path.join(p, c);
    const st = await fs.lstat(p);
    if (!st.isDirectory()) throw new Error(`${p} is not a directory`);
  }
}
