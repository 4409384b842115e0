import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReconcileGate } from './reconcile-gate.ts';

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const a = { id: 'aaaa1111', name: 'web' };
const b = { id: 'bbbb2222', name: 'db' };

describe('ReconcileGate', () => {
  it('marks objects pending at once and lets a waiter go when its object is done, not the others', async () => {
    const gate = new ReconcileGate();
    const run = gate.hold('container', [a, b]);
    assert.deepEqual(gate.pending('container').sort(), [a.id, b.id]);
    const work = new Map([
      [a.id, deferred()],
      [b.id, deferred()],
    ]);
    const ran = run((id) => work.get(id)!.promise, 2);
    const order: string[] = [];
    const byName = gate.waitObject('container', 'web').then(() => order.push('web'));
    const byPrefix = gate.waitObject('container', 'bbbb').then(() => order.push('bbbb'));
    const kind = gate.waitKind('container').then(() => order.push('all containers'));
    await gate.waitObject('container', 'nosuch'); // not pending: at once
    await gate.waitObject('vm', 'web'); // another kind: at once
    work.get(a.id)!.resolve();
    await byName;
    assert.deepEqual(order, ['web']);
    work.get(b.id)!.resolve();
    await Promise.all([byPrefix, kind, ran]);
    assert.deepEqual(order, ['web', 'bbbb', 'all containers']);
    assert.deepEqual(gate.pending('container'), []);
  });

  it('runs at most `concurrency` at once, and a failure ends only its own object', async () => {
    const gate = new ReconcileGate();
    const objects = Array.from({ length: 6 }, (_, i) => ({ id: `c${i}`, name: `n${i}` }));
    let running = 0;
    let most = 0;
    await gate.hold('container', objects)(async (id) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (id === 'c2') throw new Error('cannot');
    }, 2);
    assert.equal(most, 2);
    assert.deepEqual(gate.pending('container'), []);
  });

  it('waits for the whole reconcile it tracks, even when it fails', async () => {
    const gate = new ReconcileGate();
    await gate.waitAll(); // nothing tracked yet
    const d = deferred();
    const tracked = gate.track(d.promise.then(() => Promise.reject(new Error('network reconcile failed'))));
    let done = false;
    const all = gate.waitAll().then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(done, false);
    d.resolve();
    await all;
    await assert.rejects(tracked, /network reconcile failed/);
  });
});
