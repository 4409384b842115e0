import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { sha256 } from '../../core/image/digest.ts';
import { layoutFor } from '../../core/paths.ts';
import { FakeContentStore } from '../../drivers/content/testing/fake-content-store.ts';
import { FakeLayerStore } from '../../drivers/layers/testing/fake-layer-store.ts';
import { tarOf } from '../../drivers/registry/testing/test-images.ts';
import { Database } from '../../drivers/store/database.ts';
import { EventLog } from '../events/service.ts';
import { NO_USERS } from '../references.ts';
import { ImageService } from './service.ts';

describe("an image's layers for containers", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-lower-'));
  const layout = layoutFor(root);
  const db = new Database(layout.db);
  const content = new FakeContentStore(path.join(root, 'fake-content'));
  const layers = new FakeLayerStore(path.join(root, 'fake-layers'));
  const images = new ImageService({
    layout,
    db,
    events: new EventLog(db),
    references: NO_USERS,
    content,
    layers,
  });
  after(() => {
    db.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('unpacks again from its blob a layer that vanished from disk, and refuses when the blob is gone too', async () => {
    const tar = path.join(root, 'rootfs.tar');
    fs.writeFileSync(tar, tarOf({ 'etc/motd': 'hi\n' }));
    const { id } = await images.importRootfs(tar, 'lower', { changes: [] });
    const [chain] = (await images.resolve(id)).chainIds;
    assert.equal(layers.unpacks, 1);
    assert.deepEqual(await images.lowerDirs(id), [layers.dir(chain!)]);
    assert.equal(layers.unpacks, 1, 'nothing to unpack while the layer is there');
    await layers.remove(chain!)();
    assert.equal(await images.readFile(id, '/etc/motd'), 'hi\n');
    assert.equal(layers.unpacks, 2);
    // The layer gone again, and now its blob too (a plain tar: the blob is the tar itself).
    await layers.remove(chain!)();
    content.delete(sha256(fs.readFileSync(tar)));
    await assert.rejects(images.lowerDirs(id), /layer blob sha256:[0-9a-f]{64} is missing from the store/);
  });
});
