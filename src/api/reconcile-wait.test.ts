import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reconcileWaitFor } from './reconcile-wait.ts';

const q = (s = '') => new URLSearchParams(s);

describe('reconcileWaitFor: what a request waits for while the daemon reconciles', () => {
  it('the daemon’s own questions and exec sessions wait for nothing', () => {
    for (const p of ['/_ping', '/version', '/events', '/auth', '/exec/abc/start', '/hyperbox/v1/events'])
      assert.deepEqual(reconcileWaitFor(p, q()), { kind: 'none' }, p);
  });

  it('one container or VM waits for itself only, by the reference the request gave', () => {
    assert.deepEqual(reconcileWaitFor('/containers/web/json', q()), {
      kind: 'object',
      type: 'container',
      ref: 'web',
    });
    assert.deepEqual(reconcileWaitFor('/containers/3f2a/stop', q()), {
      kind: 'object',
      type: 'container',
      ref: '3f2a',
    });
    assert.deepEqual(reconcileWaitFor('/hyperbox/v1/containers/web/logs', q()), {
      kind: 'object',
      type: 'container',
      ref: 'web',
    });
    assert.deepEqual(reconcileWaitFor('/hyperbox/v1/vms/vm1/start', q()), {
      kind: 'object',
      type: 'vm',
      ref: 'vm1',
    });
    // A new container waits only for a pending one holding its name.
    assert.deepEqual(reconcileWaitFor('/containers/create', q('name=web')), {
      kind: 'object',
      type: 'container',
      ref: 'web',
    });
    assert.deepEqual(reconcileWaitFor('/containers/create', q()), { kind: 'none' });
  });

  it('lists (and prunes) wait for every pending object of their kind: no half-reconciled list', () => {
    for (const p of [
      '/containers/json',
      '/containers/prune',
      '/hyperbox/v1/containers',
      '/hyperbox/v1/containers/prune',
    ])
      assert.deepEqual(reconcileWaitFor(p, q()), { kind: 'type', type: 'container' }, p);
    assert.deepEqual(reconcileWaitFor('/hyperbox/v1/vms', q()), { kind: 'type', type: 'vm' });
    assert.deepEqual(reconcileWaitFor('/hyperbox/v1/vms/images', q()), { kind: 'none' });
    for (const p of ['/images/json', '/volumes/data', '/hyperbox/v1/images', '/hyperbox/v1/volumes/prune'])
      assert.deepEqual(reconcileWaitFor(p, q()), { kind: 'type', type: 'container' }, p);
  });

  it('networks and everything else wait for the whole reconcile (networks are its last step)', () => {
    for (const p of [
      '/networks',
      '/networks/app/connect',
      '/info',
      '/system/df',
      '/hyperbox/v1/host',
      '/build',
    ])
      assert.deepEqual(reconcileWaitFor(p, q()), { kind: 'all' }, p);
  });
});
