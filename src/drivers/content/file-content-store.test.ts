import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { InvalidArgumentError } from '../../core/errors.ts';
import { sha256 } from '../../core/image/digest.ts';
import { layoutFor } from '../../core/paths.ts';
import { FileContentStore } from './file-content-store.ts';
import { contentStoreSuite } from './testing/content-store.suite.ts';

describe('FileContentStore', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-content-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const layout = layoutFor(root);
  const store = new FileContentStore({ layout });

  it('writes a blob under its digest, verified', async () => {
    const data = Buffer.from('hello blob');
    const { digest, size } = await store.write(data, { digest: sha256(data), size: data.length });
    assert.equal(digest, sha256(data));
    assert.equal(size, data.length);
    assert.deepEqual(await store.read(digest), data);
    assert.equal(fs.readFileSync(path.join(layout.blobs, digest.slice(7))).toString(), 'hello blob');
    assert.deepEqual(await store.list(), [digest]);
  });

  it('refuses a digest mismatch and leaves nothing visible', async () => {
    const before = await store.list();
    await assert.rejects(
      store.write(Buffer.from('evil'), { digest: sha256('good') }),
      (e: unknown) => e instanceof InvalidArgumentError && /does not match its digest/.test(e.message),
    );
    await assert.rejects(
      store.write(Buffer.from('abc'), { size: 4 }),
      /size mismatch: expected 4 bytes, got 3/,
    );
    assert.deepEqual(await store.list(), before);
    assert.deepEqual(fs.readdirSync(layout.ingest), []);
  });

  it('keeps staged blobs invisible until commit', async () => {
    const staged = await store.stage(Readable.from([Buffer.from('a'), Buffer.from('b')]));
    assert.equal(staged.digest, sha256('ab'));
    assert.equal(await store.has(staged.digest), false);
    staged.commit();
    assert.equal(await store.has(staged.digest), true);
    const again = await store.stage(Readable.from([Buffer.from('ab')]));
    again.commit(); // already present: the staged copy is dropped
    assert.deepEqual(fs.readdirSync(layout.ingest), []);
  });

  it('a failing source leaves no ingest file', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('source broke'));
      },
    });
    await assert.rejects(store.stage(failing), /source broke/);
    assert.deepEqual(fs.readdirSync(layout.ingest), []);
  });
});

contentStoreSuite('FileContentStore', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-content-'));
  return {
    store: new FileContentStore({ layout: layoutFor(root) }),
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
});
