import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { layoutFor } from '../../core/paths.ts';
import { Database } from '../../drivers/store/database.ts';
import { EventLog } from './service.ts';
import { dockerEventMessage } from './views.ts';

describe('the event journal', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-events-'));
  const db = new Database(layoutFor(root).db);
  const events = new EventLog(db);
  after(() => {
    db.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('lists what was recorded, oldest first, stamped with the wall clock, from any sequence number on', () => {
    const before = BigInt(Date.now());
    events.record('container', 'create', 'c1', { name: 'one' });
    events.record('image', 'pull', 'sha256:aa', { name: 'busybox:1' });
    events.record('container', 'die', 'c1', { name: 'one', exitCode: '3' });
    const all = events.list({});
    assert.deepEqual(
      all.events.map((e) => `${e.type} ${e.action} ${e.actorId}`),
      ['container create c1', 'image pull sha256:aa', 'container die c1'],
    );
    assert.deepEqual(all.events[2]?.attributes, { name: 'one', exitCode: '3' });
    const after = BigInt(Date.now());
    for (const e of all.events) {
      const ms = e.timeNano / 1_000_000n;
      assert.ok(ms >= before && ms <= after, `${ms} within ${before}..${after}`);
    }
    const later = events.list({}, all.lastSeq - 1);
    assert.deepEqual(
      later.events.map((e) => e.action),
      ['die'],
    );
    assert.equal(later.lastSeq, all.lastSeq);
  });

  it('moves the last sequence number past events the filter drops, and keeps it when nothing is new', () => {
    const start = events.list({}).lastSeq;
    events.record('network', 'create', 'n1', { name: 'net' });
    const page = events.list({ type: ['container'] }, start);
    assert.deepEqual(page.events, []);
    assert.equal(page.lastSeq, start + 1);
    assert.deepEqual(events.list({}, page.lastSeq), { events: [], lastSeq: page.lastSeq });
  });

  it("knows a container's last exit code from its last die event, and nothing for one that never died", () => {
    events.record('container', 'die', 'c2', { exitCode: '1' });
    events.record('container', 'die', 'c2', { exitCode: '137' });
    assert.equal(events.lastExitCode('c2'), 137);
    events.record('container', 'die', 'c3', { exitCode: 'x' });
    assert.equal(events.lastExitCode('c3'), undefined);
    assert.equal(events.lastExitCode('never'), undefined);
  });

  it("shows an event as docker's message, containers with the old status fields", () => {
    const [e] = events.list({ action: ['create'], container: ['one'] }).events;
    const m = dockerEventMessage(e!);
    assert.equal(m.Type, 'container');
    assert.deepEqual(m.Actor, { ID: 'c1', Attributes: { name: 'one' } });
    assert.equal(m.status, 'create');
    assert.equal(m.from, '');
    assert.equal(m.time, Number(e!.timeNano / 1_000_000_000n));
    const n = dockerEventMessage({ ...e!, type: 'network' });
    assert.equal(n.status, undefined);
  });
});
