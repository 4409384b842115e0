import fs from 'node:fs';
import { InternalError } from '../../core/errors.ts';
import { fsFailure } from './fs-failure.ts';
import { O_CLOEXEC, O_DIRECTORY, O_PATH } from './open-flags.ts';
import { type DescriptorTable, Dir, type Node } from './pinned.ts';

/**
 * A directory tree reached only through the kernel, never by name from the host's root: a container's root
 * (`/proc/<pid>/root`, or its mounted root file system) or a host destination that a hostile tar is unpacked into.
 *
 * Node has no openat2(RESOLVE_IN_ROOT), so the same is done one component at a time. Every directory on the way is
 * pinned by an O_PATH descriptor, and the next component is looked up by the kernel in that directory through the
 * magic link `/proc/self/fd/<dir>/<name>` (the kernel resolves `/proc/self/fd/<dir>` to the open directory, not by
 * name, then looks up one name in it). Components are opened with O_NOFOLLOW, so a symbolic link is read, never
 * followed by the kernel: its target is resolved again by us, an absolute one from the root, ".." popping our own
 * stack of pinned directories and never above the root, at most 40 links. A container that swaps directories and
 * links while we walk can only make a lookup fail or find its own files: the walk never leaves the root.
 *
 * Operations on a final name (mkdir, symlink, link, unlink, rmdir, lchown, lutimes, readlink, mknod: Dir and Node
 * in pinned.ts) act on that name inside a pinned directory and never follow it; files are created with
 * O_CREAT|O_EXCL|O_NOFOLLOW; a file is opened for reading only after an O_PATH descriptor of it says it is a regular
 * file, by reopening that descriptor (so a FIFO or device planted meanwhile is never opened for I/O). Metadata goes
 * through descriptors: a real one for regular files and directories, the O_PATH magic link for device nodes and
 * FIFOs (no name lookup either way).
 *
 * Lifetime: `RootDir.open` pins the root; every descriptor opened below it is recorded and closed by `close()`
 * at the latest (long walks close theirs as they go). Calls are synchronous: each is one short system call, and a
 * walk has no state worth sharing with other work between them. Linux only (x86-64 and arm64 share O_PATH's value).
 */

/** Linux gives up after 40 symbolic links in one lookup; so do we, which also bounds hostile loops. */
const MAX_SYMLINKS = 40;

/**
 * What `resolve` gives: the directory holding the final name (undefined when the path named the root itself), that
 * name ('' for the root), the path inside the root after resolution (for messages and docker's stat), and the thing
 * itself when it exists. `release()` closes what the walk opened for it.
 */
export interface Resolved {
  parent: Dir | undefined;
  name: string;
  path: string;
  node: Node | undefined;
  release(): void;
}

/** A pinned directory with the pinned chain above it (dirs[0] is the root), so ".." from it needs no lookup. */
export interface DirChain {
  dirs: readonly Dir[];
  names: readonly string[];
}

export class RootDir implements DescriptorTable {
  /** Open descriptors, each with a token of its own: a number reused after a close gets another token. */
  readonly #open = new Map<number, object>();
  readonly root: Dir;
  /** How messages name this tree: `container web`, `destination /tmp/out`. */
  readonly label: string;

  private constructor(fd: number, label: string) {
    this.label = label;
    this.#open.set(fd, {});
    this.root = new Dir(this, fd, '/');
  }

  /** Pins `hostPath` (a directory, followed once: it is ours, e.g. /proc/<pid>/root) as the root. */
  static open(hostPath: string, label: string): RootDir {
    let fd: number;
    try {
      fd = fs.openSync(hostPath, O_PATH | O_DIRECTORY | O_CLOEXEC);
    } catch (err) {
      throw fsFailure(err, `${label}: cannot open its root`);
    }
    return new RootDir(fd, label);
  }

  /** Runs `fn` with the tree at `hostPath` open, and closes every descriptor it opened afterwards. */
  static async with<T>(hostPath: string, label: string, fn: (root: RootDir) => Promise<T>): Promise<T> {
    const root = RootDir.open(hostPath, label);
    try {
      return await fn(root);
    } finally {
      root.close();
    }
  }

  /** @internal Records a descriptor opened for this tree. */
  track(fd: number): number {
    this.#open.set(fd, {});
    return fd;
  }

