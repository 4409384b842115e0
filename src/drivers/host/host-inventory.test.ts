import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readHostFacts } from './host-inventory.ts';

const fixture = (name: string) => path.join(path.dirname(fileURLToPath(import.meta.url)), 'testdata', name);

describe('host inventory from recorded /sys and /proc trees', () => {
  it('Intel with Hyper-Threading: 6 cores x 2 threads, siblings n and n+6, VT-x', () => {
    const f = readHostFacts(fixture('intel-ht'));
    const t = f.topology;
    assert.equal(t.vendor, 'Intel');
    assert.equal(t.model, 'Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz');
    assert.deepEqual([t.sockets, t.physicalCores, t.threadsPerCore, t.logicalCpus], [1, 6, 2, 12]);
    assert.deepEqual(t.cpus[7], { id: 7, socket: 0, core: 1, thread: 1 });
    assert.equal(f.virtualization.extensions, 'vmx');
    assert.equal(f.virtualization.hostIsVm, false);
    assert.equal(f.memory.totalBytes, 32780132 * 1024);
    assert.equal(t.khz, 3_700_000);
  });

  it('AMD with SMT: 8 cores x 2 threads, AMD-V', () => {
    const f = readHostFacts(fixture('amd-smt'));
    assert.equal(f.topology.vendor, 'AMD');
    assert.deepEqual(
      [f.topology.sockets, f.topology.physicalCores, f.topology.threadsPerCore, f.topology.logicalCpus],
      [1, 8, 2, 16],
    );
    assert.deepEqual(f.topology.cpus[8], { id: 8, socket: 0, core: 0, thread: 1 });
    assert.equal(f.virtualization.extensions, 'svm');
  });

  it('no SMT: one thread per core', () => {
    const t = readHostFacts(fixture('no-smt')).topology;
    assert.deepEqual([t.sockets, t.physicalCores, t.threadsPerCore, t.logicalCpus], [1, 6, 1, 6]);
    assert.ok(t.cpus.every((c) => c.thread === 0 && c.core === c.id));
  });

  it('two sockets: core ids repeat per socket, each (socket, core) is its own core', () => {
    const t = readHostFacts(fixture('two-sockets')).topology;
    assert.deepEqual([t.sockets, t.physicalCores, t.threadsPerCore, t.logicalCpus], [2, 16, 2, 32]);
    assert.deepEqual(t.cpus[9], { id: 9, socket: 1, core: 1, thread: 0 });
    assert.deepEqual(t.cpus[25], { id: 25, socket: 1, core: 1, thread: 1 });
  });

  it('offline CPUs: listed, not counted, and their cores keep one thread', () => {
    const t = readHostFacts(fixture('offline-cpus')).topology;
    assert.deepEqual(t.offline, [5, 7]);
    assert.equal(t.logicalCpus, 6);
    assert.equal(t.physicalCores, 4);
    assert.equal(t.threadsPerCore, 2, 'the other cores still show two threads');
    assert.deepEqual(
      t.cpus.map((c) => c.id),
      [0, 1, 2, 3, 4, 6],
    );
    assert.deepEqual(
      t.cpus.find((c) => c.id === 6),
      { id: 6, socket: 0, core: 2, thread: 1 },
    );
  });

  it('a cloud guest: hypervisor flag and DMI vendor say it is a VM; no VT-x exposed', () => {
    const f = readHostFacts(fixture('ec2-guest'));
    assert.equal(f.virtualization.hostIsVm, true);
    assert.deepEqual(f.virtualization.vmEvidence, ['cpuinfo hypervisor flag', 'DMI vendor Amazon EC2']);
    assert.equal(f.virtualization.extensions, undefined);
    assert.equal(f.virtualization.kvmDevice, false);
  });

  it('this build host, recorded: an EPYC KVM guest with para-virtualized KVM (kvm_pvm) and /dev/kvm', () => {
    const f = readHostFacts(fixture('epyc-kvm-guest'));
    assert.deepEqual(
      [f.topology.sockets, f.topology.physicalCores, f.topology.threadsPerCore, f.topology.logicalCpus],
      [1, 2, 1, 2],
    );
    assert.equal(f.virtualization.hostIsVm, true);
    assert.deepEqual(f.virtualization.kvmModules, ['kvm', 'kvm_pvm']);
    assert.equal(f.virtualization.kvmDevice, true);
    assert.equal(f.virtualization.extensions, undefined);
  });
});
