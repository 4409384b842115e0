import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allocate,
  availability,
  chooseCpus,
  hostReservedCpus,
  type LedgerState,
  sharedCpus,
} from './allocate.ts';
import { formatCpuList, parseCpuList } from './cpu-list.ts';
import { syntheticCpus, syntheticHost } from './synthetic-host.ts';
import { DEFAULT_POLICY, type LedgerPolicy, type Reservation, type ReservationRequest } from './types.ts';

const G = 1024 ** 3;
const seedHost = syntheticHost({ cores: 4, threads: 2, memoryBytes: 16 * G, diskBytes: 500 * G });

function vm(name: string, cpus = 1, extra: Partial<ReservationRequest> = {}): ReservationRequest {
  return {
    ownerId: `id-${name}`,
    ownerName: name,
    kind: 'vm',
    cpus,
    memoryBytes: G,
    diskBytes: 10 * G,
    ...extra,
  };
}

/** Reserves one after another as the ledger would, returning every reservation made. */
function fill(state: Omit<LedgerState, 'reservations'>, reqs: ReservationRequest[]): Reservation[] {
  const made: Reservation[] = [];
  for (const r of reqs) made.push(allocate({ ...state, reservations: made }, r, 0));
  return made;
}

describe('cpu lists', () => {
  it('parses and formats Linux CPU lists, refusing malformed ones by name', () => {
    assert.deepEqual(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
    assert.equal(formatCpuList([11, 0, 1, 2, 3, 8, 10]), '0-3,8,10,11');
    assert.equal(formatCpuList([2, 3, 4, 5, 6, 7]), '2-7');
    assert.throws(
      () => parseCpuList('3-1', '--cpuset-cpus'),
      /invalid --cpuset-cpus "3-1": range 3-1 runs backwards/,
    );
    assert.throws(() => parseCpuList('a'), /expected a list like 0-2,4/);
  });
});

describe('ledger arithmetic', () => {
  it('keeps CPU 0 for the host and fits 7 one-CPU VMs on 4 cores x 2 threads (the seed example)', () => {
    const state = { host: seedHost, policy: DEFAULT_POLICY };
    assert.deepEqual(hostReservedCpus(seedHost, DEFAULT_POLICY), [0]);
    const made = fill(
      state,
      [1, 2, 3, 4, 5, 6, 7].map((i) => vm(`vm${i}`)),
    );
    const all = made.flatMap((r) => r.cpus).sort((a, b) => a - b);
    assert.deepEqual(all, [1, 2, 3, 4, 5, 6, 7], 'no CPU given twice, none of the host reserve');
    assert.ok(made.every((r) => !r.overcommitted));
    assert.throws(
      () => allocate({ ...state, reservations: made }, vm('vm8'), 0),
      (err: Error) => {
        assert.equal((err as { code?: string }).code, 'ResourceExhausted');
        assert.match(
          err.message,
          /cannot reserve for vm8: needs 1 CPU, 0 free: CPUs 1-7 are dedicated to vm1\.\.vm7, CPU 0 is kept for the host/,
        );
        return true;
      },
    );
  });

  it('names the exhausted resource and the numbers, as the issue shows', () => {
    const host = syntheticHost({ cores: 8, threads: 1, memoryBytes: 64 * G, diskBytes: 1000 * G });
    const policy: LedgerPolicy = {
      ...DEFAULT_POLICY,
      hostReserve: { ...DEFAULT_POLICY.hostReserve, cpus: 1 },
    };
    const made = fill(
      { host, policy },
      [1, 2, 3, 4, 5, 6].map((i) => vm(`vm${i}`)),
    );
    assert.deepEqual(
      made.flatMap((r) => r.cpus),
      [1, 2, 3, 4, 5, 6],
    );
    assert.throws(
      () => allocate({ host, policy, reservations: made }, vm('big', 2), 0),
      /needs 2 CPUs, 1 free: CPUs 1-6 are dedicated to vm1\.\.vm6, CPU 0 is kept for the host/,
    );
    assert.throws(
      () => allocate({ host, policy, reservations: made }, vm('fat', 1, { memoryBytes: 60 * G }), 0),
      /needs 60GiB of memory, 57GiB free: 6GiB is dedicated to vm1\.\.vm6, 1GiB kept for the host \(of 64GiB\)/,
    );
    assert.throws(
      () => allocate({ host, policy, reservations: made }, vm('wide', 1, { diskBytes: 990 * G }), 0),
      /needs 990GiB of disk, 930GiB free: 60GiB is dedicated to vm1\.\.vm6, 10GiB kept for the host/,
    );
  });

  it('gives whole cores first and pairs one-CPU VMs on half-used cores', () => {
    const host = syntheticHost({ cores: 4, threads: 2, memoryBytes: 64 * G, diskBytes: 1000 * G });
    const policy = { ...DEFAULT_POLICY, hostReserve: { ...DEFAULT_POLICY.hostReserve, cpus: 0 } };
    // Intel numbering: core c has threads c and c+4.
    const [a, b, c] = fill({ host, policy }, [vm('a', 2), vm('b', 1), vm('c', 1)]);
    assert.deepEqual(a!.cpus, [0, 4], 'a 2-CPU VM gets one whole core');
    assert.deepEqual(b!.cpus, [1], 'a 1-CPU VM starts a core');
    assert.deepEqual(c!.cpus, [5], "the next 1-CPU VM takes that core's sibling, not a fresh core");
    assert.deepEqual(chooseCpus(syntheticCpus({ cores: 4, threads: 2 }), 3), [0, 1, 4]);
  });

  it('keeps a VM on one socket when one socket can hold it', () => {
    const host = syntheticHost({
      sockets: 2,
      cores: 2,
      threads: 2,
      memoryBytes: 64 * G,
      diskBytes: 1000 * G,
    });
    // socket 0: cores 0,1 -> CPUs 0,1 / 4,5 ; socket 1: CPUs 2,3 / 6,7. The host keeps CPU 0.
    const [a] = fill({ host, policy: DEFAULT_POLICY }, [vm('a', 4)]);
    assert.deepEqual(a!.cpus, [2, 3, 6, 7]);
  });

  it('honours explicit pinning and refuses a pinned CPU that is taken or kept for the host', () => {
    const state = { host: seedHost, policy: DEFAULT_POLICY };
    const [a] = fill(state, [vm('a', 2, { cpuList: [3, 7] })]);
    assert.deepEqual(a!.cpus, [3, 7]);
    assert.throws(
      () => allocate({ ...state, reservations: [a!] }, vm('b', 1, { cpuList: [7] }), 0),
      /CPU 7 is dedicated to a/,
    );
    assert.throws(
      () => allocate({ ...state, reservations: [] }, vm('c', 1, { cpuList: [0] }), 0),
      /CPU 0 is kept for the host/,
    );
    assert.throws(
      () => allocate({ ...state, reservations: [] }, vm('d', 1, { cpuList: [9] }), 0),
      /CPU 9 not online/,
    );
    assert.throws(
      () => allocate({ ...state, reservations: [] }, vm('e', 2, { cpuList: [1] }), 0),
      /lists 1 CPUs for 2 vCPUs/,
    );
  });

  it('refuses zero-size and fractional requests with the value named', () => {
    const state = { host: seedHost, policy: DEFAULT_POLICY, reservations: [] };
    assert.throws(() => allocate(state, vm('z', 0), 0), /whole number of at least 1, not 0/);
    assert.throws(() => allocate(state, vm('f', 1.5), 0), /not 1.5/);
    assert.throws(
      () => allocate(state, vm('m', 1, { memoryBytes: 0 }), 0),
      /memory must be more than 0 bytes, not 0/,
    );
  });

  it('shares CPUs and memory up to the overcommit ratio and marks what it admitted thanks to it', () => {
    const policy: LedgerPolicy = { ...DEFAULT_POLICY, overcommit: { cpu: 1.5, memory: 1 } };
    const made = fill(
      { host: seedHost, policy },
      Array.from({ length: 10 }, (_, i) => vm(`vm${i + 1}`)),
    );
    // 7 pool CPUs x 1.5 = 10 slots: 7 dedicated, 3 shared.
    assert.equal(made.filter((r) => r.overcommitted).length, 3);
    assert.ok(made.slice(0, 7).every((r) => !r.overcommitted));
    const loads = new Map<number, number>();
    for (const r of made) for (const c of r.cpus) loads.set(c, (loads.get(c) ?? 0) + 1);
    assert.ok(
      [...loads.values()].every((n) => n <= 2),
      'no CPU carries more than ceil(1.5) VMs',
    );
    assert.equal(loads.has(0), false);
    assert.throws(
      () => allocate({ host: seedHost, policy, reservations: made }, vm('vm11'), 0),
      /needs 1 CPU, 0 free \(overcommit 1.5: 10 vCPU slots on 7 CPUs, 10 used\)/,
    );
    const av = availability({ host: seedHost, policy, reservations: made });
    assert.equal(av.cpu.slots, 10);
    assert.deepEqual(sharedCpus({ host: seedHost, policy, reservations: made }), [0]);
  });

  it('overcommits memory by its own ratio', () => {
    const policy: LedgerPolicy = { ...DEFAULT_POLICY, overcommit: { cpu: 4, memory: 1.5 } };
    const reqs = Array.from({ length: 5 }, (_, i) => vm(`m${i}`, 1, { memoryBytes: 4 * G }));
    // 15GiB reservable, x1.5 = 22.5GiB: three 4GiB VMs fit plainly, the 4th and 5th only thanks to overcommit.
    const made = fill({ host: seedHost, policy }, reqs);
    assert.deepEqual(
      made.map((r) => r.overcommitted),
      [false, false, false, true, true],
    );
    assert.throws(
      () => allocate({ host: seedHost, policy, reservations: made }, vm('m6', 1, { memoryBytes: 4 * G }), 0),
      /needs 4GiB of memory, 2.5GiB free \(overcommit 1.5: 22.5GiB may be dedicated\)/,
    );
  });

  it('leaves the host reserve and free CPUs to containers', () => {
    const made = fill({ host: seedHost, policy: DEFAULT_POLICY }, [vm('a', 2), vm('b', 1)]);
    const shared = sharedCpus({ host: seedHost, policy: DEFAULT_POLICY, reservations: made });
    const held = made.flatMap((r) => r.cpus);
    assert.deepEqual(
      [...shared, ...held].sort((x, y) => x - y),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.ok(shared.includes(0));
  });
});
