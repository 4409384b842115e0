import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { layoutFor } from '../core/paths.ts';
import { Database } from '../drivers/store/database.ts';
import { EventWakeup } from './event-wakeup.ts';
import { EventLog } from './events/service.ts';

describe('EventLog subscriptions and EventWakeup', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-wakeup-'));
  const db = new Database(layoutFor(root).db);
  const events = new EventLog(db);
  after(() => {
    db.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
  const forContainer = (id: string) => ({
    accept: (e: { type: string; actorId: string }) => e.type === 'container' && e.actorId === id,
    fallbackMs: 60_000,
  });

  it('tells a subscriber each event after it is stored, until it unsubscribes', () => {
    const seen: string[] = [];
    const unsubscribe = events.subscribe((e) => {
      // Stored already: a listener that looks at the journal finds the event it is told about.
      assert.equal(events.list({ action: [e.action] }).events.at(-1)?.actorId, e.actorId);
      seen.push(`${e.action} ${e.actorId} ${e.attributes.name}`);
    });
    events.record('container', 'create', 'c1', { name: 'one' });
    unsubscribe();
    events.record('container', 'start', 'c1', { name: 'one' });
    assert.deepEqual(seen, ['create c1 one']);
    assert.equal(events.listenerCount, 0);
  });

  it('keeps recording when a listener throws', () => {
    const unsubscribe = events.subscribe(() => {
      throw new Error('listener broke');
    });
    try {
      events.record('container', 'create', 'c-throw', {});
    } finally {
      unsubscribe();
    }
    assert.equal(events.list({ container: ['c-throw'] }).events.length, 1);
  });

  it('wakes at an accepted event, not at another', async () => {
    const wakeup = new EventWakeup(events, forContainer('c2'));
    try {
      let woke = false;
      const next = wakeup.next().then(() => {
        woke = true;
      });
      events.record('container', 'start', 'someone-else', {});
      await new Promise((r) => setImmediate(r));
      assert.equal(woke, false);
      events.record('container', 'start', 'c2', {});
      await next;
      assert.equal(woke, true);
    } finally {
      wakeup.close();
    }
    assert.equal(events.listenerCount, 0);
  });

  it('latches an event recorded between two next() calls', async () => {
    const wakeup = new EventWakeup(events, forContainer('c3'));
    try {
      events.record('container', 'die', 'c3', { exitCode: '3' });
      const started = Date.now();
      await wakeup.next(); // fallback is a minute: only the latched event can resolve this at once
      assert.ok(Date.now() - started < 1000);
    } finally {
      wakeup.close();
    }
  });

  it('falls back to a timed look when no event comes (another process may have changed the store)', async () => {
    const wakeup = new EventWakeup(events, { accept: () => false, fallbackMs: 30 });
    try {
      const started = Date.now();
      await wakeup.next();
      assert.ok(Date.now() - started >= 25);
    } finally {
      wakeup.close();
    }
  });

  it('rejects with the abort reason and leaves no abort listener behind', async () => {
    const wakeup = new EventWakeup(events, forContainer('c4'));
    const controller = new AbortController();
    try {
      const pending = wakeup.next(controller.signal);
      controller.abort(new Error('client went away'));
      await assert.rejects(pending, /client went away/);
      await assert.rejects(wakeup.next(controller.signal), /client went away/);
    } finally {
      wakeup.close();
    }
    const kept = new AbortController();
    const again = new EventWakeup(events, forContainer('c4'));
    const next = again.next(kept.signal);
    events.record('container', 'start', 'c4', {});
    await next;
    again.close();
    assert.equal(getEventListeners(kept.signal, 'abort').length, 0);
  });

  it('resolves a pending next() on close', async () => {
    const wakeup = new EventWakeup(events, forContainer('c5'));
    const next = wakeup.next();
    wakeup.close();
    await next;
    assert.equal(events.listenerCount, 0);
  });

  it("finds a container's last die exit code by full id", () => {
    events.record('container', 'die', 'c6', { exitCode: '1' });
    events.record('container', 'die', 'c6', { exitCode: '7' });
    events.record('container', 'die', 'c6-other', { exitCode: '9' });
    assert.equal(events.lastExitCode('c6'), 7);
    assert.equal(events.lastExitCode('c-never-died'), undefined);
  });
});
