import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { layoutFor } from '../core/paths.ts';
import { Database } from '../drivers/store/database.ts';
import { EventLog } from './events/service.ts';
import { NO_USERS } from './references.ts';
import { ANONYMOUS_LABEL, VolumeService } from './volumes.ts';

describe('VolumeService', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-vol-'));
  const layout = layoutFor(root);
  const db = new Database(layout.db);
  const events = new EventLog(db);
  // A container that mounts `kept`, as the references port reads it from the containers' records.
  let users: string[] = [];
  const references = {
    ...NO_USERS,
    containersOfVolume: (name: string) => (name === 'kept' ? users : []),
  };
  const volumes = new VolumeService({ references, layout, db, events });
  after(() => {
    db.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('creates, lists, inspects and removes a named volume with events', () => {
    const v = volumes.create({ name: 'data', labels: { team: 'a' } });
    assert.equal(v.Mountpoint, path.join(root, 'volumes', 'data', '_data'));
    assert.ok(fs.statSync(v.Mountpoint).isDirectory());
    assert.deepEqual(
      volumes.list({ label: ['team=a'] }).map((x) => x.Name),
      ['data'],
    );
    assert.equal(volumes.inspect('data').Labels.team, 'a');
    volumes.remove('data');
    assert.throws(() => volumes.inspect('data'), /no such volume: data/);
    assert.equal(fs.existsSync(v.Mountpoint), false);
    assert.deepEqual(
      events.list({ type: ['volume'] }).events.map((e) => e.action),
      ['create', 'destroy'],
    );
  });

  it('refuses bad names and volumes in use, prunes only anonymous ones by default', () => {
    assert.throws(() => volumes.create({ name: 'bad/name' }), /invalid volume name "bad\/name"/);
    volumes.create({ name: 'kept' });
    const anon = volumes.create({ labels: { [ANONYMOUS_LABEL]: '' } });
    users = ['c1'];
    assert.throws(() => volumes.remove('kept'), /volume is in use - \[c1\]/);
    const pruned = volumes.prune();
    assert.deepEqual(pruned.deleted, [anon.Name]);
    assert.ok(volumes.inspect('kept'));
  });
});
