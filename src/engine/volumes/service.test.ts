import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { layoutFor } from '../../core/paths.ts';
import { Database } from '../../drivers/store/database.ts';
import { EventLog } from '../events/service.ts';
import { NO_USERS } from '../references.ts';
import { ANONYMOUS_LABEL, VolumeService } from './service.ts';

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
    assert.equal(v.mountpoint, path.join(root, 'volumes', 'data', '_data'));
    assert.ok(fs.statSync(v.mountpoint).isDirectory());
    assert.deepEqual(
      volumes.list({ label: ['team=a'] }).map((x) => x.name),
      ['data'],
    );
    assert.equal(volumes.inspect('data').labels.team, 'a');
    volumes.remove('data');
    assert.throws(() => volumes.inspect('data'), /no such volume: data/);
    assert.equal(fs.existsSync(v.mountpoint), false);
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
    assert.deepEqual(pruned.deleted, [anon.name]);
    assert.ok(volumes.inspect('kept'));
  });

  it('creating a volume again returns it; other labels are refused', () => {
    const first = volumes.create({ name: 'again', labels: { a: '1' } });
    assert.deepEqual(volumes.create({ name: 'again', labels: { a: '1' } }), first);
    assert.throws(
      () => volumes.create({ name: 'again', labels: { a: '2' } }),
      /volume again already exists with different labels/,
    );
    assert.throws(() => volumes.create({ driver: 'nfs' }), /volume driver "nfs" is not supported/);
    volumes.remove('again');
  });

  it('remove of a missing volume fails unless forced; in use it names the containers', () => {
    assert.throws(() => volumes.remove('ghost'), /no such volume: ghost/);
    volumes.remove('ghost', { force: true });
    users = ['c1', 'c2'];
    assert.throws(() => volumes.remove('kept', { force: true }), /volume is in use - \[c1, c2\]/);
    assert.deepEqual(
      volumes.list({ dangling: false }).map((v) => v.name),
      ['kept'],
    );
  });

  it('prune with all removes every unused volume and counts the bytes of their data', () => {
    users = ['c1'];
    const spare = volumes.create({ name: 'spare' });
    fs.writeFileSync(path.join(spare.mountpoint, 'f'), 'x'.repeat(1000));
    assert.deepEqual(
      volumes.list({ dangling: true }).map((v) => v.name),
      ['spare'],
    );
    assert.deepEqual(volumes.prune({ all: true }), { deleted: ['spare'], spaceReclaimed: 1000 });
    assert.deepEqual(
      volumes.list().map((v) => v.name),
      ['kept'],
    );
  });

  it('ensure makes a volume on first use and gives its data directory', () => {
    const dir = volumes.ensure('auto', { [ANONYMOUS_LABEL]: '' });
    assert.equal(dir, volumes.inspect('auto').mountpoint);
    assert.equal(volumes.ensure('auto'), dir);
    users = [];
    assert.ok(volumes.prune().deleted.includes('auto'));
  });
});
