import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { EXIT_HEADROOM_BYTES, exitHeadroom } from './exit-headroom.ts';

describe('exitHeadroom', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-headroom-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('holds its bytes in a deleted file of the exit directory: nothing to see there, nothing to clean up', () => {
    const fd = exitHeadroom(dir);
    assert.ok(fd !== undefined);
    try {
      const st = fs.fstatSync(fd);
      assert.equal(st.size, EXIT_HEADROOM_BYTES);
      assert.ok(st.blocks * 512 >= EXIT_HEADROOM_BYTES, 'the blocks are really taken');
      assert.equal(st.nlink, 0, 'deleted');
      assert.equal(st.dev, fs.statSync(dir).dev, 'on the exit directory’s file system');
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('gives nothing when the directory cannot take it', () => {
    assert.equal(exitHeadroom(path.join(dir, 'missing')), undefined);
  });
});
