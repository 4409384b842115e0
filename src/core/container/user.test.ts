import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError } from '../errors.ts';
import { resolveUser } from './user.ts';

const files = {
  passwd: [
    'root:x:0:0:root:/root:/bin/sh',
    '# a comment',
    'app:x:1000:1000:app:/home/app:/bin/sh',
    'broken line',
    'svc:x:1001:100::/srv:/bin/false',
  ].join('\n'),
  group: ['root:x:0:', 'users:x:100:app,svc', 'app:x:1000:', 'wheel:x:10:app', 'staff:x:50:'].join('\n'),
};

describe('resolveUser', () => {
  it('is root with home /root when empty', () => {
    assert.deepEqual(resolveUser(undefined, files), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
    assert.deepEqual(resolveUser('', files), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
  });

  it('looks a name up with its primary group, home and supplementary groups', () => {
    assert.deepEqual(resolveUser('app', files), {
      uid: 1000,
      gid: 1000,
      additionalGids: [100, 10],
      home: '/home/app',
    });
  });

  it('finds a numeric uid in passwd, and accepts one that is not there', () => {
    assert.equal(resolveUser('1001', files).home, '/srv');
    assert.deepEqual(resolveUser('4242', files), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
  });

  it('takes an explicit group by name or id, and then no supplementary groups', () => {
    assert.deepEqual(resolveUser('app:staff', files), {
      uid: 1000,
      gid: 50,
      additionalGids: [],
      home: '/home/app',
    });
    assert.deepEqual(resolveUser('app:777', files), {
      uid: 1000,
      gid: 777,
      additionalGids: [],
      home: '/home/app',
    });
    assert.deepEqual(resolveUser('4242:10', files), { uid: 4242, gid: 10, additionalGids: [], home: '/' });
  });

  it("rejects unknown names with docker's message", () => {
    assert.throws(
      () => resolveUser('foo', files),
      (err: unknown) =>
        err instanceof NotFoundError &&
        err.message === 'unable to find user foo: no matching entries in passwd file',
    );
    assert.throws(
      () => resolveUser('app:nogroup', files),
      /unable to find group nogroup: no matching entries/,
    );
  });

  it('works when the image has no passwd or group file', () => {
    assert.deepEqual(resolveUser('1000:1000', { passwd: '', group: '' }), {
      uid: 1000,
      gid: 1000,
      additionalGids: [],
      home: '/',
    });
    assert.throws(() => resolveUser('root', { passwd: '', group: '' }), NotFoundError);
  });

  it('rejects a malformed value', () => {
    assert.throws(() => resolveUser('a:b:c', files), /user\[:group\]/);
  });
});
