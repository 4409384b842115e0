import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { InvalidArgumentError, NotFoundError } from '../../../core/errors.ts';
import { sha256 } from '../../../core/image/digest.ts';
import type { ContentStore } from '../../../core/image/stores.ts';

/**
 * What every ContentStore does, the real one and the fakes alike: blobs named by their digest, verified on the
 * way in, invisible while staged, readable by path once committed. `make` gives a fresh, empty store and a
 * clean-up for it.
 */
export function contentStoreSuite(
  name: string,
  make: () => { store: ContentStore; cleanup: () => void },
): void {
  describe(`${name} (the ContentStore suite)`, () => {
    let store: ContentStore;
    let cleanup: () => void;
    beforeEach(() => {
      ({ store, cleanup } = make());
    });
    afterEach(() => cleanup());

    it('writes a blob under its digest: has, size, read, list and the file at its path', async () => {
      const data = Buffer.from('hello blob');
      const { digest, size } = await store.write(data, { digest: sha256(data), size: data.length });
      assert.equal(digest, sha256(data));
      assert.equal(size, data.length);
      assert.equal(await store.has(digest), true);
      assert.equal(await store.size(digest), data.length);
      assert.deepEqual(await store.read(digest), data);
      assert.deepEqual(fs.readFileSync(store.path(digest)), data);
      assert.deepEqual(await store.list(), [digest]);
    });

    it('refuses content that does not match the digest or size it should have, keeping nothing', async () => {
      await assert.rejects(
        store.write(Buffer.from('evil'), { digest: sha256('good') }),
        (e: unknown) => e instanceof InvalidArgumentError && /does not match its digest/.test(e.message),
      );
      await assert.rejects(store.write(Buffer.from('abc'), { size: 4 }), /size mismatch/);
      assert.deepEqual(await store.list(), []);
    });

    it('keeps a staged blob invisible until commit; a second commit of the same content keeps one', async () => {
      const staged = await store.stage(Readable.from([Buffer.from('a'), Buffer.from('b')]));
      assert.equal(staged.digest, sha256('ab'));
      assert.equal(staged.size, 2);
      assert.equal(fs.readFileSync(staged.file).toString(), 'ab');
      assert.equal(await store.has(staged.digest), false);
      staged.commit();
      assert.equal(await store.has(staged.digest), true);
      const again = await store.stage(Readable.from([Buffer.from('ab')]));
      again.commit();
      assert.deepEqual(await store.list(), [sha256('ab')]);
    });

    it('discards a staged blob without a trace', async () => {
      const staged = await store.stage(Readable.from([Buffer.from('gone')]));
      await staged.discard();
      assert.equal(fs.existsSync(staged.file), false);
      assert.equal(await store.has(staged.digest), false);
    });

    it('reads only what exists and is small enough', async () => {
      await assert.rejects(store.read(sha256('missing')), NotFoundError);
      const { digest } = await store.write(Buffer.alloc(100));
      await assert.rejects(store.read(digest, 10), /100 bytes, more than 10 allowed/);
      assert.equal(await store.size(sha256('missing')), undefined);
    });

    it('deletes at once, and a blob already gone is no error', async () => {
      const { digest } = await store.write(Buffer.from('x'));
      store.delete(digest);
      assert.equal(await store.has(digest), false);
      assert.deepEqual(await store.list(), []);
      store.delete(digest);
    });
  });
}
