import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEngineConfig } from './policy.ts';
import { DEFAULT_POLICY } from './types.ts';

describe('engine.json', () => {
  it('reads the host reserve and overcommit, defaults for what is left out', () => {
    const p = parseEngineConfig('{"hostReserve":{"cpus":0,"memory":"512M"},"overcommit":{"cpu":2.5}}');
    assert.deepEqual(p, {
      hostReserve: { cpus: 0, memoryBytes: 512 * 1024 ** 2, diskBytes: DEFAULT_POLICY.hostReserve.diskBytes },
      overcommit: { cpu: 2.5, memory: 1 },
    });
    assert.deepEqual(parseEngineConfig('{}'), DEFAULT_POLICY);
    assert.equal(parseEngineConfig('{"hostReserve":{"disk":1073741824}}').hostReserve.diskBytes, 1024 ** 3);
  });

  it('refuses unknown keys, wrong types and bad sizes, naming the key', () => {
    assert.throws(
      () => parseEngineConfig('{"hostReserv":{}}', 'e.json'),
      /e\.json: unknown key "hostReserv"/,
    );
    assert.throws(
      () => parseEngineConfig('{"hostReserve":{"cpu":1}}'),
      /hostReserve: unknown key "cpu" \(known: cpus, memory, disk\)/,
    );
    assert.throws(
      () => parseEngineConfig('{"hostReserve":{"cpus":"1"}}'),
      /hostReserve\.cpus: must be a whole number/,
    );
    assert.throws(
      () => parseEngineConfig('{"hostReserve":{"memory":"lots"}}'),
      /hostReserve\.memory: invalid size "lots"/,
    );
    assert.throws(
      () => parseEngineConfig('{"overcommit":{"memory":0.5}}'),
      /overcommit\.memory: an overcommit ratio is a number from 1/,
    );
    assert.throws(() => parseEngineConfig('[1]'), /expected an object/);
    assert.throws(() => parseEngineConfig('{'), /not valid JSON/);
  });
});
