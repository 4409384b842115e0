import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ResourceExhaustedError } from '../../core/errors.ts';
import { ReserveKeeper } from './space-keeper.ts';
import { SpaceReserve } from './space-reserve.ts';

const KiB = 1024;

/**
 * The reserve is a real file; the file system's free space is a figure the test sets (what statfs would say), so
 * that a "full disk" needs no root and no tmpfs. test/full-disk.test.ts does it for real.
 */
describe('ReserveKeeper over a SpaceReserve', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-space-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  let free = 0;
  const reserve = new SpaceReserve({
    file: path.join(root, 'space-reserve'),
    bytes: 64 * KiB,
    freeBytes: () => free,
  });
  const keeper = new ReserveKeeper({ reserve, root, lowWater: 16 * KiB });

  it('makes the reserve before a write that has room to spare, and never when that would make the disk short', () => {
    free = 80 * KiB; // 64 KiB of reserve would leave 16 KiB: less than twice the low-water mark
    assert.equal(keeper.beforeWrite(), false);
    assert.equal(reserve.held(), 0);
    free = 1024 * KiB;
    assert.equal(keeper.beforeWrite(), false);
    assert.equal(reserve.held(), 64 * KiB);
  });

  it('gives the reserve back when a write finds the disk nearly full, and says space is short', () => {
    free = 8 * KiB;
    assert.equal(keeper.beforeWrite(), true);
    assert.equal(reserve.held(), 0);
    assert.equal(fs.existsSync(reserve.file), false);
    // Short still, and nothing left to give: the write goes ahead (and fails with the disk-full error if it must).
    assert.equal(keeper.beforeWrite(), true);
  });

  it('refuses to add data while only the reserve (given back or not) is left, naming the root and the action', () => {
    free = 8 * KiB + 64 * KiB; // the released reserve's space is free, but it is not for new data
    assert.throws(
      () => keeper.requireRoom('cannot create container web'),
      (err: Error) => {
        assert.ok(err instanceof ResourceExhaustedError);
        assert.match(err.message, /^no space left on device: cannot create container web: /);
        assert.ok(err.message.includes(`${root} has 72KiB free, 64KiB of it kept for removals`), err.message);
        assert.match(err.message, /hyperbox system prune/);
        return true;
      },
    );
    free = 64 * KiB + 16 * KiB;
    keeper.requireRoom('cannot create container web');
  });

  it('takes the space back once a removal (or the store closing) gave it, leaving the low-water mark free', () => {
    free = 40 * KiB; // another process may be committing with what it released: 16 KiB stay free
    keeper.settle();
    assert.equal(reserve.held(), 24 * KiB);
    free = 200 * KiB;
    keeper.settle();
    assert.equal(reserve.held(), 64 * KiB, 'topped up, never beyond its size');
  });
});
