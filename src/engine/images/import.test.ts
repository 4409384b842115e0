import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { layoutFor } from '../../core/paths.ts';
import { FakeContentStore } from '../../drivers/content/testing/fake-content-store.ts';
import { tarOf } from '../../drivers/registry/testing/test-images.ts';
import { Database } from '../../drivers/store/database.ts';
import { EventLog } from '../events/service.ts';
import { NO_USERS } from '../references.ts';
import { ImageService } from './service.ts';

describe('import with a content store that fails', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-import-'));
  const layout = layoutFor(root);
  const db = new Database(layout.db);
  const content = new FakeContentStore(path.join(root, 'fake-content'));
  const images = new ImageService({ layout, db, events: new EventLog(db), references: NO_USERS, content });
  after(() => {
    db.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('leaves nothing visible when a blob cannot be committed: no image, no layer, no blob', async () => {
    const tar = path.join(root, 'rootfs.tar');
    fs.writeFileSync(tar, tarOf({ 'etc/hostname': 'box\n' }));
    content.failCommits = 1;
    await assert.rejects(images.importRootfs(tar, 'broken', { changes: [] }), /injected: cannot commit/);
    assert.deepEqual(await images.list(), []);
    assert.deepEqual(await content.list(), []);
    assert.deepEqual(fs.existsSync(layout.layers) ? fs.readdirSync(layout.layers) : [], []);
    // The same import then succeeds, from a clean state.
    const { id } = await images.importRootfs(tar, 'fixed', { changes: [] });
    assert.equal(await images.readFile(id, 'etc/hostname'), 'box\n');
    assert.equal((await content.list()).length, 3, 'layer, config and manifest');
  });
});
