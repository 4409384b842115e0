import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { acquireLock, lockHolder, withLock } from './lock.ts';
import { identify } from './process.ts';

describe('the lock that knows its holder', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-lock-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** A lock left by another process, as it would be on disk. */
  const leftBy = (file: string, holder: { pid: number; startTime: number }) => {
    fs.mkdirSync(file);
    fs.writeFileSync(path.join(file, `${holder.pid}-${holder.startTime}`), '');
  };

  it('names its holder while held and leaves nothing once released', async () => {
    const file = path.join(dir, 'plain');
    const me = identify(process.pid)!;
    await withLock(file, async () => {
      assert.deepEqual(lockHolder(file), me);
    });
    assert.equal(lockHolder(file), undefined);
    assert.deepEqual(fs.readdirSync(dir), [], 'no lock and no prepared directory is left');
  });

  it('waits while its holder lives, however long it holds it, and goes on once it is released', async () => {
    const file = path.join(dir, 'waits');
    const order: string[] = [];
    const release = await acquireLock(file);
    const waiter = withLock(file, async () => void order.push('waiter'), { timeoutMs: 5_000 });
    await sleep(150);
    order.push('holder releases');
    release();
    await waiter;
    assert.deepEqual(order, ['holder releases', 'waiter']);
  });

  it('is never broken while a live holder keeps it: the waiter times out, naming the holder', async () => {
    const file = path.join(dir, 'live-other');
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const holder = identify(child.pid!)!;
      leftBy(file, holder);
      // An old lock directory, as the 15 s rule would have broken: its age does not matter.
      const old = new Date(Date.now() - 60_000);
      fs.utimesSync(file, old, old);
      await assert.rejects(
        withLock(file, async () => {}, { timeoutMs: 100 }),
        {
          code: 'Unavailable',
          message: new RegExp(`held by process ${holder.pid}`),
        },
      );
      assert.deepEqual(lockHolder(file), holder, 'the live holder keeps it');
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });

  it('is taken at once when its holder is dead', async () => {
    const file = path.join(dir, 'dead');
    const child = spawn('true', { stdio: 'ignore' });
    const holder = identify(child.pid!) ?? { pid: child.pid!, startTime: 1 };
    await once(child, 'exit');
    leftBy(file, holder);
    const t0 = Date.now();
    await withLock(file, async () => assert.deepEqual(lockHolder(file), identify(process.pid)), {
      timeoutMs: 10_000,
    });
    assert.ok(Date.now() - t0 < 1_000, 'taken without waiting for a timeout');
    assert.equal(fs.existsSync(file), false);
  });

  it('does not mistake a recycled pid for its holder', async () => {
    const file = path.join(dir, 'recycled');
    const live = identify(process.pid)!;
    // The holder had this pid once, but started at another time: another process has the pid now.
    leftBy(file, { pid: live.pid, startTime: live.startTime + 1 });
    await withLock(file, async () => {}, { timeoutMs: 100 });
    assert.equal(fs.existsSync(file), false);
  });

  it('clears what a taker killed half-way left behind, and only that', async () => {
    const file = path.join(dir, 'litter');
    const me = identify(process.pid)!;
    const dead = path.join(dir, 'litter.take-4194305-1-abc123');
    const live = path.join(dir, `litter.take-${me.pid}-${me.startTime}-def456`);
    for (const d of [dead, live]) fs.mkdirSync(d);
    await withLock(file, async () => {});
    assert.equal(fs.existsSync(dead), false, 'a dead taker has no use for it');
    assert.equal(fs.existsSync(live), true, 'a live one may be about to use it');
    fs.rmSync(live, { recursive: true });
  });

  it('lets one of many waiters in at a time, and each of them in the end', async () => {
    const file = path.join(dir, 'many');
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withLock(file, async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(5);
          inside--;
        }),
      ),
    );
    assert.equal(most, 1);
  });

  it('is released when the work throws', async () => {
    const file = path.join(dir, 'throws');
    await assert.rejects(
      withLock(file, async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(fs.existsSync(file), false);
  });
});
