import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hostView } from '../core/host/host-view.ts';
import { allocate, hostReservedCpus } from '../core/ledger/allocate.ts';
import { DEFAULT_POLICY, type LedgerPolicy, type Reservation } from '../core/ledger/types.ts';
import { readHostFacts } from '../drivers/host/host-inventory.ts';
import { hostText, useColour } from './host-picture.ts';

const G = 1024 ** 3;
const testdata = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'drivers', 'host', 'testdata');

/** The view `hyperbox host` would show for a recorded host with some VMs reserved through the ledger arithmetic. */
function viewOf(fixture: string, vms: [string, number][], policy: LedgerPolicy = DEFAULT_POLICY) {
  const facts = readHostFacts(path.join(testdata, fixture));
  const host = { cpus: facts.topology.cpus, memoryBytes: facts.memory.totalBytes, diskBytes: 500 * G };
  const reservations: Reservation[] = [];
  for (const [name, cpus] of vms) {
    const req = {
      ownerId: name,
      ownerName: name,
      kind: 'vm' as const,
      cpus,
      memoryBytes: G,
      diskBytes: 10 * G,
    };
    reservations.push(allocate({ host, policy, reservations }, req, 0));
  }
  return hostView({
    ...facts,
    accelerator: {
      accel: 'kvm',
      kvmUsable: true,
      reason: 'KVM: /dev/kvm present and a probe guest booted',
      probedAt: 'now',
    },
    storage: { path: '/var/lib/hyperbox', totalBytes: 1000 * G, freeBytes: 500 * G },
    policy,
    hostReserved: hostReservedCpus(host, policy),
    reservations,
    diskForVms: { reservable: 490 * G },
    containers: [{ nanoCpus: 5e8, memoryBytes: 64 * 1024 ** 2 }, {}],
  });
}

describe('host picture', () => {
  it('draws sockets x cores x threads with the holder of every CPU (Intel with Hyper-Threading)', () => {
    const v = viewOf('intel-ht', [
      ['web', 2],
      ['db', 1],
    ]);
    const text = hostText(v, { colour: false });
    // Threads 0 and 1 of core k are CPUs k and k+6; CPU 0 is the host's, web gets a whole core.
    assert.match(text, /^socket 0 +core 0 +core 1 +core 2/m);
    assert.match(text, /^ {2}thread 0 +\[0 host +\] \[1 web +\]/m);
    assert.match(text, /^ {2}thread 1 +\[6 db +\] \[7 web +\]/m);
    assert.match(text, /\[11 shared\]/);
    assert.match(text, /^CPU allocation {2}host: 0 {3}VMs: 1,6,7 {3}free for VMs: 2-5,8-11$/m);
    assert.match(
      text,
      /^Containers {6}2 running on the shared CPUs 0,2-5,8-11; limits add up to 0.5 CPUs and 64MiB; 1 without limits$/m,
    );
    assert.doesNotMatch(text, /\x1b\[/);
    assert.equal(v.cpu.threadsPerCore, 2);
    assert.deepEqual(
      v.allocation.cpus.filter((c) => c.holder === 'vm').map((c) => [c.id, c.vms[0]]),
      [
        [1, 'web'],
        [6, 'db'],
        [7, 'web'],
      ],
    );
  });

  it('marks CPUs shared by VMs under overcommit', () => {
    const policy = { ...DEFAULT_POLICY, overcommit: { cpu: 2, memory: 1 } };
    const v = viewOf(
      'no-smt',
      [
        ['a', 5],
        ['b', 1],
      ],
      policy,
    );
    const text = hostText(v, { colour: false });
    assert.match(text, /\[1 a\+b\* *\]/);
    assert.match(text, /overcommit cpu=2,memory=1; \* = overcommitted/);
    assert.equal(v.allocation.vms[1]!.overcommitted, true);
  });

  it('shows two sockets and leaves offline CPUs out', () => {
    const two = hostText(viewOf('two-sockets', []), { colour: false, width: 200 });
    assert.match(two, /^socket 1 +core 0/m);
    assert.match(two, /\[31 shared\]/);
    const off = viewOf('offline-cpus', []);
    assert.equal(off.cpu.offline, '5,7');
    assert.deepEqual(
      off.allocation.cpus.map((c) => c.id),
      [0, 1, 2, 3, 4, 6],
    );
    assert.equal(
      off.allocation.hostReserved,
      '0',
      'the host keeps CPU 0 even when other cores lost a thread',
    );
  });

  it('colours only on a terminal and never with NO_COLOR', () => {
    assert.equal(useColour({ isTTY: true }, {}), true);
    assert.equal(useColour({ isTTY: false }, {}), false);
    assert.equal(useColour({ isTTY: true }, { NO_COLOR: '1' }), false);
    const text = hostText(viewOf('intel-ht', [['web', 2]]), { colour: true });
    assert.match(text, /\x1b\[4\dm\x1b\[30m \d+ (host|web|shared)/);
  });
});
