import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { layoutFor } from '../core/paths.ts';
import { buildImage, FakeRegistry } from '../drivers/registry/fake-registry.ts';
import { Database } from '../drivers/store/database.ts';
import { EventLog } from './events/service.ts';
import { ImageService } from './images.ts';
import { NO_USERS } from './references.ts';

const waitFor = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('a pull killed with SIGKILL', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-kill-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('leaves nothing visible, and the next pull cleans up and completes', async () => {
    const registry = await FakeRegistry.start();
    const layout = layoutFor(root);
    try {
      const noisy = Array.from({ length: 300_000 }, (_, i) =>
        String.fromCharCode(33 + ((i * 7919) % 90)),
      ).join('');
      const img = buildImage({
        layers: [{ files: { small: 'done' } }, { files: { noisy }, compression: 'none' }],
      });
      registry.publish('kill/app', 'latest', img);
      registry.stall(img.layers[1]!.digest);
      const ref = `${registry.host}/kill/app`;
      const script = `
        import { layoutFor } from ${JSON.stringify(path.resolve('src/core/paths.ts'))};
        import { Database } from ${JSON.stringify(path.resolve('src/drivers/store/database.ts'))};
        import { EventLog } from ${JSON.stringify(path.resolve('src/engine/events/service.ts'))};
        import { ImageService } from ${JSON.stringify(path.resolve('src/engine/images.ts'))};
        import { NO_USERS } from ${JSON.stringify(path.resolve('src/engine/references.ts'))};
        const layout = layoutFor(${JSON.stringify(root)});
        const db = new Database(layout.db);
        const images = new ImageService({ references: NO_USERS, layout, db, events: new EventLog(db), registry: { configDir: ${JSON.stringify(root)} } });
        await images.pull(${JSON.stringify(ref)});`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
      const childGone = new Promise((r) => child.on('exit', r));
      // Killed while the stalled layer is half written to ingest and half unpacked.
      await waitFor(
        () => fs.existsSync(layout.ingest) && fs.readdirSync(layout.ingest).length > 0,
        'the download',
      );
      await waitFor(
        () =>
          (fs.existsSync(layout.tmp) ? fs.readdirSync(layout.tmp) : []).some((n) => n.startsWith('unpack-')),
        'the unpack',
      );
      child.kill('SIGKILL');
      await childGone;
      assert.ok(
        !fs.existsSync(layout.blobs) || fs.readdirSync(layout.blobs).length === 0,
        'no blob visible before the commit',
      );

      registry.stall(img.layers[1]!.digest, false);
      const db = new Database(layout.db);
      try {
        const images = new ImageService({
          references: NO_USERS,
          layout,
          db,
          events: new EventLog(db),
          registry: { configDir: root },
        });
        assert.deepEqual(await images.list(), []);
        const r = await images.pull(ref);
        assert.equal(await images.readFile(r.id, 'noisy'), noisy);
        assert.deepEqual(fs.readdirSync(layout.ingest), [], "the dead pull's ingest file is gone");
        assert.deepEqual(
          fs.readdirSync(layout.tmp).filter((n) => n.startsWith('unpack-')),
          [],
        );
        assert.equal(fs.readdirSync(layout.layers).length, 2);
        assert.equal(fs.readdirSync(layout.blobs).length, 4, 'config, two layers, manifest');
      } finally {
        db.close();
      }
    } finally {
      await registry.close();
    }
  });
});
