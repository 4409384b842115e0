import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256 } from '../../core/image/digest.ts';
import { layoutFor } from '../../core/paths.ts';
import { FakeRegistry } from '../../drivers/registry/testing/fake-registry.ts';
import { buildImage, tarOf } from '../../drivers/registry/testing/test-images.ts';
import { Database } from '../../drivers/store/database.ts';
import type { ProgressEvent } from '../api/images.ts';
import { EventLog } from '../events/service.ts';
import { NO_USERS } from '../references.ts';
import { ImageService } from './service.ts';

describe('ImageService.push', () => {
  let registry: FakeRegistry;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-push-'));
  const layout = layoutFor(root);
  const db = new Database(layout.db);
  const events = new EventLog(db);
  const images = new ImageService({
    references: NO_USERS,
    layout,
    db,
    events,
    platform: { os: 'linux', architecture: 'amd64' },
    registry: { configDir: path.join(root, 'config'), chunkSize: 1024 },
  });
  const big = 'b'.repeat(5000);
  // Pulled uncompressed, so pushed uncompressed: over the 1 KiB chunk size.
  const noisy = Array.from({ length: 4000 }, (_, i) => String.fromCharCode(33 + ((i * 7919) % 90))).join('');
  const img = buildImage({
    layers: [{ files: { small: 's' } }, { files: { noisy, big }, compression: 'none' }],
  });

  before(async () => {
    registry = await FakeRegistry.start();
    registry.publish('src/app', 'v1', img);
    await images.pull(`${registry.host}/src/app:v1`);
  });
  after(async () => {
    await registry.close();
    db.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('pushes monolithic and chunked uploads, then the stored manifest, and records the repo digest', async () => {
    // Another registry: nothing to mount from, every blob is uploaded.
    const fresh = await FakeRegistry.start();
    try {
      await images.tag(`${registry.host}/src/app:v1`, `${fresh.host}/dst/app:1`);
      const seen: ProgressEvent[] = [];
      const r = await images.push(`${fresh.host}/dst/app:1`, { onProgress: (e) => seen.push(e) });
      assert.equal(r.digest, sha256(img.manifest), 'the stored manifest, byte for byte');
      assert.equal(r.size, img.manifest.length);
      assert.deepEqual(fresh.manifest('dst/app', '1')!.bytes, img.manifest);
      for (const b of img.blobs) assert.ok(fresh.hasBlob('dst/app', sha256(b)));
      const small = img.layers[0]!;
      const large = img.layers[1]!;
      assert.ok(
        small.blob.length <= 1024 && large.blob.length > 1024,
        'one blob each side of the chunk size',
      );
      const patches = fresh.log.filter((l) => l.method === 'PATCH');
      assert.equal(patches.length, Math.ceil(large.blob.length / 1024), 'the large layer went in chunks');
      assert.ok(
        fresh.log.some(
          (l) => l.method === 'PUT' && l.path.includes(`digest=${encodeURIComponent(small.digest)}`),
        ),
      );
      assert.deepEqual(
        seen
          .filter((e) => e.id === small.digest.slice(7, 19))
          .map((e) => e.status)
          .filter((s) => s !== 'Pushing'),
        ['Preparing', 'Pushed'],
      );
      const inspect = await images.inspect(`${fresh.host}/dst/app:1`);
      assert.ok(inspect.repoDigests.includes(`${fresh.host}/dst/app@${r.digest}`));
      // Again: every blob is already there.
      const again: ProgressEvent[] = [];
      const before = fresh.log.length;
      await images.push(`${fresh.host}/dst/app:1`, { onProgress: (e) => again.push(e) });
      assert.equal(again.filter((e) => e.status === 'Layer already exists').length, 2);
      assert.ok(!fresh.log.slice(before).some((l) => l.method === 'PATCH' || l.path.includes('/uploads/')));
      assert.equal(events.list({ type: ['image'], action: ['push'] }).events.length, 2);
    } finally {
      await fresh.close();
    }
  });

  it('mounts blobs from the repository the image was pulled from', async () => {
    await images.tag(`${registry.host}/src/app:v1`, `${registry.host}/copy/app:v1`);
    const seen: ProgressEvent[] = [];
    await images.push(`${registry.host}/copy/app:v1`, { onProgress: (e) => seen.push(e) });
    assert.equal(seen.filter((e) => e.status === 'Mounted from src/app').length, 2);
    assert.ok(
      registry.log.some(
        (l) => l.method === 'POST' && l.path.includes('mount=') && l.path.includes('from=src%2Fapp'),
      ),
    );
    assert.ok(!registry.log.some((l) => l.method === 'PATCH'));
    assert.deepEqual(registry.manifest('copy/app', 'v1')!.bytes, img.manifest);
  });

  it('gzips layers the store keeps uncompressed and pushes the manifest that names them', async () => {
    const tarPath = path.join(root, 'rootfs.tar');
    fs.writeFileSync(tarPath, tarOf({ hello: 'world' }));
    const { id } = await images.importRootfs(tarPath, 'imported:1', { changes: [] });
    const fresh = await FakeRegistry.start();
    try {
      await images.tag(id, `${fresh.host}/imp/app:1`);
      const r = await images.push(`${fresh.host}/imp/app:1`);
      const pushed = JSON.parse(fresh.manifest('imp/app', '1')!.bytes.toString()) as {
        layers: Array<{ mediaType: string; digest: string }>;
      };
      assert.equal(pushed.layers[0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
      const blob = fresh.blob(pushed.layers[0]!.digest as `sha256:${string}`)!;
      assert.equal(blob[0], 0x1f);
      // It pulls back into a fresh store.
      const otherDb = new Database(path.join(root, 'b', 'db'));
      const other = new ImageService({
        references: NO_USERS,
        layout: layoutFor(path.join(root, 'b')),
        db: otherDb,
        events: new EventLog(otherDb),
        registry: { configDir: root },
      });
      const back = await other.pull(`${fresh.host}/imp/app:1`);
      assert.equal(back.id, id);
      assert.equal(back.digest, r.digest);
      assert.equal(await other.readFile(back.id, 'hello'), 'world');
      otherDb.close();
    } finally {
      await fresh.close();
    }
  });

  it('refuses to push a digest reference or an unknown image', async () => {
    await assert.rejects(images.push(`${registry.host}/src/app@${sha256('x')}`), /push a tag/);
    await assert.rejects(images.push(`${registry.host}/nope:1`), /No such image/);
  });
});
