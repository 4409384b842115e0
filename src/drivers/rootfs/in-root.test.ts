import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RootDir } from './in-root.ts';

/**
 * A root with links that point out of it in every way a container can write one: absolute to a host directory,
 * relative with more ".." than there are levels, a loop. Every lookup must stay inside.
 */
describe('RootDir: paths resolved inside the root by the kernel, one pinned directory at a time', () => {
  let base: string;
  let rootPath: string;
  let outside: string;
  before(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-inroot-'));
    rootPath = path.join(base, 'root');
    outside = path.join(base, 'outside');
    fs.mkdirSync(path.join(rootPath, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(rootPath, 'data/sub'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret'), 'host\n');
    fs.writeFileSync(path.join(rootPath, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
    fs.writeFileSync(path.join(rootPath, 'secret'), 'container\n');
    fs.symlinkSync(outside, path.join(rootPath, 'data/abs')); // absolute: the host's directory, by name
    fs.symlinkSync('../../../../..', path.join(rootPath, 'data/up')); // climbs above the root
    fs.symlinkSync(path.join(outside, 'secret'), path.join(rootPath, 'data/evil'));
    fs.symlinkSync('loop', path.join(rootPath, 'data/loop'));
    fs.symlinkSync('sub', path.join(rootPath, 'data/rel'));
    fs.symlinkSync('/nowhere', path.join(rootPath, 'data/dangling'));
    fs.writeFileSync(path.join(rootPath, 'data/sub/file'), 'in sub\n');
  });
  after(() => fs.rmSync(base, { recursive: true, force: true }));

  const withRoot = <T>(fn: (r: RootDir) => T): T => {
    const r = RootDir.open(rootPath, 'container test');
    try {
      const out = fn(r);
      assert.equal(r.openCount, 1, 'every descriptor but the root is closed');
      return out;
    } finally {
      r.close();
    }
  };

  it('follows an absolute link from the root, never to the host directory of that name', () => {
    withRoot((r) => {
      // <outside>/secret looked up from the root: `<root><outside>/secret`, which does not exist.
      assert.throws(() => r.resolve('/data/evil', { follow: true }), /container test: \/tmp: no such file/);
      assert.equal(r.readFile('/data/evil', { maxBytes: 100 }), undefined);
      assert.throws(() => r.resolve('/data/abs/secret', { follow: true }), /no such file or directory/);
    });
  });

  it('stops ".." at the root: too many of them land on the root, not above it', () => {
    withRoot((r) => {
      assert.equal(r.readFile('/data/up/secret', { maxBytes: 100 })?.toString(), 'container\n');
      assert.equal(r.readFile('../../../secret', { maxBytes: 100 })?.toString(), 'container\n');
      const res = r.resolve('/data/up', { follow: true });
      assert.equal(res.path, '/');
      assert.equal(res.parent, undefined);
      assert.equal(res.node?.kind, 'dir');
      res.release();
    });
  });

  it('leaves the final link alone without follow, and follows it with', () => {
    withRoot((r) => {
      const link = r.resolve('/data/rel', { follow: false });
      assert.equal(link.node?.kind, 'symlink');
      assert.equal(link.name, 'rel');
      assert.equal(link.parent?.path, '/data');
      link.release();
      const dir = r.resolve('/data/rel', { follow: true });
      assert.equal(dir.node?.kind, 'dir');
      assert.equal(dir.path, '/data/sub');
      dir.release();
      assert.equal(r.readFile('data/rel/file', { maxBytes: 100 })?.toString(), 'in sub\n');
    });
  });

  it('reports a dangling final link as missing where its target would be', () => {
    withRoot((r) => {
      const res = r.resolve('/data/dangling', { follow: true });
      assert.equal(res.node, undefined);
      assert.equal(res.path, '/nowhere');
      assert.equal(res.parent?.path, '/');
      res.release();
    });
  });

  it('refuses loops after 40 links and files used as directories, naming the path inside the root', () => {
    withRoot((r) => {
      assert.throws(
        () => r.resolve('/data/loop', { follow: true }),
        (err: Error) =>
          /container test: \/data\/loop: too many levels of symbolic links/.test(err.message) &&
          !err.message.includes(rootPath),
      );
      assert.throws(() => r.resolve('/secret/x', { follow: false }), /\/secret: not a directory/);
      assert.throws(() => r.resolve('/nosuch/x', { follow: false }), /\/nosuch: no such file/);
    });
  });

  it('makes missing directories with create, and resolves from a chain (".." pops the chain, not a name)', () => {
    withRoot((r) => {
      const chain = r.resolveDir('/data/rel', {});
      assert.deepEqual(chain.names, ['data', 'sub']);
      const res = r.resolve('new/deeper/x', { follow: false, create: true, from: chain });
      assert.equal(res.path, '/data/sub/new/deeper/x');
      assert.equal(res.node, undefined);
      res.parent!.symlink('../../../../../../../etc', 'x');
      res.release();
      const up = r.resolve('new/deeper/x/passwd', { follow: true, from: chain });
      assert.equal(up.path, '/etc/passwd');
      up.release();
      chain.close();
    });
    assert.equal(fs.readlinkSync(path.join(rootPath, 'data/sub/new/deeper/x')), '../../../../../../../etc');
  });

  it('acts on names inside pinned directories, never following the final one', async () => {
    const r = RootDir.open(rootPath, 'container test');
    try {
      const d = r.resolveDir('/data');
      const dir = d.dirs.at(-1)!;
      dir.mkdir('made', 0o700);
      const fd = dir.createFile('created', 0o600);
      fs.writeSync(fd, 'x');
      r.release(fd);
      assert.throws(() => dir.createFile('evil', 0o600), /file exists/, 'never opens through a link');
      assert.throws(() => dir.createFile('dangling', 0o600), /file exists/);
      await dir.mknod('fifo', { type: 'p', major: 0, minor: 0 });
      const fifo = dir.lookup('fifo')!;
      assert.equal(fifo.kind, 'fifo');
      fifo.setMeta({ mode: 0o640, mtime: new Date(1_000_000) });
      fifo.close();
      assert.equal(fs.lstatSync(path.join(rootPath, 'data/fifo')).mode & 0o777, 0o640);
      dir.link(dir, 'created', 'hard');
      assert.equal(fs.lstatSync(path.join(rootPath, 'data/hard')).nlink, 2);
      dir.removeAll('abs'); // a link to the host directory: the link goes, not what it points to
      assert.equal(fs.existsSync(path.join(outside, 'secret')), true);
      for (const n of ['made', 'created', 'fifo', 'hard']) dir.removeAll(n);
      d.close();
      assert.equal(r.openCount, 1);
    } finally {
      r.close();
    }
    fs.symlinkSync(outside, path.join(rootPath, 'data/abs'));
    assert.deepEqual(fs.readdirSync(outside), ['secret']);
  });

  it('opens a file for reading only when it is a regular file', () => {
    withRoot((r) => {
      const res = r.resolve('/etc/passwd', { follow: false });
      const fd = res.node!.openRead();
      assert.match(fs.readFileSync(fd, 'utf8'), /^root:/);
      r.release(fd);
      res.release();
      const dir = r.resolve('/etc', { follow: false });
      assert.throws(() => dir.node!.openRead(), /not a regular file/);
      dir.release();
    });
  });
});
