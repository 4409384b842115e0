import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RootDir } from './in-root.ts';
import { packNode } from './pack.ts';
import { listing, streamBytes, tarOf } from './testing.ts';
import { unpackInto } from './unpack.ts';

/**
 * The CVE-2018-15664 race without a container: a child process swaps `root/data/d` between a directory and a link
 * to a host directory (absolute, by its host path) as fast as rename(2) goes, while this process reads, packs,
 * unpacks into and removes below `/data/d`. Whatever each operation finds, nothing outside the root may be read,
 * created, changed or removed: the host directory is listed (names, modes, mtimes, contents) before and after.
 */
const SWAPPER = `
const fs = require('node:fs');
const [d, tmp, link] = process.argv.slice(1);
for (;;) {
  try { fs.renameSync(d, tmp); fs.renameSync(link, d); fs.renameSync(d, link); fs.renameSync(tmp, d); } catch {}
}`;

describe('RootDir against a tree swapped under it (directory <-> link to a host directory)', () => {
  let base: string;
  let root: string;
  let canary: string;
  let swapper: ChildProcess;
  before(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-rootfs-race-'));
    root = path.join(base, 'root');
    canary = path.join(base, 'canary');
    fs.mkdirSync(path.join(canary, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(canary, 'f'), 'HOST-SECRET\n');
    fs.writeFileSync(path.join(canary, 'sub/g'), 'HOST-SECRET\n');
    fs.mkdirSync(path.join(root, 'data/d/sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'data/d/f'), 'inside\n');
    fs.symlinkSync(canary, path.join(root, 'data/lnk'));
    swapper = spawn(
      process.execPath,
      ['-e', SWAPPER, path.join(root, 'data/d'), path.join(root, 'data/tmp'), path.join(root, 'data/lnk')],
      { stdio: 'ignore' },
    );
  });
  after(() => {
    if (swapper.pid !== undefined && swapper.exitCode === null) process.kill(swapper.pid, 'SIGKILL');
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('reads, packs, unpacks and removes only inside the root, for 1.5 s of swapping', async () => {
    const before = listing(canary);
    const seen = { read: 0, packed: 0, unpacked: 0, failed: 0 };
    const deadline = Date.now() + 1500;
    const tree = RootDir.open(root, 'container race');
    try {
      while (Date.now() < deadline) {
        const text = tree.readFile('/data/d/f', { maxBytes: 100 })?.toString();
        assert.notEqual(text, 'HOST-SECRET\n');
        if (text) seen.read++;
        try {
          const r = tree.resolve('/data/d/.', { follow: true });
          try {
            if (r.node) {
              const bytes = await streamBytes(await packNode(r.node, '.'));
              assert.equal(bytes.includes('HOST-SECRET'), false, 'no host content in the tar');
              seen.packed++;
            }
          } finally {
            r.release();
          }
          const chain = tree.resolveDir('/data');
          try {
            await unpackInto(
              tarOf([
                { name: 'd/planted', body: 'x' },
                { name: 'd/f', body: 'replaced\n' },
                { name: 'd/sub', type: 'directory' },
              ]),
              tree,
              chain,
              { owner: 'none', noOverwriteDirNonDir: true, display: (p) => p },
            );
            seen.unpacked++;
          } finally {
            chain.close();
          }
          const d = tree.resolve('/data/d/sub', { follow: false });
          try {
            d.parent?.removeAll('planted');
          } finally {
            d.release();
          }
        } catch (err) {
          // A lookup that lost the race (gone, not a directory, replaced): a failure, never an escape.
          assert.match(
            (err as Error).message,
            /no such file|not a directory|file exists|cannot overwrite|changed while/,
          );
          seen.failed++;
        }
      }
      assert.equal(tree.openCount, 1, 'every descriptor but the root is closed');
    } finally {
      tree.close();
    }
    console.log(`# ${JSON.stringify(seen)}`);
    assert.deepEqual(listing(canary), before, 'the host directory is untouched');
    assert.ok(seen.read + seen.packed + seen.unpacked > 10, `the race ran: ${JSON.stringify(seen)}`);
  });
});
