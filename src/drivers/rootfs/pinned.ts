import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { InternalError } from '../../core/errors.ts';
import { fsFailure } from './fs-failure.ts';
import {
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  O_WRONLY,
} from './open-flags.ts';

/**
 * Directories and other things of a tree reached through the kernel (see in-root.ts), each pinned by an O_PATH
 * descriptor, and the operations on one name inside a pinned directory: none follows that name.
 */

/**
 * The tree's record of its open descriptors (RootDir, in-root.ts): what a Dir or Node needs of it, so that they
 * know their tree without importing it.
 */
export interface DescriptorTable {
  /** How messages name this tree: `container web`, `destination /tmp/out`. */
  readonly label: string;
  /** The root directory: never closed but with the tree. */
  readonly root: Dir;
  /** Records a descriptor opened for this tree. */
  track(fd: number): number;
  /** Throws unless `fd` is still the descriptor `token` was given for. */
  check(fd: number, token: object | undefined): void;
  /** The token of an open descriptor. */
  tokenOf(fd: number): object | undefined;
  /** Closes one descriptor now. */
  release(fd: number): void;
}

export type FileKind = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

function kindOf(st: fs.Stats): FileKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

/** A directory of the tree, pinned by an O_PATH descriptor. */
export class Dir {
  readonly #tree: DescriptorTable;
  readonly #token: object | undefined;
  /** Its path inside the root, for messages. */
  readonly path: string;

  constructor(tree: DescriptorTable, fd: number, path: string) {
    this.#tree = tree;
    this.#fd = fd;
    this.#token = tree.tokenOf(fd);
    this.path = path;
  }

  readonly #fd: number;

  /** The descriptor, checked to be still open (and still this directory's). */
  get fd(): number {
    this.#tree.check(this.#fd, this.#token);
    return this.#fd;
  }

  get tree(): DescriptorTable {
    return this.#tree;
  }

  /** `/proc/self/fd/<dir>/<name>`: the kernel looks `name` up in this directory, whatever its path is now. */
  at(name: string): string {
    checkName(name);
    return `/proc/self/fd/${this.fd}/${name}`;
  }

