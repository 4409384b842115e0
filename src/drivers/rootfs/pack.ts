import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Header, Pack } from 'tar-stream';
import { HyperboxError, InternalError } from '../../core/errors.ts';
import type { Dir, Node } from './pinned.ts';

/**
 * A tar of one thing in a tree reached through descriptors (see in-root.ts), as docker's archive API gives it: the
 * top entry is called `name` ('.' for a directory's contents: `./`, `./a`...), below it every entry by its path.
 * Nothing is followed: links are written as links, each child is looked up O_PATH|O_NOFOLLOW in its pinned parent
 * and a file's content is read through its own descriptor only when fstat said it is a regular file, so a tree that
 * changes while it is read yields its own files or a failure, never a host file. Kept: modes, owners, mtimes, hard
 * links (a second name of an inode is a link entry), devices and FIFOs; sockets are skipped, as tar does, and so
 * are links that cannot be read (gone meanwhile; /proc/self seen from outside its PID namespace). A mount of a
 * kernel view below the top (a running container's /proc, /sys, cgroups) is an empty directory in the tar.
 * Descriptors are closed as the walk leaves each directory; `node` itself stays the caller's.
 */
export async function packNode(node: Node, name: string): Promise<Readable> {
  const { pack } = await import('../layers/tar-stream.ts');
  const p = pack();
  const links = new Map<string, string>(); // dev:ino -> first entry name
  void emit(p, node, name, links).then(
    () => p.finalize(),
    (err: unknown) => p.destroy(err as Error),
  );
  return p as unknown as Readable;
}

async function emit(
  p: Pack,
  node: Node,
  name: string,
  links: Map<string, string>,
  parentDev?: number,
): Promise<void> {
  const st = node.stat;
  const header: Partial<Header> & { name: string } = {
    name,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: st.mtime,
  };
  if (node.kind !== 'dir' && st.nlink > 1) {
    const key = `${st.dev}:${st.ino}`;
    const first = links.get(key);
    if (first !== undefined) return entry(p, { ...header, type: 'link', linkname: first, size: 0 });
    links.set(key, name);
  }
  switch (node.kind) {
    case 'dir': {
      await entry(p, { ...header, type: 'directory' });
      if (parentDev !== undefined && st.dev !== parentDev && isPseudoFs(node)) return;
      const dir = node.asDir();
      for (const child of dir.names()) {
        const c = dir.lookup(child);
        if (!c) continue; // gone meanwhile
        try {
          await emit(
            p,
            c,
            name === '' || name.endsWith('/') ? `${name}${child}` : `${name}/${child}`,
            links,
            st.dev,
          );
        } finally {
          c.close();
        }
      }
      return;
    }
    case 'file':
      return fileEntry(p, node, header);
    case 'symlink': {
      const linkname = linkTarget(node);
      // Gone meanwhile, or a link only its own PID namespace can read (/proc/self seen from outside): skipped.
      if (linkname === undefined) return;
      return entry(p, { ...header, type: 'symlink', linkname });
    }
    case 'char':
    case 'block':
      return entry(p, {
        ...header,
        type: node.kind === 'char' ? 'character-device' : 'block-device',
        devmajor: major(st.rdev),
        devminor: minor(st.rdev),
      });
    case 'fifo':
      return entry(p, { ...header, type: 'fifo' });
    case 'socket':
      return;
  }
}

function linkTarget(node: Node): string | undefined {
  const parent: Dir | undefined = node.parent;
  if (!parent) throw new InternalError('a symbolic link without a directory');
  try {
    return parent.readlink(node.name);
  } catch (err) {
    if (err instanceof HyperboxError && err.code === 'NotFound') return undefined;
    throw err;
  }
}

/** statfs magic numbers of the kernel's views (linux/magic.h): their files are not files to copy. */
const PSEUDO_FS = new Set([
  0x9fa0 /* proc */, 0x62656572 /* sysfs */, 0x73636673 /* securityfs */, 0x63677270 /* cgroup2 */,
  0x27e0eb /* cgroup */, 0x64626720 /* debugfs */, 0x74726163 /* tracefs */,
]);

/**
 * A mount point of a kernel view (a running container's /proc, /sys, its cgroups): kept as an empty directory, as
 * its contents are the kernel's (/proc/kcore alone claims terabytes), not the container's files.
 */
function isPseudoFs(node: Node): boolean {
  try {
    return PSEUDO_FS.has(Number(fs.statfsSync(`/proc/self/fd/${node.fd}`).type));
  } catch {
    return false;
  }
}

/** Exactly the size fstat gave: a file that shrinks meanwhile fails the tar rather than corrupting it. */
async function fileEntry(p: Pack, node: Node, header: Partial<Header> & { name: string }): Promise<void> {
  const size = node.stat.size;
  const fd = node.openRead();
  try {
    await new Promise<void>((resolve, reject) => {
      const sink = p.entry({ ...header, type: 'file', size }, (err) => (err ? reject(err) : resolve()));
      if (size === 0) {
        (sink as unknown as NodeJS.WritableStream).end();
        return;
      }
      const src = fs.createReadStream('', { fd, start: 0, end: size - 1, autoClose: false });
      pipeline(src, sink as unknown as NodeJS.WritableStream).catch(reject);
    });
  } finally {
    node.tree.release(fd);
  }
}

function entry(p: Pack, header: Partial<Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => p.entry(header, (err) => (err ? reject(err) : resolve())));
}

/** glibc's major()/minor() of a dev_t. */
function major(rdev: number): number {
  const d = BigInt(rdev);
  return Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
}
function minor(rdev: number): number {
  const d = BigInt(rdev);
  return Number((d & 0xffn) | ((d >> 12n) & 0xffffff00n));
}
