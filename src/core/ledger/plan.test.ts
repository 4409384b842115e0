import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { availability } from './allocate.ts';
import { plan, roomNow } from './plan.ts';
import {
  DEFAULT_CONTAINER_PROFILE,
  DEFAULT_VM_PROFILE,
  parseContainerProfile,
  parseHostSpec,
  parseOvercommit,
  parseReserve,
  parseVmProfile,
} from './plan-input.ts';
import { syntheticHost } from './synthetic-host.ts';
import { DEFAULT_POLICY } from './types.ts';

const G = 1024 ** 3;

function planFor(
  hostSpec: string,
  extra: { vm?: string; reserve?: string; overcommit?: string; container?: string } = {},
) {
  const h = parseHostSpec(hostSpec);
  return plan({
    host: { ...h, logicalCpus: h.sockets * h.cores * h.threads },
    vm: extra.vm ? parseVmProfile(extra.vm) : DEFAULT_VM_PROFILE,
    reserve: extra.reserve
      ? parseReserve(extra.reserve, DEFAULT_POLICY.hostReserve)
      : DEFAULT_POLICY.hostReserve,
    overcommit: extra.overcommit
      ? parseOvercommit(extra.overcommit, DEFAULT_POLICY.overcommit)
      : DEFAULT_POLICY.overcommit,
    container: extra.container ? parseContainerProfile(extra.container) : DEFAULT_CONTAINER_PROFILE,
  });
}

