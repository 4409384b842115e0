import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { readSerialLog } from './serial-log.ts';

async function collect(it: AsyncIterable<Uint8Array>): Promise<string> {
  let out = '';
  for await (const c of it) out += Buffer.from(c).toString('utf8');
  return out;
}

describe('readSerialLog', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-serial-'));
    file = path.join(dir, 'serial.log');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads what is there; a VM that never ran has an empty log', async () => {
    assert.equal(await collect(readSerialLog({ file, follow: false, running: () => true })), '');
    fs.writeFileSync(file, 'boot\n');
    assert.equal(await collect(readSerialLog({ file, follow: false, running: () => true })), 'boot\n');
  });

  it('follows what QEMU appends and ends, with the last lines, once the VM stops', async () => {
    fs.writeFileSync(file, 'one\n');
    let running = true;
    setTimeout(() => fs.appendFileSync(file, 'two\n'), 150);
    setTimeout(() => {
      fs.appendFileSync(file, 'last\n');
      running = false;
    }, 300);
    assert.equal(
      await collect(readSerialLog({ file, follow: true, running: () => running })),
      'one\ntwo\nlast\n',
    );
  });

  it('ends a follow of a quiet, running VM when its reader goes away', async () => {
    fs.writeFileSync(file, 'quiet\n');
    const gone = new AbortController();
    setTimeout(() => gone.abort(), 150);
    const started = Date.now();
    const out = await collect(
      readSerialLog({ file, follow: true, running: () => true, signal: gone.signal }),
    );
    assert.equal(out, 'quiet\n');
    assert.ok(Date.now() - started < 1000, 'it ended soon after the abort');
  });
});