  #where(name: string): string {
    return `${this.#tree.label}: ${this.path === '/' ? '' : this.path}/${name}`;
  }

  /** The thing called `name` here, not followed; undefined when there is none. */
  lookup(name: string): Node | undefined {
    let fd: number;
    try {
      fd = fs.openSync(this.at(name), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fsFailure(err, this.#where(name));
    }
    this.#tree.track(fd);
    try {
      return new Node(this.#tree, fd, fs.fstatSync(fd), this, name);
    } catch (err) {
      this.#tree.release(fd);
      throw fsFailure(err, this.#where(name));
    }
  }

  /** A Node for this directory itself; with `owned`, closing the Node closes the directory too. */
  self(owned: boolean): Node {
    return new Node(this.#tree, this.fd, fs.fstatSync(this.fd), undefined, '', this, !owned);
  }

  /** The names in this directory, sorted (so the same tree gives the same tar). */
  names(): string[] {
    try {
      return fs.readdirSync(`/proc/self/fd/${this.fd}`).sort();
    } catch (err) {
      throw fsFailure(err, `${this.#tree.label}: ${this.path}`);
    }
  }

  readlink(name: string): string {
    return this.#call(name, () => fs.readlinkSync(this.at(name)));
  }

  /**
   * readlink, or undefined when `name` is no link any more (EINVAL: swapped meanwhile). A link that cannot be read
   * (gone meanwhile, or /proc/self seen from outside its PID namespace) is "no such file".
   */
  readlinkIfLink(name: string): string | undefined {
    try {
      return fs.readlinkSync(this.at(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
      throw fsFailure(err, this.#where(name));
    }
  }

  mkdir(name: string, mode: number): void {
    this.#call(name, () => fs.mkdirSync(this.at(name), { mode }));
  }

  /** mkdir that accepts losing a race to another creator (whatever is there is then looked at by the caller). */
  mkdirIfMissing(name: string, mode: number): void {
    try {
      fs.mkdirSync(this.at(name), { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fsFailure(err, this.#where(name));
    }
  }

  symlink(target: string, name: string): void {
    this.#call(name, () => fs.symlinkSync(target, this.at(name)));
  }

  /** A hard link `name` here to `fromName` in `from` (link(2) never follows either name). */
  link(from: Dir, fromName: string, name: string): void {
    this.#call(name, () => fs.linkSync(from.at(fromName), this.at(name)));
  }

  unlink(name: string): void {
    this.#call(name, () => fs.unlinkSync(this.at(name)));
  }

  /** Removes whatever is called `name` here, a directory with everything below it; never follows a link. */
  removeAll(name: string): void {
    const node = this.lookup(name);
    if (!node) return;
    if (node.kind !== 'dir') {
      node.close();
      this.#call(name, () => fs.unlinkSync(this.at(name)));
      return;
    }
    const dir = node.asDir(`${this.path === '/' ? '' : this.path}/${name}`);
    try {
      for (const child of dir.names()) dir.removeAll(child);
    } finally {
      dir.close();
    }
    this.#call(name, () => fs.rmdirSync(this.at(name)));
  }

  /** A new regular file (never an existing one, never through a link), open for writing: a real descriptor. */
  createFile(name: string, mode: number): number {
    const fd = this.#call(name, () =>
      fs.openSync(this.at(name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode),
    );
    return this.#tree.track(fd);
  }

  /** A device node or FIFO: Node has no mknod(2), so coreutils' mknod makes it through our descriptor. */
  mknod(name: string, spec: { type: 'c' | 'b' | 'p'; major: number; minor: number }): Promise<void> {
    // The child reaches our descriptor through /proc/<our pid>/fd; mknod never follows the final name.
    checkName(name);
    const target = `/proc/${process.pid}/fd/${this.fd}/${name}`;
    const args =
      spec.type === 'p'
        ? ['--', target, 'p']
        : ['--', target, spec.type, String(spec.major), String(spec.minor)];
    return new Promise((resolve, reject) => {
      const child = spawn('mknod', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < 2048) stderr += d;
      });
      child.on('error', (err) => reject(fsFailure(err, `${this.#where(name)}: mknod`)));
      child.on('close', (code) => {
        if (code === 0) resolve();
        else
          reject(
            new InternalError(
              `${this.#where(name)}: mknod failed (exit ${code}): ${stderr.replaceAll(target, name).trim()}`,
            ),
          );
      });
    });
  }

  lchown(name: string, uid: number, gid: number): void {
    this.#call(name, () => fs.lchownSync(this.at(name), uid, gid));
  }

  lutimes(name: string, mtime: Date): void {
    this.#call(name, () => fs.lutimesSync(this.at(name), mtime, mtime));
  }

  close(): void {
    if (this !== this.#tree.root && this.#tree.tokenOf(this.#fd) === this.#token)
      this.#tree.release(this.#fd);
  }

  #call<T>(name: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw fsFailure(err, this.#where(name));
    }
  }
}

/** One thing in the tree, pinned by an O_PATH descriptor, with what fstat said of it. */
export class Node {
  readonly #tree: DescriptorTable;
  readonly #fd: number;
  readonly #token: object | undefined;
  readonly stat: fs.Stats;
  readonly kind: FileKind;
  /** The directory it was found in and its name there (undefined for a directory's `self()`). */
  readonly parent: Dir | undefined;
  readonly name: string;
  readonly #dir: Dir | undefined;
  readonly #borrowed: boolean;

  constructor(
    tree: DescriptorTable,
    fd: number,
    stat: fs.Stats,
    parent: Dir | undefined,
    name: string,
    dir?: Dir,
    borrowed = false,
  ) {
    this.#tree = tree;
    this.#fd = fd;
    this.#token = tree.tokenOf(fd);
    this.stat = stat;
    this.kind = kindOf(stat);
    this.parent = parent;
    this.name = name;
    this.#dir = dir;
    this.#borrowed = borrowed;
  }

  get tree(): DescriptorTable {
    return this.#tree;
  }

  /** The O_PATH descriptor, checked to be still open (and still this thing's). */
  get fd(): number {
    this.#tree.check(this.#fd, this.#token);
    return this.#fd;
  }

  /** This directory as a Dir (the same descriptor). */
  asDir(path?: string): Dir {
    if (this.kind !== 'dir') throw new InternalError(`not a directory: ${this.name}`);
    if (this.#dir) return this.#dir;
    const parentPath = this.parent ? this.parent.path : '';
    return new Dir(this.#tree, this.fd, path ?? `${parentPath === '/' ? '' : parentPath}/${this.name}`);
  }

  /**
   * A real descriptor for reading this regular file: the O_PATH descriptor reopened, so it is the inode fstat
   * described (never a FIFO or device swapped in by name). The caller releases it through the tree.
   */
  openRead(): number {
    if (this.kind !== 'file') throw new InternalError(`not a regular file: ${this.name}`);
    let fd: number;
    try {
      fd = fs.openSync(`/proc/self/fd/${this.fd}`, O_RDONLY | O_CLOEXEC);
    } catch (err) {
      throw fsFailure(err, `${this.#tree.label}: ${this.name}`);
    }
    return this.#tree.track(fd);
  }

  /**
   * Sets owner (when given), mode and mtime on this very inode: through a real descriptor for directories, through
   * the O_PATH magic link for devices and FIFOs (opening those could block or act), lchown/lutimes by name in the
   * pinned parent for symbolic links (whose mode Linux ignores). Owner first: chown clears set-id bits.
   */
  setMeta(meta: { uid?: number; gid?: number; mode: number; mtime: Date }): void {
    const what = `${this.#tree.label}: ${this.name || '/'}`;
    try {
      if (this.kind === 'symlink') {
        if (!this.parent) return;
        if (meta.uid !== undefined) this.parent.lchown(this.name, meta.uid, meta.gid ?? 0);
        this.parent.lutimes(this.name, meta.mtime);
        return;
      }
      if (this.kind === 'dir' || this.kind === 'file') {
        const fd = fs.openSync(
          `/proc/self/fd/${this.fd}`,
          (this.kind === 'dir' ? O_DIRECTORY : 0) | O_RDONLY | O_NONBLOCK | O_CLOEXEC,
        );
        try {
          if (meta.uid !== undefined) fs.fchownSync(fd, meta.uid, meta.gid ?? 0);
          fs.fchmodSync(fd, meta.mode);
          fs.futimesSync(fd, meta.mtime, meta.mtime);
        } finally {
          fs.closeSync(fd);
        }
        return;
      }
      const magic = `/proc/self/fd/${this.fd}`;
      if (meta.uid !== undefined) fs.chownSync(magic, meta.uid, meta.gid ?? 0);
      fs.chmodSync(magic, meta.mode);
      fs.utimesSync(magic, meta.mtime, meta.mtime);
    } catch (err) {
      throw fsFailure(err, what);
    }
  }

  close(): void {
    if (this.#borrowed) return;
    if (this.#dir) this.#dir.close();
    else if (this.#tree.tokenOf(this.#fd) === this.#token) this.#tree.release(this.#fd);
  }
}

function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0'))
    throw new InternalError(`not one path component: ${JSON.stringify(name)}`);
}
