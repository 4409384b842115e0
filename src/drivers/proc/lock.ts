import fs from 'node:fs';
import path from 'node:path';
import { UnavailableError } from '../../core/errors.ts';
import type { ProcessIdentity } from '../../core/process.ts';
import { identify, isAlive } from './process.ts';

/*
 * A lock between processes that knows its holder: the lock is a directory at `file` holding one empty file named
 * after the holder, `<pid>-<start time>`. It is never broken while that process lives, however long it holds the
 * lock, and is taken at once when it is dead (a pid recycled by another process does not count: its start time
 * differs). Within one process the lock is not re-entrant: a second `withLock` on the same file waits.
 *
 * Why a directory and a name: a holder takes the lock by renaming a directory it prepared (with its name inside)
 * onto `file`, which the kernel does atomically and only while `file` is missing or empty; a waiter that finds a
 * dead holder deletes that holder's file by its name (never anyone else's) and then the empty directory, so two
 * waiters breaking the same dead lock can never remove a live one.
 */

/** How long to wait, and (for tests) who takes the lock and how a holder is known to live. */
export interface LockOptions {
  /** How long to wait for a live holder before UnavailableError. Default 30 s. */
  timeoutMs?: number;
  /** Who takes the lock (default: this process). For tests. */
  self?: ProcessIdentity;
  /** Whether a holder still runs (default: pid and start time, from /proc). For tests. */
  alive?: (holder: ProcessIdentity) => boolean;
}

/** Runs `fn` while holding the lock at `file`, and releases it after, also when `fn` throws. */
export async function withLock<T>(file: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const release = await acquireLock(file, opts);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Waits for the lock at `file` and takes it; returns its release. */
export async function acquireLock(file: string, opts: LockOptions = {}): Promise<() => void> {
  const self = opts.self ?? selfIdentity();
  const alive = opts.alive ?? isAlive;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const mine = holderName(self);
  sweepPrepared(file, alive);
  // The directory to rename onto `file`, with our name in it (and in its own: a taker killed before it could
  // remove it leaves it to the next one).
  const ready = fs.mkdtempSync(`${file}.take-${mine}-`);
  fs.writeFileSync(path.join(ready, mine), '');
  try {
    for (let i = 0; ; i++) {
      try {
        fs.renameSync(ready, file);
        return () => release(file, mine);
      } catch (err) {
        if (!isTaken(err)) throw err;
      }
      const holder = lockHolder(file);
      if (holder && !alive(holder)) {
        breakLock(file, holder);
        continue;
      }
      if (Date.now() > deadline) {
        throw new UnavailableError(
          `timed out waiting for lock ${file}: held by process ${holder ? holder.pid : '(unknown)'}`,
        );
      }
      // Often released at once: look often at first.
      await new Promise((r) => setTimeout(r, i < 20 ? 5 : 25));
    }
  } finally {
    fs.rmSync(ready, { recursive: true, force: true });
  }
}

/** The process that holds the lock at `file`, if anyone does. */
export function lockHolder(file: string): ProcessIdentity | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(file);
  } catch {
    return undefined;
  }
  for (const n of names) {
    const m = /^(\d+)-(\d+)$/.exec(n);
    if (m) return { pid: Number(m[1]), startTime: Number(m[2]) };
  }
  return undefined;
}

/** Removes directories prepared for `file` by takers that died before they could use or remove them. */
function sweepPrepared(file: string, alive: (p: ProcessIdentity) => boolean): void {
  const prefix = `${path.basename(file)}.take-`;
  let names: string[];
  try {
    names = fs.readdirSync(path.dirname(file));
  } catch {
    return;
  }
  for (const n of names) {
    const m = n.startsWith(prefix) ? /^(\d+)-(\d+)-/.exec(n.slice(prefix.length)) : null;
    if (m && !alive({ pid: Number(m[1]), startTime: Number(m[2]) }))
      fs.rmSync(path.join(path.dirname(file), n), { recursive: true, force: true });
  }
}

function holderName(p: ProcessIdentity): string {
  return `${p.pid}-${p.startTime}`;
}

/** Removes a dead holder's name, then the directory if it is still empty (a new holder may have taken it). */
function breakLock(file: string, dead: ProcessIdentity): void {
  fs.rmSync(path.join(file, holderName(dead)), { force: true });
  try {
    fs.rmdirSync(file);
  } catch {
    // taken again, or broken by another waiter already
  }
}

function release(file: string, mine: string): void {
  fs.rmSync(path.join(file, mine), { force: true });
  try {
    fs.rmdirSync(file);
  } catch {
    // a waiter took it the moment our name went
  }
}

/** rename(2) onto a directory that is not empty: the lock is held. */
function isTaken(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOTEMPTY' || code === 'EEXIST';
}

let cached: ProcessIdentity | undefined;
function selfIdentity(): ProcessIdentity {
  cached ??= identify(process.pid) ?? { pid: process.pid, startTime: 0 };
  return cached;
}
