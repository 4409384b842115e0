import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { InternalError } from '../../core/errors.ts';
import { readExitFile } from './exit-file.ts';

describe('readExitFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-exitfile-'));
    fs.mkdirSync(path.join(dir, 'exits'));
    fs.mkdirSync(path.join(dir, 'bundle'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const loc = () => ({ id: 'c1', exitDir: path.join(dir, 'exits'), bundle: path.join(dir, 'bundle') });

  it('is undefined while there is no exit file (the container runs, or its exit was recorded and removed)', async () => {
    assert.equal(await readExitFile(loc()), undefined);
  });

  it('reads the status, the time it was written and the OOM marker', async () => {
    const file = path.join(dir, 'exits', 'c1');
    fs.writeFileSync(file, '137');
    fs.utimesSync(file, 1_700_000_000, 1_700_000_000);
    fs.writeFileSync(path.join(dir, 'bundle', 'oom'), '');
    assert.deepEqual(await readExitFile(loc()), {
      exitCode: 137,
      finishedAt: 1_700_000_000_000,
      oomKilled: true,
    });
  });

  it('refuses a file that holds no status, naming what it holds', async () => {
    fs.writeFileSync(path.join(dir, 'exits', 'c1'), 'garbage');
    await assert.rejects(
      readExitFile(loc()),
      (e: Error) => e instanceof InternalError && /"garbage"/.test(e.message),
    );
  });
});
