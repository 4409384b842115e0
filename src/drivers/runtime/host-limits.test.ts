import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCapSysResource, parseLimits } from './host-limits.ts';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max processes             96365                96365                processes
Max open files            1024                 20000                files
Max locked memory         8388608              8388608              bytes
`;

describe('host rlimit caps', () => {
  it('reads the hard limits, leaving unlimited ones out', () => {
    assert.deepEqual(parseLimits(LIMITS), { nproc: 96365, nofile: 20000, memlock: 8388608 });
  });

  it('knows CAP_SYS_RESOURCE (bit 24) from the effective set', () => {
    assert.equal(hasCapSysResource('CapEff:\t000001fffeffffff\n'), false);
    assert.equal(hasCapSysResource('CapEff:\t000001ffffffffff\n'), true);
    assert.equal(hasCapSysResource('CapEff:\t0000000001000000\n'), true);
  });
});
