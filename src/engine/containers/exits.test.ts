import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerConfig, ContainerState } from '../../core/container/config.ts';
import { initialState } from '../../core/container/state.ts';
import { afterExit } from './exits.ts';

const config = (c: Partial<Pick<ContainerConfig, 'autoRemove' | 'restart'>>) =>
  ({ autoRemove: false, restart: { name: 'no', maximumRetryCount: 0 }, ...c }) as ContainerConfig;
const exited = (s: Partial<ContainerState>): ContainerState => ({
  ...initialState(),
  status: 'exited',
  ...s,
});

describe('what follows an exit (docker rules)', () => {
  it('--rm removes, whatever the status', () => {
    assert.deepEqual(afterExit(config({ autoRemove: true }), exited({ exitCode: 0 })), { action: 'remove' });
  });

  it('always and unless-stopped restart unless the user stopped it, with a doubling back-off capped at a minute', () => {
    for (const name of ['always', 'unless-stopped'] as const) {
      const c = config({ restart: { name, maximumRetryCount: 0 } });
      assert.deepEqual(afterExit(c, exited({ exitCode: 0 })), { action: 'restart', delayMs: 100 });
      assert.deepEqual(afterExit(c, exited({ restartCount: 3 })), { action: 'restart', delayMs: 800 });
      assert.deepEqual(afterExit(c, exited({ restartCount: 20 })), { action: 'restart', delayMs: 60_000 });
      assert.deepEqual(afterExit(c, exited({ stoppedByUser: true })), { action: 'none' });
    }
  });

  it('on-failure restarts a failure until its retries are spent, never a success', () => {
    const c = config({ restart: { name: 'on-failure', maximumRetryCount: 2 } });
    assert.equal(afterExit(c, exited({ exitCode: 1, restartCount: 1 })).action, 'restart');
    assert.equal(afterExit(c, exited({ exitCode: 1, restartCount: 2 })).action, 'none');
    assert.equal(afterExit(c, exited({ exitCode: 0 })).action, 'none');
    const unlimited = config({ restart: { name: 'on-failure', maximumRetryCount: 0 } });
    assert.equal(afterExit(unlimited, exited({ exitCode: 2, restartCount: 99 })).action, 'restart');
  });

  it('no policy: nothing follows', () => {
    assert.deepEqual(afterExit(config({}), exited({ exitCode: 1 })), { action: 'none' });
  });
});
