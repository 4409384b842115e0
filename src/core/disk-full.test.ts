import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asDiskFullError, diskFullError, findDiskFull } from './disk-full.ts';
import { InternalError, ResourceExhaustedError } from './errors.ts';

const ctx = { root: '/srv/hbx', db: '/srv/hbx/db.sqlite' };

function errno(code: string, props: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${code}: no space left on device, write`), { code, ...props });
}

function sqlite(errcode: number, message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_SQLITE_ERROR', errcode, errstr: message });
}

describe('disk-full errors', () => {
  it('names the path of a failed write and what to free', () => {
    const e = asDiskFullError(errno('ENOSPC', { path: '/srv/hbx/containers/abc/config.json' }), ctx);
    assert.ok(e instanceof ResourceExhaustedError);
    assert.equal(
      e.message,
      'no space left on device: cannot write /srv/hbx/containers/abc/config.json: free space with `hyperbox system prune`, `hyperbox rm`, `hyperbox rmi` or `hyperbox volume rm` (`hyperbox system df` shows what uses it)',
    );
  });

  it('names the database for SQLite\'s full disk and its -shm failure ("disk I/O error")', () => {
    for (const raw of [sqlite(13, 'database or disk is full'), sqlite(4874, 'disk I/O error')]) {
      const e = asDiskFullError(raw, ctx);
      assert.match(
        e?.message ?? '',
        /^no space left on device: cannot write \/srv\/hbx\/db\.sqlite: free space/,
      );
    }
    assert.equal(asDiskFullError(sqlite(5, 'database is locked'), ctx), undefined);
  });

  it("finds a wrapped error, keeps the wrapper's words without the raw text, and names the root without a path", () => {
    const raw = errno('ENOSPC');
    const wrapped = new InternalError(`layer sha256:ab: cannot unpack entry "etc/group": ${raw.message}`, {
      cause: raw,
    });
    assert.equal(findDiskFull(wrapped)?.raw, raw);
    const e = asDiskFullError(wrapped, ctx);
    assert.match(
      e?.message ?? '',
      /^no space left on device: layer sha256:ab: cannot unpack entry "etc\/group": cannot write under \/srv\/hbx: free space/,
    );
    assert.equal(asDiskFullError(errno('EDQUOT'), ctx)?.code, 'ResourceExhausted');
  });

  it('leaves other errors alone, and its own as they are', () => {
    assert.equal(asDiskFullError(errno('EACCES'), ctx), undefined);
    assert.equal(asDiskFullError(new Error('boom'), ctx), undefined);
    const own = diskFullError({ path: '/srv/hbx', action: 'cannot pull x', freeBytes: 4096 });
    assert.equal(asDiskFullError(own, ctx), own);
    assert.match(own.message, /^no space left on device: cannot pull x: \/srv\/hbx has 4KiB free: /);
  });
});
