import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canTransition, initialState, transition } from './state.ts';
import { stateClause, statusText } from './status-text.ts';

describe('container state machine', () => {
  it('allows the docker life cycle and refuses the impossible', () => {
    const s = initialState();
    const running = transition('web', s, 'running', { startedAt: 1000, pid: 42 });
    assert.equal(running.status, 'running');
    assert.equal(running.pid, 42);
    assert.equal(canTransition('removing', 'running'), false);
    assert.throws(
      () => transition('web', { ...s, status: 'dead' }, 'running'),
      /container web cannot go from dead to running/,
    );
  });

  it('prints statuses in docker words', () => {
    const s = { ...initialState(), status: 'exited' as const, exitCode: 3, finishedAt: 0 };
    assert.equal(statusText({ ...s, finishedAt: 1 }, 3001), 'Exited (3) 3 seconds ago');
    assert.equal(statusText({ ...initialState(), status: 'running', startedAt: 0 }, 180_000), 'Up 3 minutes');
    assert.equal(stateClause({ ...s, finishedAt: 1 }, 3001), 'exited 3 seconds ago');
    assert.equal(statusText(initialState(), 0), 'Created');
  });
});
