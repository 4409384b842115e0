import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { identify, isAlive, pidRuns, signalIfSame, waitGone } from './process.ts';

describe('process identity', () => {
  it('knows a live process by pid and start time, and not once it has gone', async () => {
    const child = spawn('sleep', ['30']);
    const exited = once(child, 'exit');
    const id = identify(child.pid!);
    assert.ok(id && id.startTime > 0);
    assert.ok(isAlive(id));
    assert.ok(pidRuns(child.pid!, { comm: 'sleep' }));
    assert.equal(pidRuns(child.pid!, { comm: 'conmon' }), false, 'another program under that pid');
    assert.equal(
      isAlive({ pid: id.pid, startTime: id.startTime + 1 }),
      false,
      'a reused pid is not the same process',
    );
    assert.ok(signalIfSame(id, 'SIGTERM'));
    await exited;
    assert.equal(isAlive(id), false);
    assert.equal(await waitGone(id, 100), true);
    assert.equal(signalIfSame(id), false);
  });

  it('counts an exited process as gone, zombie or reaped', async () => {
    const child = spawn('sh', ['-c', 'exit 0'], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    const pid = child.pid!;
    for (let i = 0; i < 100 && pidRuns(pid); i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(pidRuns(pid), false);
    assert.equal(identify(pid), undefined);
    await exited;
  });

  it('has nothing under a pid that is not a process', () => {
    assert.equal(identify(0), undefined);
    assert.equal(identify(-1), undefined);
    assert.equal(pidRuns(2 ** 22 + 1), false);
    assert.ok(pidRuns(process.pid));
  });
});
