import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { busyAlive, busyMark, NOT_BUSY } from './busy.ts';

describe('busy marks', () => {
  it("this process's mark is alive; no mark is not", () => {
    const mark = busyMark();
    assert.equal(mark.busyPid, process.pid);
    assert.equal(busyAlive(mark), true);
    assert.equal(busyAlive(NOT_BUSY), false);
  });

  it('a mark whose pid now names another process (another start time) is dead, as is a gone pid', () => {
    const mark = busyMark();
    assert.equal(busyAlive({ busyPid: mark.busyPid, busyStart: (mark.busyStart ?? 0) + 1 }), false);
    const gone = spawnSync('true').pid!;
    assert.equal(busyAlive({ busyPid: gone, busyStart: 1 }), false);
    assert.equal(busyAlive({ busyPid: gone }), false, 'an old mark without a start time: by pid alone');
  });
});