  /**
   * @internal Throws unless `fd` is still the descriptor `token` was given for. A Dir or Node used after its
   * descriptor was closed must fail, never act on whatever a reused descriptor number now names.
   */
  check(fd: number, token: object | undefined): void {
    if (token === undefined || this.#open.get(fd) !== token)
      throw new InternalError(`${this.label}: a descriptor was used after it was closed`);
  }

  /** @internal The token of an open descriptor. */
  tokenOf(fd: number): object | undefined {
    return this.#open.get(fd);
  }

  /** @internal Closes one descriptor now. */
  release(fd: number): void {
    if (this.#open.delete(fd)) fs.closeSync(fd);
  }

  /** How many descriptors are open, the root's included (tests check that walks close theirs). */
  get openCount(): number {
    return this.#open.size;
  }

  close(): void {
    for (const fd of this.#open.keys()) fs.closeSync(fd);
    this.#open.clear();
  }

  /** The root as a chain, to resolve from. */
  get chain(): DirChain {
    return { dirs: [this.root], names: [] };
  }

  /**
   * Resolves `p` inside the root, from `from` (default: the root; an absolute path or link target starts at the
   * root either way): every directory on the way followed, the final component only with `follow` (a trailing "/"
   * or "/." is the caller's to turn into `follow`). A missing directory on the way is NotFound, or made (0755)
   * with `create`; one that is not a directory is "not a directory". A missing final name is no error: `node` is
   * undefined and `parent` is where it would be.
   */
  resolve(p: string, opts: { follow: boolean; create?: boolean; from?: DirChain }): Resolved {
    const w = this.#walk(p, { ...opts, asDir: false });
    if (w.final) return w.final;
    // The path named a directory itself: the root, or one reached through "." or "..".
    const { stack, names, opened } = w;
    const dir = stack[stack.length - 1]!;
    const parent = stack.length > 1 ? stack[stack.length - 2] : undefined;
    return this.#result(opened, parent, names.at(-1) ?? '', dir.self(opened.has(dir)), `/${names.join('/')}`);
  }

  /**
   * A directory that must exist (every component followed, made with `create`), as a chain to resolve further
   * from; `close()` releases what this walk pinned.
   */
  resolveDir(p: string, opts: { create?: boolean; from?: DirChain } = {}): DirChain & { close(): void } {
    const { stack, names, opened } = this.#walk(p, { ...opts, follow: true, asDir: true });
    return {
      dirs: stack,
      names,
      close: () => {
        for (const d of opened) d.close();
      },
    };
  }

  #walk(
    p: string,
    opts: { follow: boolean; create?: boolean; from?: DirChain; asDir: boolean },
  ): { stack: Dir[]; names: string[]; opened: Set<Dir>; final?: Resolved } {
    const from = opts.from ?? this.chain;
    const stack: Dir[] = [...from.dirs];
    const names: string[] = [...from.names];
    const opened = new Set<Dir>(); // directories this walk pinned: closed unless handed out
    const queue = p.split('/');
    let links = 0;
    const top = () => stack[stack.length - 1]!;
    const where = (n: string) => `/${[...names, n].join('/')}`;
    const fail = (code: string, n: string) => fsFailure(errno(code), `${this.label}: ${where(n)}`);
    try {
      for (;;) {
        const c = queue.shift();
        if (c === undefined) return { stack, names, opened };
        if (c === '' || c === '.') continue;
        if (c === '..') {
          if (stack.length > 1) {
            stack.pop();
            names.pop();
          }
          continue;
        }
        const last = !opts.asDir && queue.every((x) => x === '' || x === '.');
        let node = top().lookup(c);
        if (!node) {
          if (last)
            return { stack, names, opened, final: this.#result(opened, top(), c, undefined, where(c)) };
          if (!opts.create) throw fail('ENOENT', c);
          top().mkdirIfMissing(c, 0o755);
          node = top().lookup(c);
          if (!node) throw fail('ENOENT', c);
        }
        if (node.kind === 'symlink' && (!last || opts.follow)) {
          node.close();
          if (++links > MAX_SYMLINKS) throw fail('ELOOP', c);
          const target = top().readlinkIfLink(c);
          if (target === undefined) {
            queue.unshift(c); // no longer a link (swapped meanwhile): look again
            continue;
          }
          if (target.startsWith('/')) {
            stack.length = 1;
            stack[0] = this.root;
            names.length = 0;
          }
          queue.unshift(...target.split('/'));
          continue;
        }
        if (last) return { stack, names, opened, final: this.#result(opened, top(), c, node, where(c)) };
        if (node.kind !== 'dir') {
          node.close();
          throw fail('ENOTDIR', c);
        }
        const dir = node.asDir(where(c));
        opened.add(dir);
        stack.push(dir);
        names.push(c);
      }
    } catch (err) {
      for (const d of opened) d.close();
      throw err;
    }
  }

  /** A walk's answer: what it pinned and does not hand out is closed now, the rest by `release()`. */
  #result(
    opened: Set<Dir>,
    parent: Dir | undefined,
    name: string,
    node: Node | undefined,
    path: string,
  ): Resolved {
    for (const d of opened) if (d !== parent && d.fd !== node?.fd) d.close();
    return {
      parent,
      name,
      path: path === '' ? '/' : path,
      node,
      release: () => {
        node?.close();
        if (parent && opened.has(parent)) parent.close();
      },
    };
  }

  /** Reads a small regular file, following links inside the root; undefined when it is absent or not a file. */
  readFile(p: string, opts: { maxBytes: number }): Buffer | undefined {
    let r: Resolved;
    try {
      r = this.resolve(p, { follow: true });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'NotFound' || code === 'InvalidArgument') return undefined;
      throw err;
    }
    try {
      if (r.node?.kind !== 'file' || r.node.stat.size > opts.maxBytes) return undefined;
      const fd = r.node.openRead();
      try {
        return fs.readFileSync(fd);
      } finally {
        this.release(fd);
      }
    } finally {
      r.release();
    }
  }
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}
