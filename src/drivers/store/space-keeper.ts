import { diskFullError } from '../../core/disk-full.ts';
import type { SpaceReserve } from './space-reserve.ts';

/**
 * How the store behaves when its file system fills up. SQLite asks before it writes (the database's open, each
 * transaction); an operation that adds data (a container, an image, a volume) asks before it starts. Removals and
 * the records of what already happened (exits, reconcile) never ask: they must work on a full disk.
 */
export interface SpaceKeeper {
  /** Called before SQLite writes; true when space is short, so that the caller writes sparingly. */
  beforeWrite(): boolean;
  /** A write failed for want of space (another process took what was free): the reserve goes now. Bytes given. */
  giveBack(): number;
  /** Throws the disk-full error (naming `action` and the root) when the disk is full but for the reserve. */
  requireRoom(action: string): void;
  /** After a removal or the store's close gave space back: the reserve takes it first (as much as it lacks). */
  settle(): void;
}

/** No reserve, no checks: unit tests and tools that open a store for a moment. */
export const UNCHECKED_SPACE: SpaceKeeper = {
  beforeWrite: () => false,
  giveBack: () => 0,
  requireRoom: () => {},
  settle: () => {},
};

/** Below this much free space a write releases the reserve, and an operation that adds data is refused. */
export const LOW_WATER_BYTES = 256 * 1024;

/**
 * The policy over a SpaceReserve: a write that finds less than `lowWater` free releases the reserve first (SQLite
 * then has its room: the -shm index, WAL frames); after a removal or the store's close the reserve takes back
 * what is free but `lowWater`, and a write that finds room to spare makes it whole. Adding data is refused while
 * what is free, counting the reserve as whole, is below `lowWater`: the reserve's space is for removals and the
 * records of exits, never for the data that filled the disk.
 */
export class ReserveKeeper implements SpaceKeeper {
  readonly #reserve: SpaceReserve;
  readonly #root: string;
  readonly #lowWater: number;

  constructor(opts: { reserve: SpaceReserve; root: string; lowWater?: number }) {
    this.#reserve = opts.reserve;
    this.#root = opts.root;
    this.#lowWater = opts.lowWater ?? LOW_WATER_BYTES;
  }

  beforeWrite(): boolean {
    const free = this.#reserve.free();
    const held = this.#reserve.held();
    if (free < this.#lowWater) {
      if (held > 0) this.#reserve.release();
      return true;
    }
    // Before a write, only with room to spare: making the reserve must not make this very write short.
    if (held < this.#reserve.bytes && free - (this.#reserve.bytes - held) >= 2 * this.#lowWater) {
      this.#reserve.refill();
    }
    return false;
  }

  giveBack(): number {
    return this.#reserve.release();
  }

  /**
   * Leaves `lowWater` free: another process of this root may be in the middle of a transaction that counts on the
   * space (the reserve it released); the rest comes back at a later write that finds room to spare.
   */
  settle(): void {
    const held = this.#reserve.held();
    if (held >= this.#reserve.bytes) return;
    const spare = this.#reserve.free() - this.#lowWater;
    if (spare > 0) this.#reserve.refill(held + spare);
  }

  requireRoom(action: string): void {
    const free = this.#reserve.free();
    const missing = this.#reserve.bytes - this.#reserve.held();
    if (free - missing >= this.#lowWater) return;
    throw diskFullError({
      path: this.#root,
      action,
      freeBytes: free,
      keptBytes: missing,
    });
  }
}
