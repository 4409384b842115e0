import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { chainIds, sha256 } from '../../../core/image/digest.ts';
import type { LayerStore } from '../../../core/image/stores.ts';
import { tarOf } from '../../registry/testing/test-images.ts';

/**
 * What every LayerStore does, the real one and the fakes alike: a layer blob (plain or gzip tar) unpacked under
 * its chain id, checked against the diff id it should have, visible whole or not at all, removed at once.
 * `make` gives a fresh, empty store, a scratch directory for blob files, and a clean-up.
 */
export function layerStoreSuite(
  name: string,
  make: () => { store: LayerStore; scratch: string; cleanup: () => void },
): void {
  describe(`${name} (the LayerStore suite)`, () => {
    let store: LayerStore;
    let scratch: string;
    let cleanup: () => void;
    beforeEach(() => {
      ({ store, scratch, cleanup } = make());
    });
    afterEach(() => cleanup());

    const base = tarOf({ 'etc/os-release': 'ID=test\n', 'bin/tool': 'tool' });
    const top = tarOf({ 'etc/top': 'top\n' });
    const file = (bytes: Buffer) => {
      const f = path.join(scratch, `${sha256(bytes).slice(7, 19)}.blob`);
      fs.writeFileSync(f, bytes);
      return f;
    };

    it('unpacks a base layer under its diff id: the files, their size, has and list', async () => {
      const u = await store.unpack({ blob: file(base), parent: undefined, label: 'base' });
      assert.equal(u.diffId, sha256(base));
      assert.equal(u.chainId, u.diffId);
      assert.equal(u.size, 'ID=test\n'.length + 'tool'.length);
      assert.equal(u.created, true);
      assert.equal(fs.readFileSync(path.join(store.dir(u.chainId), 'etc/os-release'), 'utf8'), 'ID=test\n');
      assert.equal(await store.has(u.chainId), true);
      assert.deepEqual(await store.list(), [u.chainId]);
      assert.deepEqual(await store.opaqueDirs(u.chainId), []);
    });

    it("names a layer on a parent by the chain of the parent's id and its own diff id", async () => {
      const b = await store.unpack({ blob: file(base), parent: undefined, label: 'base' });
      const t = await store.unpack({ blob: file(top), parent: b.chainId, label: 'top' });
      assert.equal(t.chainId, chainIds([b.diffId, sha256(top)])[1]);
      assert.deepEqual((await store.list()).sort(), [b.chainId, t.chainId].sort());
    });

    it('reads gzip blobs and streams: the diff id is of the tar inside', async () => {
      const u = await store.unpack({
        blob: Readable.from([zlib.gzipSync(base)]),
        parent: undefined,
        label: 'gz',
      });
      assert.equal(u.diffId, sha256(base));
    });

    it('refuses content that does not hash to the expected diff id, keeping nothing', async () => {
      await assert.rejects(
        store.unpack({ blob: file(base), parent: undefined, expectedDiffId: sha256(top), label: 'bad' }),
        /layer bad: content does not match its diff id/,
      );
      assert.deepEqual(await store.list(), []);
      assert.equal(await store.has(sha256(base)), false);
    });

    it('unpacking a layer it has already says so and keeps the first', async () => {
      const first = await store.unpack({ blob: file(base), parent: undefined, label: 'base' });
      const again = await store.unpack({ blob: file(base), parent: undefined, label: 'base' });
      assert.deepEqual({ ...again, created: true }, first);
      assert.equal(again.created, false);
      assert.deepEqual(await store.list(), [first.chainId]);
    });

    it('removes a layer at once and reclaims it later; a missing layer is no error', async () => {
      const u = await store.unpack({ blob: file(base), parent: undefined, label: 'base' });
      const reclaim = store.remove(u.chainId);
      assert.equal(await store.has(u.chainId), false);
      assert.deepEqual(await store.list(), []);
      await reclaim();
      await store.remove(u.chainId)();
    });
  });
}
