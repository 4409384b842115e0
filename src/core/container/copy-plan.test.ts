import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertsDirectory,
  containerPath,
  followedSource,
  goFileMode,
  kindOfGoMode,
  planCopy,
  splitPathDirEntry,
} from './copy-plan.ts';

/**
 * docker's cp table (docs "docker container cp", moby pkg/archive/copy.go PrepareArchiveCopy), each row also run
 * against Debian's dockerd 20.10 with docker CLI 28 when this was written; the words are docker's.
 */
describe('planCopy: where a copy lands, or docker refusal', () => {
  const file = { path: '/src/f', isDir: false };
  const dir = { path: '/src/d', isDir: true };
  const contents = { path: '/src/d/.', isDir: true };
  const missing = (path: string) => ({ path, exists: false, isDir: false });
  const existingFile = (path: string) => ({ path, exists: true, isDir: false });
  const existingDir = (path: string) => ({ path, exists: true, isDir: true });

  it('a file: to a new name, over a file, into a directory under its own name', () => {
    assert.deepEqual(planCopy(file, missing('/dst/new')), { dir: '/dst', name: 'new' });
    assert.deepEqual(planCopy(file, existingFile('/dst/old')), { dir: '/dst', name: 'old' });
    assert.deepEqual(planCopy(file, existingDir('/dst/')), { dir: '/dst', name: 'f' });
  });

  it('a file to a missing path with a trailing "/": no such directory (also a dangling link with "/")', () => {
    assert.throws(() => planCopy(file, missing('/nosuchdir/')), {
      message: 'no such directory',
      code: 'NotFound',
    });
    assert.throws(() => planCopy(file, missing('/nowhere/.')), /no such directory/);
  });

  it('a directory: made at a new name, refused over a file, into a directory, or merged with "/."', () => {
    assert.deepEqual(planCopy(dir, missing('/dst/new')), { dir: '/dst', name: 'new' });
    assert.deepEqual(planCopy(dir, missing('/dst/new/')), { dir: '/dst', name: 'new' });
    assert.throws(() => planCopy(dir, existingFile('/dst/f')), {
      message: 'cannot copy directory',
      code: 'Conflict',
    });
    assert.deepEqual(planCopy(dir, existingDir('/dst')), { dir: '/dst', name: 'd' });
    assert.deepEqual(planCopy(contents, existingDir('/dst/.')), { dir: '/dst', name: '.' });
    assert.deepEqual(planCopy(contents, missing('/dst/out')), { dir: '/dst', name: 'out' });
  });

  it('-L keeps the name of the link it followed', () => {
    const followed = followedSource('/data/link', '/data/sub');
    assert.deepEqual(followed, { path: '/data/sub', rebaseName: 'link' });
    assert.deepEqual(planCopy({ ...followed, isDir: true }, existingDir('/out')), {
      dir: '/out',
      name: 'link',
    });
    assert.deepEqual(followedSource('/data/link/.', '/data/sub'), { path: '/data/sub/.' });
    assert.deepEqual(followedSource('/a/rel', 'x/y'), { path: '/a/x/y', rebaseName: 'rel' });
    assert.deepEqual(followedSource('/a/same', '/b/same'), { path: '/b/same' });
  });

  it('a source path that asserts a directory follows its final link; its archive is named by its base', () => {
    assert.equal(assertsDirectory('/data/link'), false);
    assert.equal(assertsDirectory('/data/link/'), true);
    assert.equal(assertsDirectory('/data/link/.'), true);
    assert.deepEqual(splitPathDirEntry('/data/link/.'), { dir: '/data/link', base: '.' });
    assert.deepEqual(splitPathDirEntry('/'), { dir: '/', base: '/' });
    assert.deepEqual(splitPathDirEntry('/a/b/../c/'), { dir: '/a', base: 'c' });
  });

  it('container paths are absolute and clean, keeping a trailing "/" or "/."; NUL is refused', () => {
    assert.equal(containerPath('etc/passwd'), '/etc/passwd');
    assert.equal(containerPath('../../etc/'), '/etc/');
    assert.equal(containerPath('/data/./link/.'), '/data/link/.');
    assert.equal(containerPath(''), '/');
    assert.throws(() => containerPath('a\0b'), /contains NUL/);
  });

  it("docker's os.FileMode bits, there and back", () => {
    assert.equal(goFileMode('dir', 0o40755), 2147484141);
    assert.equal(goFileMode('symlink', 0o120777), 134218239); // what dockerd 20.10 said of a link
    assert.equal(goFileMode('file', 0o104755), 2 ** 23 + 0o755);
    for (const k of ['dir', 'file', 'symlink', 'char', 'block', 'fifo', 'socket'] as const)
      assert.equal(kindOfGoMode(goFileMode(k, 0o644)), k);
  });
});
