import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { RootDir } from './in-root.ts';
import { packNode } from './pack.ts';
import { listing, streamBytes, tarOf } from './testing.ts';
import { type UnpackOptions, unpackInto } from './unpack.ts';

const opts = (o: Partial<UnpackOptions> = {}): UnpackOptions => ({
  owner: 'none',
  noOverwriteDirNonDir: true,
  display: (p) => p,
  ...o,
});

async function unpackTo(dir: string, tar: Readable, o: Partial<UnpackOptions> = {}, into = '/') {
  await RootDir.with(dir, 'destination', async (root) => {
    const chain = root.resolveDir(into);
    try {
      await unpackInto(tar, root, chain, opts(o));
    } finally {
      chain.close();
    }
    assert.equal(root.openCount, 1, 'every descriptor but the root is closed');
  });
}

describe('tar packing and unpacking through pinned directories (cp)', () => {
  let base: string;
  let src: string;
  let outside: string;
  before(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-rootfs-tar-'));
    src = path.join(base, 'src');
    outside = path.join(base, 'outside');
    fs.mkdirSync(path.join(src, 'tree/sub'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'keep'), 'host\n');
    fs.writeFileSync(path.join(src, 'tree/a'), 'alpha\n', { mode: 0o640 });
    fs.linkSync(path.join(src, 'tree/a'), path.join(src, 'tree/sub/a-again'));
    fs.symlinkSync(outside, path.join(src, 'tree/out'));
    fs.writeFileSync(path.join(src, 'tree/sub/empty'), '');
    execFileSync('mkfifo', [path.join(src, 'tree/fifo')]);
    fs.chmodSync(path.join(src, 'tree/sub'), 0o750);
    fs.utimesSync(path.join(src, 'tree/sub'), 1_500_000_000, 1_500_000_000);
  });
  after(() => fs.rmSync(base, { recursive: true, force: true }));

  it('packs a tree and unpacks it elsewhere the same: modes, mtimes, links kept as links, hard links, FIFOs', async () => {
    const dest = fs.mkdtempSync(path.join(base, 'dest-'));
    await RootDir.with(src, 'container test', async (root) => {
      const r = root.resolve('/tree', { follow: false });
      try {
        await unpackTo(dest, await packNode(r.node!, 'copy'));
      } finally {
        r.release();
      }
    });
    assert.deepEqual(listing(path.join(dest, 'copy')), listing(path.join(src, 'tree')));
    assert.equal(
      fs.statSync(path.join(dest, 'copy/a')).ino,
      fs.statSync(path.join(dest, 'copy/sub/a-again')).ino,
    );
    assert.deepEqual(fs.readdirSync(outside), ['keep'], 'the link was written, not followed');
  });

  it('unpacks over an earlier copy: directories merged, files in them replaced', async () => {
    const dest = fs.mkdtempSync(path.join(base, 'dest-'));
    const tree = () =>
      tarOf([
        { name: 'top', type: 'directory', mode: 0o755 },
        { name: 'top/d', type: 'directory', mode: 0o755 },
        { name: 'top/d/f1', body: 'one' },
        { name: 'top/d/f2', body: 'two' },
        { name: 'top/g', body: 'three' },
      ]);
    await unpackTo(dest, tree());
    fs.writeFileSync(path.join(dest, 'top/d/f1'), 'changed');
    await unpackTo(dest, tree());
    assert.equal(fs.readFileSync(path.join(dest, 'top/d/f1'), 'utf8'), 'one');
    assert.equal(fs.readFileSync(path.join(dest, 'top/d/f2'), 'utf8'), 'two');
    assert.equal(fs.readFileSync(path.join(dest, 'top/g'), 'utf8'), 'three');
  });

  it('refuses to use a directory whose descriptor was closed, whatever the number names now', () => {
    const r = RootDir.open(src, 'container test');
    try {
      const chain = r.resolveDir('/tree/sub');
      const dir = chain.dirs.at(-1)!;
      chain.close();
      const other = r.resolveDir('/tree'); // may get the same descriptor number
      assert.throws(() => dir.lookup('empty'), /a descriptor was used after it was closed/);
      other.close();
    } finally {
      r.close();
    }
  });

  it("packs a directory's contents under '.' and a single file under the name asked for", async () => {
    await RootDir.with(src, 'container test', async (root) => {
      const dir = root.resolve('/tree/sub', { follow: false });
      const names = execFileSync('tar', ['-t'], { input: await streamBytes(await packNode(dir.node!, '.')) });
      dir.release();
      assert.deepEqual(names.toString().split('\n').filter(Boolean).sort(), ['.', './a-again', './empty']);
      const file = root.resolve('/tree/a', { follow: false });
      const one = execFileSync('tar', ['-xO'], { input: await streamBytes(await packNode(file.node!, 'x')) });
      file.release();
      assert.equal(one.toString(), 'alpha\n');
    });
  });

  it('confines hostile entries: ".." refused, absolute names and links inside the destination', async () => {
    const dest = fs.mkdtempSync(path.join(base, 'dest-'));
    await assert.rejects(
      unpackTo(dest, tarOf([{ name: '../escape', body: 'x' }])),
      /archive entry "..\/escape" would land outside \//,
    );
    await unpackTo(
      dest,
      tarOf([
        { name: `/abs${outside}`, body: 'absolute' },
        { name: 'l', type: 'symlink', linkname: outside },
        { name: 'l/planted', body: 'through a link' },
        { name: 'up', type: 'symlink', linkname: '../../../../..' },
        { name: 'up/x', body: 'climbed' },
        { name: 'h', type: 'link', linkname: 'up/x' },
      ]),
    );
    assert.deepEqual(fs.readdirSync(outside), ['keep']);
    assert.equal(fs.readFileSync(path.join(dest, `abs${outside}`), 'utf8'), 'absolute');
    assert.equal(fs.readFileSync(path.join(dest, outside, 'planted'), 'utf8'), 'through a link');
    assert.equal(fs.readFileSync(path.join(dest, 'x'), 'utf8'), 'climbed');
    assert.equal(fs.readlinkSync(path.join(dest, 'l')), outside);
    await assert.rejects(
      unpackTo(dest, tarOf([{ name: 'h2', type: 'link', linkname: '../../keep' }])),
      /would land outside/,
    );
  });

  it('refuses to replace a directory with a file and the reverse, losing nothing', async () => {
    const dest = fs.mkdtempSync(path.join(base, 'dest-'));
    fs.mkdirSync(path.join(dest, 'FILE'));
    fs.writeFileSync(path.join(dest, 'FILE/precious'), 'keep me\n');
    fs.writeFileSync(path.join(dest, 'plain'), 'file\n');
    await assert.rejects(
      unpackTo(dest, tarOf([{ name: 'FILE', body: 'new' }]), {}, '/'),
      /cannot overwrite directory "\/FILE" with non-directory "\/"/,
    );
    await assert.rejects(
      unpackTo(dest, tarOf([{ name: 'plain', type: 'directory' }])),
      /cannot overwrite non-directory "\/plain" with directory "\/"/,
    );
    assert.equal(fs.readFileSync(path.join(dest, 'FILE/precious'), 'utf8'), 'keep me\n');
    assert.equal(fs.readFileSync(path.join(dest, 'plain'), 'utf8'), 'file\n');
    // Without the rule (docker's API default), a file replaces a file or a link, never writing through it.
    fs.symlinkSync(path.join(outside, 'keep'), path.join(dest, 'link'));
    await unpackTo(dest, tarOf([{ name: 'link', body: 'replaced' }]), { noOverwriteDirNonDir: false });
    assert.equal(fs.readFileSync(path.join(dest, 'link'), 'utf8'), 'replaced');
    assert.equal(fs.readFileSync(path.join(outside, 'keep'), 'utf8'), 'host\n');
  });

  // Owners other than our own need root (lchown); the unit tests run without it too.
  const asRoot = process.getuid?.() === 0 ? {} : { skip: 'sets owners: needs root' };
  it('renames the top entry (docker rebase) and sets owners only as asked', asRoot, async () => {
    const dest = fs.mkdtempSync(path.join(base, 'dest-'));
    const tar = () =>
      tarOf([
        { name: 'orig', type: 'directory', mode: 0o755 },
        { name: 'orig/f', body: 'x', uid: 123, gid: 456 } as never,
      ]);
    await unpackTo(dest, tar(), { rebase: { from: 'orig', to: 'renamed' }, owner: 'tar' });
    assert.equal(fs.statSync(path.join(dest, 'renamed/f')).uid, 123);
    assert.equal(fs.statSync(path.join(dest, 'renamed/f')).gid, 456);
    await unpackTo(dest, tar(), { rebase: { from: 'orig', to: 'mine' }, owner: { uid: 7, gid: 8 } });
    assert.equal(fs.statSync(path.join(dest, 'mine/f')).uid, 7);
    await unpackTo(dest, tar(), { rebase: { from: 'orig', to: '.' }, noOverwriteDirNonDir: false });
    assert.equal(fs.statSync(path.join(dest, 'f')).uid, process.getuid?.() ?? 0);
  });
});
