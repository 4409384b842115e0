import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { makeTar } from '../../../test/helpers/image-tar.ts';
import { applyLayer } from './apply-layer.ts';

const isRoot = process.getuid?.() === 0;
const rootOnly = isRoot ? false : 'needs root: mknod, lchown and trusted.* attributes';

describe('applyLayer', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-apply-'));
  after(() => fs.rmSync(base, { recursive: true, force: true }));
  let n = 0;
  async function unpack(entries: Parameters<typeof makeTar>[0]) {
    const dir = path.join(base, String(n++));
    fs.mkdirSync(dir);
    const result = await applyLayer(Readable.from([await makeTar(entries)]), dir, {
      label: 'sha256:test',
      preserveOwnership: isRoot,
      scratchDir: base,
    });
    return { dir, result };
  }

  it('keeps files, modes, times, symlinks and hard links', async () => {
    const mtime = new Date('2020-05-06T07:08:09Z');
    const { dir, result } = await unpack([
      { name: 'bin/', type: 'directory', mode: 0o750, mtime },
      { name: 'bin/busybox', content: 'BUSYBOX', mode: 0o4755, mtime },
      { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
      { name: 'bin/ls', type: 'link', linkname: 'bin/busybox' },
      { name: 'tmp/', type: 'directory', mode: 0o1777 },
      { name: '/abs/file', content: 'abs' },
    ]);
    assert.equal(result.size, 'BUSYBOX'.length + 3);
    const bb = fs.statSync(path.join(dir, 'bin/busybox'));
    assert.equal(bb.mode & 0o7777, 0o4755);
    assert.equal(bb.mtime.getTime(), mtime.getTime());
    assert.equal(bb.nlink, 2);
    assert.equal(fs.statSync(path.join(dir, 'bin/ls')).ino, bb.ino);
    assert.equal(fs.readlinkSync(path.join(dir, 'bin/sh')), 'busybox');
    const binDir = fs.statSync(path.join(dir, 'bin'));
    assert.equal(binDir.mode & 0o7777, 0o750);
    assert.equal(binDir.mtime.getTime(), mtime.getTime(), 'directory times are set after their children');
    assert.equal(fs.statSync(path.join(dir, 'tmp')).mode & 0o7777, 0o1777);
    assert.equal(fs.readFileSync(path.join(dir, 'abs/file'), 'utf8'), 'abs');
  });

  it('later entries replace earlier ones', async () => {
    const { dir } = await unpack([
      { name: 'a', content: 'one' },
      { name: 'a', content: 'two' },
      { name: 'd/', type: 'directory' },
      { name: 'd/x', content: 'x' },
      { name: 'd', type: 'symlink', linkname: 'a' },
    ]);
    assert.equal(fs.readFileSync(path.join(dir, 'a'), 'utf8'), 'two');
    assert.equal(fs.readlinkSync(path.join(dir, 'd')), 'a');
  });

  it('keeps owners', { skip: rootOnly }, async () => {
    const { dir } = await unpack([
      { name: 'home/', type: 'directory', uid: 1000, gid: 1001 },
      { name: 'home/f', content: 'f', uid: 1000, gid: 1001, mode: 0o2755 },
      { name: 'home/l', type: 'symlink', linkname: 'f', uid: 7, gid: 8 },
    ]);
    const f = fs.statSync(path.join(dir, 'home/f'));
    assert.deepEqual([f.uid, f.gid, f.mode & 0o7777], [1000, 1001, 0o2755]);
    const l = fs.lstatSync(path.join(dir, 'home/l'));
    assert.deepEqual([l.uid, l.gid], [7, 8]);
    assert.equal(fs.statSync(path.join(dir, 'home')).uid, 1000);
  });

  it('turns whiteouts into overlay whiteouts and opaque markers into the opaque attribute', {
    skip: rootOnly,
  }, async () => {
    const { dir, result } = await unpack([
      { name: 'etc/.wh.motd', content: '' },
      { name: 'var/cache/.wh..wh..opq', content: '' },
      { name: 'var/cache/new', content: 'n' },
      { name: '.wh..wh.plnk', type: 'directory' }, // AUFS bookkeeping: ignored
    ]);
    const wh = fs.lstatSync(path.join(dir, 'etc/motd'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.equal(fs.existsSync(path.join(dir, 'etc/.wh.motd')), false);
    assert.equal(fs.existsSync(path.join(dir, '.wh..wh.plnk')), false);
    const attr = execFileSync(
      'getfattr',
      ['--only-values', '-n', 'trusted.overlay.opaque', path.join(dir, 'var/cache')],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(attr, 'y');
    assert.deepEqual(result.opaqueDirs, ['var/cache']);
  });

  it('creates device nodes and fifos', { skip: rootOnly }, async () => {
    const { dir } = await unpack([
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660 },
      { name: 'run/fifo', type: 'fifo', mode: 0o600 },
    ]);
    const nul = fs.lstatSync(path.join(dir, 'dev/null'));
    assert.ok(nul.isCharacterDevice());
    assert.equal(nul.rdev, (1 << 8) | 3);
    assert.equal(nul.mode & 0o777, 0o666);
    assert.ok(fs.lstatSync(path.join(dir, 'dev/loop0')).isBlockDevice());
    assert.ok(fs.lstatSync(path.join(dir, 'run/fifo')).isFIFO());
  });

  it('keeps user.* attributes from PAX headers', { skip: rootOnly }, async () => {
    const { dir } = await unpack([{ name: 'f', content: 'x', pax: { 'SCHILY.xattr.user.note': 'hello' } }]);
    const v = execFileSync('getfattr', ['--only-values', '-n', 'user.note', path.join(dir, 'f')], {
      encoding: 'utf8',
    });
    assert.equal(v, 'hello');
  });
});
