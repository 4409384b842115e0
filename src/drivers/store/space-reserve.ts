import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * What the reserve holds: room for SQLite to open the store (32 KiB of -shm index) and commit the removals of a
 * whole `system prune` with the WAL checkpointed every 32 pages (measured by test/full-disk.test.ts).
 */
export const SPACE_RESERVE_BYTES = 1024 * 1024;

/** Bytes a file system has free for this process. */
export type FreeBytes = (dir: string) => number;

/** statfs: root may write into the blocks ext4 keeps for root (`f_bfree`), others only `f_bavail`. */
export const statfsFree: FreeBytes = (dir) => {
  const s = fs.statfsSync(dir);
  return (process.getuid?.() === 0 ? s.bfree : s.bavail) * s.bsize;
};

/**
 * A file of zeros that the state root keeps on its own file system, so that a full disk can still be freed: the
 * moment a write finds the disk (nearly) full, the reserve is deleted and its space goes to SQLite (the WAL's
 * 32 KiB shared-memory index, the frames that commit a deletion) and to the files a removal writes; it is made
 * again once there is room. It is only ever deleted or topped up, never read: losing it loses nothing. Its bytes
 * are random, not zeros, so that a compressing file system (btrfs, ZFS) really sets them aside.
 */
export class SpaceReserve {
  readonly file: string;
  /** The size it is kept at. */
  readonly bytes: number;
  readonly #free: FreeBytes;

  constructor(opts: { file: string; bytes: number; freeBytes?: FreeBytes }) {
    this.file = opts.file;
    this.bytes = opts.bytes;
    this.#free = opts.freeBytes ?? statfsFree;
  }

  /** Bytes free on the file system that holds the reserve. */
  free(): number {
    return this.#free(path.dirname(this.file));
  }

  /** Bytes the reserve holds now (0 when it was released). */
  held(): number {
    try {
      return fs.statSync(this.file).size;
    } catch {
      return 0;
    }
  }

  /** Gives the reserve's space back to the file system; returns the bytes released. */
  release(): number {
    const held = this.held();
    fs.rmSync(this.file, { force: true });
    return held;
  }

  /** Tops the reserve up to `upTo` (its size) with what the file system has; returns the bytes held afterwards. */
  refill(upTo = this.bytes): number {
    const target = Math.min(upTo, this.bytes);
    let held = this.held();
    if (held >= target) return held;
    const chunk = Buffer.alloc(Math.min(64 * 1024, this.bytes));
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'a', 0o600);
    } catch {
      return held;
    }
    try {
      while (held < target) {
        randomFillSync(chunk);
        const n = fs.writeSync(fd, chunk, 0, Math.min(chunk.length, target - held));
        if (n <= 0) break;
        held += n;
      }
    } catch {
      // Full (ENOSPC): keep what was written; the next refill goes on from there.
    } finally {
      fs.closeSync(fd);
    }
    return this.held();
  }
}
