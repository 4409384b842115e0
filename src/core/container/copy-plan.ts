import path from 'node:path';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.ts';

/**
 * docker's `cp` semantics as a plan: from what the source and the destination are, where to unpack and what the
 * source's top entry is called there, or docker's refusal in docker's words. Both directions and both transports
 * use it (the in-process engine and the daemon's client), as docker's CLI does with moby's pkg/archive/copy.go.
 *
 * Compared side by side with Debian's dockerd 20.10 and docker CLI 28 (see test/cp-semantics.test.ts):
 * - SRC a file: DEST missing -> a file DEST; DEST missing with a trailing "/" -> "no such directory"; DEST a file ->
 *   overwritten; DEST a directory -> DEST/<base of SRC>, refused when that is a directory ("cannot overwrite
 *   directory ... with non-directory ...", the unpacker's rule).
 * - SRC a directory: DEST missing -> DEST made with SRC's contents; DEST a file -> "cannot copy directory"; DEST a
 *   directory -> DEST/<base of SRC>, or SRC's contents merged into DEST when SRC ends with "/.".
 * - A link as DEST is followed (a dangling one: its target is created); as SRC it is copied as a link, unless
 *   `-L` (followed, the copy keeps the link's name) or a trailing "/" or "/." (followed, as the kernel would).
 */

/** A side of the copy after its links were looked at: its path and whether it exists and is a directory. */
export interface CopySource {
  path: string;
  isDir: boolean;
  /** The name the copy takes instead of the source's base name (`-L`: the link's own name). */
  rebaseName?: string;
}

export interface CopyDest {
  path: string;
  exists: boolean;
  isDir: boolean;
}

/** Unpack into the directory `dir`, the source's top entry named `name` ('.': its contents, merged). */
export interface CopyPlan {
  dir: string;
  name: string;
}

export function planCopy(src: CopySource, dst: CopyDest): CopyPlan {
  const { dir: dstDir, base: dstBase } = splitPathDirEntry(dst.path);
  const srcBase = src.rebaseName || splitPathDirEntry(src.path).base;
  if (dst.exists && dst.isDir) return { dir: goClean(dst.path), name: srcBase };
  if (dst.exists && src.isDir) throw new ConflictError('cannot copy directory');
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw new NotFoundError('no such directory');
  return { dir: dstDir, name: dstBase };
}

/**
 * `-L` on a source that is a link: the path to ask for instead (its target, absolute, as docker's stat gives it,
 * with the source's trailing "/" or "/." kept) and the name the copy keeps (docker's GetRebaseName).
 */
export function followedSource(p: string, linkTarget: string): { path: string; rebaseName?: string } {
  let target = path.posix.isAbsolute(linkTarget)
    ? linkTarget
    : path.posix.join(splitPathDirEntry(p).dir, linkTarget);
  if (specifiesCurrentDir(p) && !specifiesCurrentDir(target)) target += '/.';
  if (p.endsWith('/') && !target.endsWith('/')) target += '/';
  const base = path.posix.basename(p);
  return path.posix.basename(target) === base ? { path: target } : { path: target, rebaseName: base };
}

/** docker's SplitPathDirEntry: the cleaned directory and base name, a trailing "/." kept as the base ".". */
export function splitPathDirEntry(p: string): { dir: string; base: string } {
  let cleaned = goClean(p);
  if (specifiesCurrentDir(p)) cleaned = cleaned === '/' ? '/.' : `${cleaned}/.`;
  const base = path.posix.basename(cleaned);
  return { dir: path.posix.dirname(cleaned), base: base === '' ? '/' : base };
}

/** A path that says it is a directory: ends with "/" or "/.". */
export function assertsDirectory(p: string): boolean {
  return p.endsWith('/') || specifiesCurrentDir(p);
}

function specifiesCurrentDir(p: string): boolean {
  return path.posix.basename(p) === '.';
}

/** Go's filepath.Clean for absolute or relative POSIX paths (no trailing "/" but on the root). */
export function goClean(p: string): string {
  if (p === '') return '.';
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** moby's PreserveTrailingDotOrSeparator: `cleaned` with the "/." or "/" that `original` ended with. */
export function preserveTrailing(cleaned: string, original: string): string {
  let out = cleaned;
  if (!specifiesCurrentDir(out) && specifiesCurrentDir(original))
    out = `${out.endsWith('/') ? out : `${out}/`}.`;
  if (!out.endsWith('/') && original.endsWith('/')) out += '/';
  return out;
}

/** A path inside a container as docker takes it: relative to its root, with a trailing "/" or "/." kept. */
export function containerPath(p: string): string {
  if (p.includes('\0')) throw new InvalidArgumentError(`invalid path ${JSON.stringify(p)}: it contains NUL`);
  return preserveTrailing(goClean(path.posix.join('/', p)), p);
}

/** The kinds docker's stat tells apart (Go's os.FileMode type bits). */
export type PathKind = 'dir' | 'file' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

const MODE_BITS: Record<PathKind, number> = {
  dir: 2 ** 31,
  symlink: 2 ** 27,
  block: 2 ** 26,
  fifo: 2 ** 25,
  socket: 2 ** 24,
  char: 2 ** 26 + 2 ** 21, // os.ModeDevice | os.ModeCharDevice
  file: 0,
};

/**
 * Go's os.FileMode of a path for `X-Docker-Container-Path-Stat`: permission bits, set-id and sticky bits, and the
 * type bits. Added, not OR'ed: JavaScript's bitwise operators are 32-bit signed and 1<<31 would turn negative.
 */
export function goFileMode(kind: PathKind, mode: number): number {
  const extra = (mode & 0o4000 ? 2 ** 23 : 0) + (mode & 0o2000 ? 2 ** 22 : 0) + (mode & 0o1000 ? 2 ** 20 : 0);
  return MODE_BITS[kind] + extra + (mode & 0o777);
}

/** The kind back from a Go os.FileMode (what the daemon's stat header says). */
export function kindOfGoMode(mode: number): PathKind {
  if (mode >= 2 ** 31) return 'dir';
  const m = mode % 2 ** 31;
  if (Math.floor(m / 2 ** 27) % 2) return 'symlink';
  if (Math.floor(m / 2 ** 26) % 2) return Math.floor(m / 2 ** 21) % 2 ? 'char' : 'block';
  if (Math.floor(m / 2 ** 25) % 2) return 'fifo';
  if (Math.floor(m / 2 ** 24) % 2) return 'socket';
  return 'file';
}
