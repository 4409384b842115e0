import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Digest } from '../../core/image/digest.ts';
import { layoutFor } from '../../core/paths.ts';
import { tarOf } from '../../drivers/registry/testing/test-images.ts';
import { Database } from '../../drivers/store/database.ts';
import { EventLog } from '../events/service.ts';
import { NO_USERS, type References } from '../references.ts';
import { ImageService } from './service.ts';

/**
 * Image removal, prune and the collection of hidden images, on a temporary root (no root needed): images are
 * imported from small tars, containers are only what the references port says uses an image.
 */
describe('image removal', () => {
  let root: string;
  let db: Database;
  let events: EventLog;
  let images: ImageService;
  /** Container ids by image id: what the containers' records would say. */
  let users: Map<string, string[]>;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-rmi-'));
    const layout = layoutFor(root);
    db = new Database(layout.db);
    events = new EventLog(db);
    users = new Map();
    const references: References = {
      ...NO_USERS,
      containersOfImage: (id) => users.get(id) ?? [],
      containerCountsByImage: () =>
        new Map([...users].filter(([, c]) => c.length > 0).map(([id, c]) => [id, c.length])),
    };
    images = new ImageService({ layout, db, events, references, registry: { configDir: root } });
  });
  afterEach(() => {
    db.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** An image of one layer holding `files`; `message` makes two images of the same layer differ. */
  async function imageOf(files: Record<string, string>, name?: string, message?: string): Promise<Digest> {
    const tar = path.join(root, `in-${Math.random().toString(16).slice(2)}.tar`);
    fs.writeFileSync(tar, tarOf(files));
    const { id } = await images.importRootfs(tar, name, { changes: [], ...(message ? { message } : {}) });
    fs.rmSync(tar);
    return id;
  }

  const blobs = () => fs.readdirSync(layoutFor(root).blobs).length;
  const listed = async () => (await images.list()).map((i) => i.id);

  it('untags only the name given when the image has another', async () => {
    const id = await imageOf({ a: '1' }, 'app:1');
    await images.tag('app:1', 'app:2');
    assert.deepEqual(await images.remove('app:1', { force: false }), [{ Untagged: 'app:1' }]);
    assert.equal((await images.resolve('app:2')).id, id);
    await assert.rejects(images.resolve('app:1'), /No such image: app:1/);
  });

  it('refuses to delete by id an image two repositories name, unless forced', async () => {
    const id = await imageOf({ a: '1' }, 'one');
    await images.tag('one', 'two');
    await assert.rejects(
      images.remove(id, { force: false }),
      /unable to delete [0-9a-f]{12} \(must be forced\) - image is referenced in multiple repositories/,
    );
    assert.deepEqual(await images.remove(id, { force: true }), [
      { Untagged: 'one:latest' },
      { Untagged: 'two:latest' },
      { Deleted: id },
    ]);
    assert.deepEqual(await listed(), []);
  });

  it('deleting the last name deletes the image with its blobs and layers', async () => {
    const id = await imageOf({ a: '1' }, 'solo');
    const chain = (await images.resolve(id)).chainIds[0]!;
    const layerDir = path.join(root, 'layers', chain.slice('sha256:'.length));
    assert.ok(fs.existsSync(layerDir));
    assert.deepEqual(await images.remove('solo', { force: false }), [
      { Untagged: 'solo:latest' },
      { Deleted: id },
    ]);
    assert.equal(blobs(), 0);
    assert.equal(fs.existsSync(layerDir), false);
    assert.deepEqual(
      events.list({ type: ['image'] }).events.map((e) => e.action),
      ['import', 'untag', 'delete'],
    );
  });

  it('refuses to untag the only name of an image a container uses; -f untags and keeps the image', async () => {
    const id = await imageOf({ a: '1' }, 'used');
    users.set(id, ['c0ffee000000aaaa']);
    await assert.rejects(
      images.remove('used', { force: false }),
      /unable to remove repository reference "used" \(must force\) - container c0ffee000000 is using its referenced image/,
    );
    assert.deepEqual(await images.remove('used', { force: true }), [{ Untagged: 'used:latest' }]);
    assert.deepEqual(await listed(), [id]);
  });

  it('refuses to delete by id an image a container uses; -f hides it until gc finds it unused', async () => {
    const id = await imageOf({ a: '1' }, 'base');
    users.set(id, ['c0ffee000000aaaa']);
    await assert.rejects(
      images.remove(id, { force: false }),
      /image is being used by stopped container c0ffee000000/,
    );
    assert.deepEqual(await images.remove(id, { force: true }), [
      { Untagged: 'base:latest' },
      { Deleted: id },
    ]);
    // Hidden: not listed, not found by a prefix, but the container still starts from it.
    assert.deepEqual(await listed(), []);
    await assert.rejects(images.resolve(id.slice(7, 19)), /No such image/);
    assert.equal((await images.resolve(id)).id, id);
    assert.equal((await images.lowerDirs(id)).length, 1);
    assert.deepEqual(await images.gc(), { deleted: [], spaceReclaimed: 0 });
    users.delete(id);
    const collected = await images.gc();
    assert.deepEqual(collected.deleted, [id]);
    assert.ok(collected.spaceReclaimed > 0);
    assert.equal(blobs(), 0);
    await assert.rejects(images.resolve(id), /No such image/);
  });

  it('keeps a layer two images share until the second goes', async () => {
    const first = await imageOf({ shared: 'x' }, 'first', 'one');
    const second = await imageOf({ shared: 'x' }, 'second', 'two');
    assert.notEqual(first, second);
    const chain = (await images.resolve(first)).chainIds[0]!;
    assert.deepEqual((await images.resolve(second)).chainIds, [chain]);
    const layerDir = path.join(root, 'layers', chain.slice('sha256:'.length));
    await images.remove('first', { force: false });
    assert.ok(fs.existsSync(layerDir), 'the layer the second image uses stays');
    assert.deepEqual(await images.lowerDirs(second), [path.join(layerDir, 'diff')]);
    await images.remove('second', { force: false });
    assert.equal(fs.existsSync(layerDir), false);
    assert.equal(blobs(), 0);
  });

  it('names an unknown image in the error', async () => {
    await assert.rejects(images.remove('nothing:here', { force: true }), /No such image: nothing:here/);
  });

  it('prune removes dangling images only; with all, every image no container uses', async () => {
    const dangling = await imageOf({ d: '1' });
    const tagged = await imageOf({ t: '1' }, 'tagged');
    const used = await imageOf({ u: '1' }, 'used');
    users.set(used, ['c0ffee000000aaaa']);
    const first = await images.prune({ all: false });
    assert.deepEqual(first.deleted, [{ Deleted: dangling }]);
    assert.ok(first.spaceReclaimed > 0);
    assert.deepEqual((await listed()).sort(), [tagged, used].sort());
    const second = await images.prune({ all: true });
    assert.deepEqual(second.deleted, [{ Untagged: 'tagged:latest' }, { Deleted: tagged }]);
    assert.deepEqual(await listed(), [used]);
    assert.equal(events.list({ type: ['image'] }).events.filter((e) => e.action === 'prune').length, 2);
  });

  it('prune also reclaims a hidden image once its container is gone', async () => {
    const id = await imageOf({ h: '1' }, 'hidden');
    users.set(id, ['c0ffee000000aaaa']);
    await images.remove(id, { force: true });
    assert.deepEqual((await images.prune({ all: false })).deleted, []);
    users.delete(id);
    assert.deepEqual((await images.prune({ all: false })).deleted, [{ Deleted: id }]);
    assert.equal(blobs(), 0);
  });

  it('moving a tag to another image leaves the first one dangling, for prune', async () => {
    const old = await imageOf({ v: '1' }, 'app');
    const fresh = await imageOf({ v: '2' }, 'next');
    await images.tag('next', 'app');
    assert.equal((await images.resolve('app')).id, fresh);
    const row = (await images.list()).find((i) => i.id === old)!;
    assert.deepEqual(row.repoTags, []);
    assert.deepEqual((await images.prune({ all: false })).deleted, [{ Deleted: old }]);
  });

  it('tags by id, normalises names, and refuses a digest as a tag', async () => {
    const id = await imageOf({ n: '1' });
    await images.tag(id, 'docker.io/library/named');
    assert.deepEqual(
      (await images.list()).map((i) => i.repoTags),
      [['named:latest']],
    );
    await assert.rejects(
      images.tag(id, `named@sha256:${'0'.repeat(64)}`),
      /refusing to create a tag with a digest reference/,
    );
    await assert.rejects(images.tag('missing', 'x'), /No such image: missing/);
    assert.deepEqual(
      events
        .list({ type: ['image'] })
        .events.filter((e) => e.action === 'tag')
        .map((e) => e.attributes.name),
      ['named:latest'],
    );
  });
});
