import { ResourceExhaustedError } from './errors.ts';
import { shortBinarySize } from './human.ts';

/**
 * A full file system under the state root, said once and the same way everywhere: which path could not be
 * written and what the user can remove to get space back. Raw errors arrive in three shapes: Node's (`code`
 * ENOSPC or EDQUOT, often a `path`), SQLite's (node:sqlite's ERR_SQLITE_ERROR with `errcode` SQLITE_FULL, or
 * SQLITE_IOERR_SHMSIZE when even the 32 KiB shared-memory index of the WAL cannot be made: "disk I/O error"),
 * and a tool's text (runc, mount) wrapped by a driver with the raw error as `cause`.
 */

/** What frees space, in the order a user would try it. */
export const FREE_SPACE_HINT =
  'free space with `hyperbox system prune`, `hyperbox rm`, `hyperbox rmi` or `hyperbox volume rm` (`hyperbox system df` shows what uses it)';

const SQLITE_FULL = 13;
/** SQLITE_IOERR | 19 << 8: the -shm file could not be grown (unix VFS: a write into a new page failed). */
const SQLITE_IOERR_SHMSIZE = 4874;

/** Where the state lives, to name a path when the error itself has none. */
export interface DiskFullContext {
  /** The state root (named when a write through a file descriptor failed). */
  root: string;
  /** The metadata database (named for SQLite's errors). */
  db: string;
}

/**
 * The error a user sees. With `freeBytes` (an operation refused before it began): what the path has free and how
 * much of that is kept for removals; without (a write that failed): the path that could not be written.
 */
export function diskFullError(opts: {
  path: string;
  /** What was being done, e.g. "cannot create container web". */
  action?: string;
  freeBytes?: number;
  /** Bytes of `freeBytes` kept back for removals (the space reserve released for SQLite). */
  keptBytes?: number;
  cause?: unknown;
}): ResourceExhaustedError {
  const action = opts.action ? `${opts.action}: ` : '';
  let where = `cannot write ${opts.path}`;
  if (opts.freeBytes !== undefined) {
    const free = Math.max(0, opts.freeBytes);
    const kept = Math.min(free, Math.max(0, opts.keptBytes ?? 0));
    const keptText =
      kept === 0
        ? ''
        : kept === free
          ? ', all of it kept for removals'
          : `, ${shortBinarySize(kept)} of it kept for removals`;
    where = `${opts.path} has ${shortBinarySize(free)} free${keptText}`;
  }
  return new ResourceExhaustedError(
    `no space left on device: ${action}${where}: ${FREE_SPACE_HINT}`,
    opts.cause === undefined ? undefined : { cause: opts.cause },
  );
}

/** Whether `err` (or an error it wraps) says the disk is full; the raw error found, for its path. */
export function findDiskFull(err: unknown): { raw: unknown; path?: string; sqlite: boolean } | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const x = e as Error & { code?: unknown; errcode?: unknown; path?: unknown; dest?: unknown };
    if (x.code === 'ENOSPC' || x.code === 'EDQUOT') {
      const path = typeof x.path === 'string' ? x.path : typeof x.dest === 'string' ? x.dest : undefined;
      return { raw: e, sqlite: false, ...(path ? { path } : {}) };
    }
    if (x.code === 'ERR_SQLITE_ERROR' && typeof x.errcode === 'number') {
      if ((x.errcode & 0xff) === SQLITE_FULL || x.errcode === SQLITE_IOERR_SHMSIZE)
        return { raw: e, sqlite: true };
    }
  }
  return undefined;
}

/** The disk-full error for `err` when it is one (undefined otherwise), naming its path or the context's. */
export function asDiskFullError(err: unknown, ctx?: DiskFullContext): ResourceExhaustedError | undefined {
  if (err instanceof ResourceExhaustedError) return err;
  const found = findDiskFull(err);
  if (!found) return undefined;
  const path =
    found.path ?? (found.sqlite ? ctx?.db : ctx?.root && `under ${ctx.root}`) ?? 'under the state root';
  // What the wrapper said it was doing, without the raw "ENOSPC: no space left on device, write" it repeats.
  let action: string | undefined;
  if (err instanceof Error && err !== found.raw) {
    const raw = (found.raw as Error).message;
    action =
      err.message
        .replace(`: ${raw}`, '')
        .replace(raw, '')
        .replace(/[:\s]+$/, '') || undefined;
  }
  return diskFullError({ path, ...(action ? { action } : {}), cause: err });
}
