import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256 } from '../../core/image/digest.ts';
import { layoutFor } from '../../core/paths.ts';
import { FakeRegistry } from '../../drivers/registry/testing/fake-registry.ts';
import { buildImage } from '../../drivers/registry/testing/test-images.ts';
import { Database } from '../../drivers/store/database.ts';
import type { ProgressEvent } from '../api/images.ts';
import { EventLog } from '../events/service.ts';
import { NO_USERS } from '../references.ts';
import { ImageService } from './service.ts';

/** A fresh store on a temporary root, with the registry settings of a test. */
function makeService(configDir: string, extra: { maxConcurrentDownloads?: number } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-pull-'));
  const layout = layoutFor(root);
  const db = new Database(layout.db);
  const events = new EventLog(db);
  const images = new ImageService({
    references: NO_USERS,
    layout,
    db,
    events,
    platform: { os: 'linux', architecture: 'amd64' },
    registry: { configDir, ...extra },
  });
  const close = () => {
    db.close();
    fs.rmSync(root, { recursive: true, force: true });
  };
  return { images, layout, events, db, close };
}

const blobsIn = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).length : 0);

describe('ImageService.pull', () => {
  let registry: FakeRegistry;
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-cfg-'));
  before(async () => {
    registry = await FakeRegistry.start({ redirectBlobs: true });
  });
  after(async () => {
    await registry.close();
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  for (const compression of ['gzip', 'zstd', 'none'] as const) {
    for (const kind of ['oci', 'docker'] as const) {
      if (kind === 'docker' && compression === 'zstd') continue; // docker schema 2 has no zstd media type
      it(`pulls a ${kind} image with ${compression} layers, unpacked and tagged like a loaded one`, async () => {
        const s = makeService(configDir);
        try {
          const img = buildImage({
            kind,
            layers: [
              { files: { 'etc/base': 'base\n' }, compression },
              { files: { 'etc/top': 'top\n' }, compression },
            ],
          });
          const repo = `test/${kind}-${compression}`;
          const digest = registry.publish(repo, 'v1', img);
          const events: ProgressEvent[] = [];
          const result = await s.images.pull(`${registry.host}/${repo}:v1`, {
            onProgress: (e) => events.push(e),
          });
          assert.deepEqual(result, { ref: `${registry.host}/${repo}:v1`, digest, id: img.configDigest });
          assert.equal(await s.images.readFile(result.id, '/etc/top'), 'top\n');
          assert.equal(await s.images.readFile(result.id, '/etc/base'), 'base\n');
          const [summary] = await s.images.list();
          assert.deepEqual(summary!.repoTags, [`${registry.host}/${repo}:v1`]);
          assert.deepEqual(summary!.repoDigests, [`${registry.host}/${repo}@${digest}`]);
          assert.deepEqual((await s.images.inspect(`${registry.host}/${repo}:v1`)).repoDigests, [
            `${registry.host}/${repo}@${digest}`,
          ]);
          const statuses = events
            .filter((e) => e.id === img.layers[0]!.digest.slice(7, 19))
            .map((e) => e.status);
          assert.deepEqual(
            statuses.filter((st) => st !== 'Downloading'),
            ['Pulling fs layer', 'Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete'],
          );
          const pulls = s.events.list({ type: ['image'], action: ['pull'] }).events;
          assert.equal(pulls.length, 1);
          assert.equal(pulls[0]!.actorId, `${registry.host}/${repo}:v1`);
        } finally {
          s.close();
        }
      });
    }
  }

  it('picks the host platform (or --platform) from an index, and resolves the index digest afterwards', async () => {
    const s = makeService(configDir);
    try {
      const amd = buildImage({ layers: [{ files: { arch: 'amd64' } }] });
      const arm = buildImage({
        layers: [{ files: { arch: 'arm64' } }],
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      });
      const index = registry.publishIndex('multi/app', 'latest', [arm, amd], 'docker');
      const host = await s.images.pull(`${registry.host}/multi/app`);
      assert.equal(host.id, amd.configDigest);
      assert.equal(host.digest, index);
      assert.equal(await s.images.readFile(host.id, 'arch'), 'amd64');
      const other = await s.images.pull(`${registry.host}/multi/app`, { platform: 'linux/arm64' });
      assert.equal(other.id, arm.configDigest);
      assert.equal((await s.images.resolve(`${registry.host}/multi/app@${index}`)).id, arm.configDigest);
      await assert.rejects(
        s.images.pull(`${registry.host}/multi/app`, { platform: 'linux/s390x' }),
        /no matching manifest for linux\/s390x/,
      );
    } finally {
      s.close();
    }
  });

  it('pulls by digest (verified) without creating a tag', async () => {
    const s = makeService(configDir);
    try {
      const img = buildImage({ layers: [{ files: { a: '1' } }] });
      const digest = registry.publish('bydigest/app', 'x', img);
      const r = await s.images.pull(`${registry.host}/bydigest/app@${digest}`);
      assert.equal(r.ref, `${registry.host}/bydigest/app@${digest}`);
      const [summary] = await s.images.list();
      assert.deepEqual(summary!.repoTags, []);
      // A registry that answers a digest with other bytes is refused.
      const other = buildImage({ layers: [{ files: { b: '2' } }] });
      const fake = sha256('not this');
      registry.putManifest('bydigest/lie', undefined, other.manifest, other.manifestMediaType);
      for (const b of other.blobs) registry.putBlob('bydigest/lie', b);
      // Serve the real manifest under a digest it does not have.
      registry.putManifest('bydigest/lie', fake, other.manifest, other.manifestMediaType);
      await assert.rejects(
        s.images.pull(`${registry.host}/bydigest/lie@${fake}`),
        /does not match its digest/,
      );
    } finally {
      s.close();
    }
  });

  it('refuses a corrupted blob and a wrong size, naming the blob, and stores nothing', async () => {
    const s = makeService(configDir);
    try {
      const img = buildImage({
        layers: [{ files: { ok: 'fine' } }, { files: { bad: 'x'.repeat(5000) }, compression: 'none' }],
      });
      registry.publish('corrupt/app', 'latest', img);
      const bad = img.layers[1]!;
      const flipped = Buffer.from(bad.blob);
      flipped[600] = flipped[600]! ^ 0xff; // inside the file's content: the tar still parses
      registry.serveInstead(bad.digest, flipped);
      await assert.rejects(s.images.pull(`${registry.host}/corrupt/app`), (err: Error) => {
        assert.match(err.message, new RegExp(bad.digest));
        return true;
      });
      registry.serveInstead(bad.digest, bad.blob.subarray(0, bad.blob.length - 512));
      await assert.rejects(s.images.pull(`${registry.host}/corrupt/app`), /size mismatch/);
      assert.deepEqual(await s.images.list(), []);
      assert.equal(blobsIn(s.layout.blobs), 0, 'no blob committed');
      assert.equal(blobsIn(s.layout.ingest), 0, 'no partial blob left');
      assert.equal(blobsIn(s.layout.layers), 0, 'no layer left behind');
      registry.serveInstead(bad.digest, bad.blob);
      const r = await s.images.pull(`${registry.host}/corrupt/app`);
      assert.equal(await s.images.readFile(r.id, 'bad'), 'x'.repeat(5000));
    } finally {
      s.close();
    }
  });

  it('skips layers already present and reports them', async () => {
    const s = makeService(configDir, { maxConcurrentDownloads: 1 });
    try {
      const base = { files: { base: 'shared' } };
      const one = buildImage({ layers: [base, { files: { one: '1' } }] });
      const two = buildImage({ layers: [base, { files: { two: '2' } }, { files: { three: '3' } }] });
      registry.publish('share/one', 'latest', one);
      registry.publish('share/two', 'latest', two);
      await s.images.pull(`${registry.host}/share/one`);
      const events: ProgressEvent[] = [];
      const before = registry.log.length;
      await s.images.pull(`${registry.host}/share/two`, { onProgress: (e) => events.push(e) });
      const shared = two.layers[0]!.digest;
      assert.ok(events.some((e) => e.id === shared.slice(7, 19) && e.status === 'Already exists'));
      assert.ok(
        !registry.log.slice(before).some((r) => r.path.endsWith(`/blobs/${shared}`)),
        'shared layer not fetched',
      );
      assert.ok(
        events.some((e) => e.status === 'Waiting'),
        'one download at a time: the third waits',
      );
      // Pulling the same image again fetches no blob at all.
      const again = registry.log.length;
      await s.images.pull(`${registry.host}/share/two`);
      assert.ok(!registry.log.slice(again).some((r) => r.path.includes('/blobs/')));
    } finally {
      s.close();
    }
  });

  it('retries 5xx and honours Retry-After on 429', async () => {
    const s = makeService(configDir);
    try {
      const img = buildImage({ layers: [{ files: { r: 'retry' } }] });
      registry.publish('flaky/app', 'latest', img);
      registry.fail(/GET \/v2\/flaky\/app\/manifests\//, 503, 2);
      registry.fail(new RegExp(`GET /v2/flaky/app/blobs/${img.layers[0]!.digest}`), 429, 1, '1');
      const start = Date.now();
      const r = await s.images.pull(`${registry.host}/flaky/app`);
      assert.equal(r.id, img.configDigest);
      assert.ok(Date.now() - start >= 900, 'waited for Retry-After: 1');
      const manifestGets = registry.log.filter(
        (l) => l.method === 'GET' && l.path === '/v2/flaky/app/manifests/latest',
      );
      assert.equal(manifestGets.length, 3);
    } finally {
      s.close();
    }
  });

  it('pulls every tag with allTags', async () => {
    const s = makeService(configDir);
    try {
      registry.publish('tags/app', 'a', buildImage({ layers: [{ files: { a: 'a' } }] }));
      registry.publish('tags/app', 'b', buildImage({ layers: [{ files: { b: 'b' } }] }));
      await s.images.pull(`${registry.host}/tags/app`, { allTags: true });
      const tags = (await s.images.list()).flatMap((i) => i.repoTags).sort();
      assert.deepEqual(tags, [`${registry.host}/tags/app:a`, `${registry.host}/tags/app:b`]);
      await assert.rejects(
        s.images.pull(`${registry.host}/tags/app:a`, { allTags: true }),
        /can't be used with --all-tags/,
      );
    } finally {
      s.close();
    }
  });

  it('says which manifest is missing', async () => {
    const s = makeService(configDir);
    try {
      await assert.rejects(
        s.images.pull(`${registry.host}/nothing/here:v9`),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'NotFound');
          assert.match(err.message, /manifest for .*nothing\/here:v9 not found/);
          return true;
        },
      );
    } finally {
      s.close();
    }
  });
});
