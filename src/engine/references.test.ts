import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerConfig } from '../core/container/config.ts';
import { minimalConfig } from '../core/container/config-example.ts';
import { initialState } from '../core/container/state.ts';
import type { VmConfig } from '../core/vm/config.ts';
import type { ContainerRecord } from './api/containers.ts';
import type { VmRecord } from './api/vms.ts';
import { recordReferences } from './references.ts';

const IMG = `sha256:${'a'.repeat(64)}`;

function container(n: number, change: Partial<ContainerConfig>, imageId = IMG): ContainerRecord {
  const id = String(n).repeat(64).slice(0, 64);
  return {
    id,
    name: `c${n}`,
    imageId,
    createdAt: n,
    config: { ...minimalConfig(), imageId, ...change },
    state: initialState(),
  };
}

function vm(n: number, change: Partial<VmConfig>): VmRecord {
  const config: VmConfig = {
    name: `v${n}`,
    hostname: `v${n}`,
    cpus: 1,
    memoryBytes: 256 * 1024 * 1024,
    diskBytes: 0,
    memoryPrealloc: false,
    cpuPinning: 'auto',
    boot: { kind: 'kernel', kernel: '/k/vmlinuz', initrd: '/k/initrd.img' },
    machine: 'microvm',
    networks: [],
    publish: [],
    sshKeys: [],
    ...change,
  };
  return {
    id: `${n}`.repeat(64).slice(0, 64),
    name: `v${n}`,
    createdAt: n,
    config,
    state: { status: 'created' },
  };
}

const net = { id: 'f'.repeat(64), name: 'app', isDefault: false };
const bridge = { id: 'e'.repeat(64), name: 'bridge', isDefault: true };

describe('references: who uses what', () => {
  const containers = [
    container(2, { networkMode: 'bridge', networks: [{ network: 'app' }] }),
    container(1, { mounts: [{ type: 'volume', source: 'data', target: '/d', readOnly: false }] }),
    container(3, { networkMode: 'bridge' }, `sha256:${'b'.repeat(64)}`),
    container(4, { networkMode: 'bridge', networks: [{ network: 'fff' }] }),
  ];
  const vms = [
    vm(5, { networks: [{ network: 'app' }], boot: { kind: 'image', image: 'debian' } }),
    vm(6, { boot: { kind: 'image', image: 'alpine' } }),
  ];
  const refs = recordReferences({
    containers: () => containers,
    vms: () => vms,
    networkIdOf: (ref) => (net.id.startsWith(ref) ? net.id : undefined),
  });

  it('finds the containers of an image, oldest first, and counts them per image', () => {
    assert.deepEqual(refs.containersOfImage(IMG), [containers[1]!.id, containers[0]!.id, containers[3]!.id]);
    assert.deepEqual(refs.containersOfImage(`sha256:${'9'.repeat(64)}`), []);
    assert.deepEqual([...refs.containerCountsByImage()].sort(), [
      [IMG, 3],
      [`sha256:${'b'.repeat(64)}`, 1],
    ]);
  });

  it('finds the containers that mount a volume', () => {
    assert.deepEqual(refs.containersOfVolume('data'), [containers[1]!.id]);
    assert.deepEqual(refs.containersOfVolume('other'), []);
  });

  it('names who is configured on a network: by name, by id prefix, the default network for no --network', () => {
    assert.deepEqual(refs.usersOfNetwork(net), [
      'container c2 (222222222222)',
      'container c4 (444444444444)',
      'vm v5 (555555555555)',
    ]);
    assert.deepEqual(refs.usersOfNetwork(bridge), ['container c3 (333333333333)']);
  });

  it('names the VMs of a base image', () => {
    assert.deepEqual(refs.vmsOfBaseImage('debian'), ['vm v5']);
    assert.deepEqual(refs.vmsOfBaseImage('ubuntu'), []);
  });
});
