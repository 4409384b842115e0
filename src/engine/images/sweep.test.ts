import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Digest } from '../../core/image/digest.ts';
import { layoutFor } from '../../core/paths.ts';
import { FileLayerStore } from '../../drivers/layers/file-layer-store.ts';
import { FakeRegistry } from '../../drivers/registry/testing/fake-registry.ts';
import { buildImage } from '../../drivers/registry/testing/test-images.ts';
import { Database } from '../../drivers/store/database.ts';
import { EventLog } from '../events/service.ts';
import { NO_USERS } from '../references.ts';
import { ImageService } from './service.ts';
import { sweepCrashLeftovers } from './sweep.ts';

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
        import { ImageService } from ${JSON.stringify(path.resolve('src/engine/images/service.ts'))};
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

describe('sweepCrashLeftovers', () => {
  it("removes what dead writers left, keeps live writers' files, young orphans and known layers", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-sweep-'));
    try {
      const layout = layoutFor(root);
      fs.mkdirSync(layout.ingest, { recursive: true });
      fs.mkdirSync(layout.tmp, { recursive: true });
      // A pid that is not running: a child that has exited and been reaped.
      const dead = spawnSync(process.execPath, ['-e', '']).pid!;
      const live = process.pid;
      const files = [
        path.join(layout.ingest, `${dead}-00ff`),
        path.join(layout.ingest, `${live}-00ff`),
        path.join(layout.tmp, `unpack-${dead}-x`),
        path.join(layout.tmp, `pull-${live}-x`),
        path.join(layout.tmp, `removing-00ff-${dead}-x`),
      ];
      for (const f of files) fs.mkdirSync(f);
      const layers = new FileLayerStore({ layout });
      const chain = (n: string) => `sha256:${n.repeat(64)}` as Digest;
      for (const c of ['a', 'b', 'c']) fs.mkdirSync(layers.dir(chain(c)), { recursive: true });
      const hourAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
      for (const c of ['a', 'b']) fs.utimesSync(path.dirname(layers.dir(chain(c))), hourAgo, hourAgo);
      const { removed } = await sweepCrashLeftovers({
        layout,
        layers,
        isKnownChain: (c) => c === chain('a'),
      });
      assert.deepEqual(
        removed.sort(),
        [files[0], files[2], files[4], path.dirname(layers.dir(chain('b')))].sort(),
      );
      assert.ok(fs.existsSync(files[1]!) && fs.existsSync(files[3]!), "a live writer's files stay");
      assert.ok(await layers.has(chain('a')), 'a layer an image uses stays');
      assert.ok(await layers.has(chain('c')), 'a young orphan may belong to a pull still running');
      assert.equal(await layers.has(chain('b')), false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
