import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goTime, serializeConfig } from './config-json.ts';

describe('serializeConfig', () => {
  it('writes what Go would: struct order, omitted empties, escaped HTML characters', () => {
    const bytes = serializeConfig({
      os: 'linux',
      architecture: 'amd64',
      rootfs: { type: 'layers', diff_ids: [] },
      config: { Cmd: ['sh', '-c', 'a && b <c>'], Env: ['A=1'], Labels: { z: '1', a: '2' }, User: '' },
      created: '2024-01-02T03:04:05Z',
      history: [{ comment: 'hi', created: '2024-01-02T03:04:05Z', created_by: '' }],
    });
    assert.equal(
      bytes.toString(),
      '{"created":"2024-01-02T03:04:05Z","architecture":"amd64","os":"linux","config":{"Env":["A=1"],' +
        '"Cmd":["sh","-c","a \\u0026\\u0026 b \\u003cc\\u003e"],"Labels":{"a":"2","z":"1"}},' +
        '"rootfs":{"type":"layers","diff_ids":[]},"history":[{"created":"2024-01-02T03:04:05Z","comment":"hi"}]}',
    );
    assert.deepEqual(JSON.parse(bytes.toString()).config.Cmd, ['sh', '-c', 'a && b <c>']);
  });
  it('trims the fraction of seconds like RFC3339Nano', () => {
    assert.equal(goTime(new Date('2024-01-02T03:04:05.120Z')), '2024-01-02T03:04:05.12Z');
    assert.equal(goTime(new Date('2024-01-02T03:04:05.000Z')), '2024-01-02T03:04:05Z');
    assert.equal(goTime(new Date('2024-01-02T03:04:05.007Z')), '2024-01-02T03:04:05.007Z');
  });
});