describe('planner', () => {
  it('answers the seed: 4 cores x 2 threads, 1-CPU VMs, the host keeps 1 CPU -> 7 VMs, bound by CPU', () => {
    const p = planFor('cores=4,threads=2,memory=16G,disk=500G');
    assert.equal(p.maxVms, 7);
    assert.equal(p.bindingResource, 'cpu');
    const [cpu, mem, disk] = p.resources;
    assert.equal(
      cpu!.arithmetic,
      '8 CPUs - 1 CPU for the host = 7 CPUs; 7 CPUs / 1 CPU per VM = 7 VMs; 7 VMs leave 0 CPUs',
    );
    assert.equal(mem!.fits, 15);
    assert.equal(mem!.left, 8 * G);
    assert.equal(disk!.fits, 49);
    assert.equal(p.containers.max, 70, '7 CPUs / 0.1 is 70, not 69.999');
    assert.equal(p.containers.bindingResource, 'cpu');
  });

  it('shows how overcommit moves the answer and the binding resource', () => {
    const p = planFor('cores=4,threads=2,memory=16G,disk=500G', { overcommit: 'cpu=4,memory=1.5' });
    // cpu: 7 x 4 = 28 slots; memory: 15GiB x 1.5 = 22.5GiB -> 22 VMs.
    assert.equal(p.maxVms, 22);
    assert.equal(p.bindingResource, 'memory');
    const by = (cpu: number, memory: number) =>
      p.overcommitScenarios.find((s) => s.overcommit.cpu === cpu && s.overcommit.memory === memory);
    assert.deepEqual([by(1, 1)!.maxVms, by(1, 1)!.bindingResource], [7, 'cpu']);
    assert.deepEqual([by(2, 1)!.maxVms, by(2, 1)!.bindingResource], [14, 'cpu']);
    assert.deepEqual([by(4, 1)!.maxVms, by(4, 1)!.bindingResource], [15, 'memory']);
  });

  it('rounds fractional overcommit down', () => {
    const p = planFor('cores=4,threads=2,memory=16G,disk=500G', { overcommit: 'cpu=1.5' });
    assert.equal(p.resources[0]!.capacity, 10, '7 x 1.5 = 10.5 -> 10 vCPU slots');
    assert.equal(p.maxVms, 10);
    assert.match(p.resources[0]!.arithmetic, /x 1.5 overcommit = 10 CPUs/);
  });

  it('binds on memory or disk when the profile is heavy there', () => {
    assert.equal(
      planFor('cores=16,threads=2,memory=64G,disk=2T', { vm: 'cpus=2,memory=8G' }).bindingResource,
      'memory',
    );
    const disk = planFor('cores=16,threads=2,memory=256G,disk=200G', { vm: 'cpus=1,memory=1G,disk=50G' });
    assert.deepEqual([disk.maxVms, disk.bindingResource], [3, 'disk']);
    const noDisk = planFor('cores=2,memory=8G,disk=1G', { vm: 'disk=0', reserve: 'disk=0' });
    assert.equal(noDisk.resources[2]!.fits, null);
    assert.equal(noDisk.bindingResource, 'cpu');
  });

  it('gives 0 VMs when the reserve takes everything, or a VM is wider than the host', () => {
    const all = planFor('cores=2,memory=8G,disk=100G', { reserve: 'cpus=2' });
    assert.deepEqual([all.maxVms, all.bindingResource], [0, 'cpu']);
    const wide = planFor('cores=4,memory=8G,disk=100G', { vm: 'cpus=8' });
    assert.equal(wide.maxVms, 0);
    assert.match(wide.resources[0]!.arithmetic, /a VM of 8 CPUs is larger than that: 0 VMs/);
    const wideOvercommitted = planFor('cores=4,memory=8G,disk=100G', { vm: 'cpus=8', overcommit: 'cpu=4' });
    assert.equal(
      wideOvercommitted.maxVms,
      0,
      'overcommit does not make one VM wider than the CPUs it may use',
    );
  });

  it('refuses a reserve larger than the host, naming each resource', () => {
    assert.throws(
      () => planFor('cores=4,threads=2,memory=16G,disk=500G', { reserve: 'cpus=9,memory=32G' }),
      /the host reserve is larger than the host: cpus=9 > 8 logical CPUs, memory=32GiB > 16GiB/,
    );
  });

  it('refuses zero-size profiles and malformed flags with the value named', () => {
    assert.throws(() => parseVmProfile('cpus=0'), /--vm: cpus=0 is a zero size: a VM needs at least 1 CPU/);
    assert.throws(() => parseVmProfile('memory=0'), /--vm: memory=0 is a zero size/);
    assert.throws(() => parseVmProfile('cpus=1.5'), /--vm: cpus=1.5 must be a whole number/);
    assert.throws(() => parseContainerProfile('cpus=0'), /--container: cpus=0 is a zero size/);
    assert.throws(() => parseContainerProfile('memory=0'), /--container: memory=0 is a zero size/);
    assert.throws(() => parseHostSpec('cores=4,memory=16G'), /--host: disk= is required/);
    assert.throws(() => parseHostSpec('cores=4,memory=16Q,disk=1T'), /--host: memory=16Q is not a size/);
    assert.throws(
      () => parseHostSpec('cores=4,ram=16G,disk=1T'),
      /--host cores=4,ram=16G,disk=1T: unknown key "ram"/,
    );
    assert.throws(
      () => parseOvercommit('cpu=0.5', DEFAULT_POLICY.overcommit),
      /cpu=0.5 must be a ratio from 1/,
    );
    assert.throws(() => parseReserve('cpus=1,cpus=2', DEFAULT_POLICY.hostReserve), /"cpus" given twice/);
    assert.equal(parseHostSpec('cores=4,threads=2,memory=16G,disk=500G,sockets=2').sockets, 2);
    assert.equal(parseHostSpec('cores=1,memory=1.5T,disk=1t').memoryBytes, 1.5 * 1024 ** 4);
  });

  it('agrees with the ledger on how many more VMs fit now', () => {
    const host = syntheticHost({ cores: 4, threads: 2, memoryBytes: 16 * G, diskBytes: 500 * G });
    const held = [
      {
        ownerId: 'a',
        ownerName: 'a',
        kind: 'vm' as const,
        cpus: [1, 2],
        memoryBytes: 2 * G,
        diskBytes: 10 * G,
        overcommitted: false,
        createdAt: 0,
      },
    ];
    const r = roomNow(availability({ host, policy: DEFAULT_POLICY, reservations: held }), DEFAULT_VM_PROFILE);
    assert.deepEqual(r, { moreVms: 5, bindingResource: 'cpu' });
  });
});
