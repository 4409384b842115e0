import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCpuList } from '../src/core/ledger/cpu-list.ts';
import { layoutFor } from '../src/core/paths.ts';
import type { LocalEngine } from '../src/engine/local-engine.ts';
import { createLocalEngine } from '../src/wiring/engine.ts';
import { privilegedSkipReason, TestRoot } from './helpers/cli.ts';

const G = 1024 ** 3;

/** The host as the test reads it on its own, to check the command against. */
function onlineCpus(): number[] {
  return parseCpuList(fs.readFileSync('/sys/devices/system/cpu/online', 'utf8'));
}
function memTotal(): number {
  return Number(/^MemTotal:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
}

describe('hyperbox host and plan on this machine', () => {
  let t: TestRoot;
  before(() => {
    t = new TestRoot();
  });
  after(() => {
    assert.deepEqual(t.cleanup(), []);
  });

  it('host --json describes this machine and decides the accelerator by a probe boot', () => {
    const r = t.run(['host', '--json'], { timeoutMs: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const v = JSON.parse(r.stdout);
    assert.equal(v.cpu.logicalCpus, onlineCpus().length);
    assert.equal(v.memory.totalBytes, memTotal());
    assert.equal(v.cpu.sockets * v.cpu.physicalCores > 0, true);
    const flags = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const ext = /^flags\s*:.*\bvmx\b/m.test(flags)
      ? 'vmx'
      : /^flags\s*:.*\bsvm\b/m.test(flags)
        ? 'svm'
        : null;
    assert.equal(v.cpu.virtualizationExtensions, ext);
    assert.equal(v.virtualization.hostIsVm, /^flags\s*:.*\bhypervisor\b/m.test(flags));
    assert.equal(v.virtualization.kvmDevice, fs.existsSync('/dev/kvm'));
    assert.equal(v.virtualization.accelerator, v.virtualization.kvmUsable ? 'kvm' : 'tcg');
    if (!v.virtualization.kvmUsable) assert.match(v.virtualization.acceleratorReason, /^(KVM|QEMU): /);
    // Every online CPU has exactly one holder; with no VM, the default reserve keeps one and the rest are shared.
    assert.deepEqual(
      v.allocation.cpus.map((c: { id: number }) => c.id),
      onlineCpus(),
    );
    assert.equal(v.allocation.cpus.filter((c: { holder: string }) => c.holder === 'host').length, 1);
    assert.equal(v.allocation.vms.length, 0);
    // The verdict is cached under the root with its date and reused.
    const cached = JSON.parse(fs.readFileSync(path.join(t.root, 'host', 'accelerator.json'), 'utf8'));
    assert.equal(cached.probedAt, v.virtualization.probedAt);
  });

  it('host --probe probes again (a new date), and on a host whose /dev/kvm cannot boot guests says so', () => {
    const before = JSON.parse(fs.readFileSync(path.join(t.root, 'host', 'accelerator.json'), 'utf8'));
    const r = t.run(['host', '--json', '--probe'], { timeoutMs: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const v = JSON.parse(r.stdout);
    assert.notEqual(v.virtualization.probedAt, before.probedAt);
    const cached = JSON.parse(fs.readFileSync(path.join(t.root, 'host', 'accelerator.json'), 'utf8'));
    if (cached.kvmProbe && !cached.kvmUsable) {
      assert.equal(cached.kvmProbe.booted, false);
      assert.match(v.virtualization.acceleratorReason, /did not boot within 3 s|refused/);
    }
    if (cached.tcgProbe) assert.equal(cached.tcgProbe.booted, true, 'the same probe boots under TCG');
  });

  it('host prints the picture as plain text when not on a terminal', () => {
    const r = t.run(['host']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^CPU {13}\S/m);
    assert.match(r.stdout, /^socket 0 +core \d+/m);
    assert.match(r.stdout, /\[0 host +\]/, 'CPU 0 is the host reserve');
    assert.match(r.stdout, /^ {2}VMs get (KVM|TCG)/m);
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colour codes off a terminal');
  });

  it('plan answers the seed example: 7 VMs + the host, bound by CPU', () => {
    const args = [
      'plan',
      '--host',
      'cores=4,threads=2,memory=16G,disk=500G',
      '--vm',
      'cpus=1,memory=1G,disk=10G',
    ];
    const text = t.run(args);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^Maximum: 7 VMs \+ the host, bound by cpu\.$/m);
    assert.match(
      text.stdout,
      /^ {2}cpu {5}8 CPUs - 1 CPU for the host = 7 CPUs; 7 CPUs \/ 1 CPU per VM = 7 VMs/m,
    );
    const json = JSON.parse(t.ok([...args, '--json']));
    assert.equal(json.maxVms, 7);
    assert.equal(json.bindingResource, 'cpu');
    assert.equal(json.containers.max, 70);
  });

  it('plan on the live host uses its CPUs and memory', () => {
    const json = JSON.parse(t.ok(['plan', '--json', '--vm', 'cpus=1,memory=1G,disk=1G']));
    const cpus = onlineCpus().length;
    assert.equal(json.host.source, 'live');
    assert.equal(json.host.logicalCpus, cpus);
    assert.equal(json.host.memoryBytes, memTotal());
    const byMemory = Math.floor((memTotal() - G) / G);
    const expected = Math.min(cpus - 1, byMemory);
    assert.equal(json.maxVms, expected);
    assert.equal(json.now.vms, 0);
  });

  it('plan refuses bad profiles with the value named and exit 125', () => {
    const zero = t.run(['plan', '--host', 'cores=4,memory=16G,disk=1T', '--vm', 'cpus=0']);
    assert.equal(zero.status, 125);
    assert.match(zero.stderr, /--vm: cpus=0 is a zero size/);
    const big = t.run(['plan', '--host', 'cores=2,memory=4G,disk=100G', '--reserve', 'cpus=3']);
    assert.equal(big.status, 125);
    assert.match(big.stderr, /the host reserve is larger than the host: cpus=3 > 2 logical CPUs/);
    const unknown = t.run(['plan', '--host', 'cores=2,ram=4G,disk=1T']);
    assert.equal(unknown.status, 125);
    assert.match(unknown.stderr, /unknown key "ram"/);
  });

  it('engine.json is validated strictly: an unknown key is refused by name', () => {
    fs.writeFileSync(path.join(t.root, 'engine.json'), '{"hostReserve":{"cpus":1},"overcomit":{}}');
    const r = t.run(['plan', '--host', 'cores=2,memory=4G,disk=100G']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /engine\.json: unknown key "overcomit"/);
    fs.rmSync(path.join(t.root, 'engine.json'));
  });
});

const skip = privilegedSkipReason() ?? (onlineCpus().length < 2 ? 'needs 2 CPUs' : undefined);

describe("containers stay off a VM's dedicated CPUs", { skip }, () => {
  let t: TestRoot;
  let engine: LocalEngine;
  let vmCpus: number[] = [];
  let shared: number[] = [];
  before(async () => {
    t = new TestRoot();
    t.importBusybox();
    // A real reservation in the root's ledger, made in-process through the engine the CLI uses.
    engine = await createLocalEngine(layoutFor(t.root));
  });
  after(() => {
    engine.ledger.release('test-vm-id');
    engine.close();
    assert.deepEqual(t.cleanup(), []);
  });

  it('moves running containers onto the shared CPUs once a VM reserves', async () => {
    t.ok(['run', '-d', '--name', 'early', 'busybox:1', 'sleep', '300']);
    const before = t.ok(['exec', 'early', 'grep', 'Cpus_allowed_list', '/proc/1/status']);
    assert.equal(parseCpuList(before.split(':')[1]!).length, onlineCpus().length, before);
    const r = engine.ledger.reserve({
      ownerId: 'test-vm-id',
      ownerName: 'testvm',
      kind: 'vm',
      cpus: 1,
      memoryBytes: 256 * 1024 ** 2,
      diskBytes: 0,
    });
    vmCpus = r.cpus;
    shared = engine.ledger.sharedCpus();
    assert.equal(
      vmCpus.some((c) => shared.includes(c)),
      false,
    );
    const moved = await engine.containers.confineToSharedCpus();
    assert.equal(moved.length, 1);
    const after = t.ok(['exec', 'early', 'grep', 'Cpus_allowed_list', '/proc/1/status']);
    assert.deepEqual(parseCpuList(after.split(':')[1]!), shared);
    t.ok(['rm', '-f', 'early']);
  });

  it("refuses --cpuset-cpus on the VM's CPU with exit 125, naming the CPU and the VM", () => {
    const r = t.run(['run', '--rm', '--cpuset-cpus', String(vmCpus[0]), 'busybox:1', 'true']);
    assert.equal(r.status, 125);
    assert.match(
      r.stderr,
      new RegExp(`CPU ${vmCpus[0]} is dedicated to VM testvm; containers may use CPUs? `),
    );
    assert.equal(t.ok(['ps', '-aq']), '', 'nothing created');
  });

  it('confines a container without a cpuset to the shared pool, and allows a cpuset inside it', () => {
    const out = t.ok(['run', '--rm', 'busybox:1', 'grep', 'Cpus_allowed_list', '/proc/self/status']);
    assert.deepEqual(parseCpuList(out.split(':')[1]!), shared);
    const inspect = t.run(['run', '--rm', '--cpuset-cpus', String(shared[0]), 'busybox:1', 'true']);
    assert.equal(inspect.status, 0, inspect.stderr);
  });

  it('host shows the VM on its CPU and counts the running container', () => {
    t.ok(['run', '-d', '--name', 'svc', '--memory', '64m', 'busybox:1', 'sleep', '300']);
    const v = JSON.parse(t.ok(['host', '--json']));
    const cell = v.allocation.cpus.find((c: { id: number }) => c.id === vmCpus[0]);
    assert.equal(cell.holder, 'vm');
    assert.deepEqual(cell.vms, ['testvm']);
    assert.equal(v.allocation.vms[0].name, 'testvm');
    assert.equal(v.memory.dedicatedToVmsBytes, 256 * 1024 ** 2);
    assert.equal(v.allocation.containers.running, 1);
    assert.equal(v.allocation.containers.memoryLimitsBytes, 64 * 1024 ** 2);
    const text = t.ok(['host']);
    assert.match(text, new RegExp(`\\[${vmCpus[0]} testvm *\\]`));
    assert.match(text, /^VM +CPUS +MEMORY +DISK +OVERCOMMITTED\ntestvm +\d+ +256MiB +0B +no$/m);
    const plan = JSON.parse(t.ok(['plan', '--json']));
    assert.equal(plan.now.vms, 1);
    t.ok(['rm', '-f', 'svc']);
  });
});
