import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { parseSyncMessage, SyncPipeReader } from './sync-pipe.ts';

describe('conmon sync pipe', () => {
  it('parses pid, failure and exit messages', () => {
    assert.deepEqual(parseSyncMessage('{"data": 4242}'), { data: 4242 });
    assert.deepEqual(parseSyncMessage('{"data": -1, "message": "runc failed"}'), {
      data: -1,
      message: 'runc failed',
    });
    assert.throws(() => parseSyncMessage('{"pid": 1}'), /unexpected message/);
    assert.throws(() => parseSyncMessage('nonsense'), /malformed/);
  });

  it('delivers messages split across and joined in chunks, then EOF', async () => {
    const stream = new PassThrough();
    const reader = new SyncPipeReader(stream);
    stream.write('{"data": 1');
    stream.write('2}\n{"data": 0}\n{"da');
    const first = await reader.next();
    assert.deepEqual(first, { data: 12 });
    assert.deepEqual(await reader.next(), { data: 0 });
    const pending = reader.next();
    stream.end('ta": 3}\n');
    assert.deepEqual(await pending, { data: 3 });
    assert.equal(await reader.next(), undefined);
  });

  it('reports a malformed line as a failure instead of throwing in the stream', async () => {
    const stream = new PassThrough();
    const reader = new SyncPipeReader(stream);
    stream.end('garbage\n');
    const message = await reader.next();
    assert.equal(message?.data, -1);
    assert.match(message?.message ?? '', /malformed/);
  });
});
