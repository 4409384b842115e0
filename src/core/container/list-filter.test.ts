import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerStatus } from './config.ts';
import { parseContainerFilters, selectContainers } from './list-filter.ts';
import type { ContainerView } from './views.ts';

const rec = (name: string, status: ContainerStatus, exitCode = 0) =>
  ({
    id: name.padEnd(64, '0'),
    name,
    imageId: 'sha256:1',
    config: { image: 'busybox', labels: {} },
    state: { status, exitCode },
  }) as unknown as ContainerView;

describe('the ps selection (CLI and API alike)', () => {
  // Newest first, as the store lists them.
  const all = [rec('c', 'running'), rec('b', 'exited', 1), rec('a', 'paused')];
  const names = (list: ContainerView[]) => list.map((r) => r.name);
  const none = new Map<string, string[]>();

  it('shows running, paused and restarting containers unless all are asked for', () => {
    assert.deepEqual(names(selectContainers(all, { all: false, filters: none })), ['c', 'a']);
    assert.deepEqual(names(selectContainers(all, { all: true, filters: none })), ['c', 'b', 'a']);
  });

  it('a status or exited filter, or a limit, looks at every container', () => {
    const exited = parseContainerFilters(['exited=1']);
    assert.deepEqual(names(selectContainers(all, { all: false, filters: exited })), ['b']);
    const status = parseContainerFilters(['status=exited']);
    assert.deepEqual(names(selectContainers(all, { all: false, filters: status })), ['b']);
    assert.deepEqual(names(selectContainers(all, { all: false, filters: none, limit: 2 })), ['c', 'b']);
    assert.deepEqual(names(selectContainers(all, { all: false, filters: none, limit: 0 })), []);
  });
});
