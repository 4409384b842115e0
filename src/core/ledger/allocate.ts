import { InvalidArgumentError, ResourceExhaustedError } from '../errors.ts';
import { shortBinarySize } from '../human.ts';
import { cpusPhrase } from './cpu-list.ts';
import type { HostCapacity, HostCpu, LedgerPolicy, Reservation, ReservationRequest } from './types.ts';

/**
 * The ledger's arithmetic, pure: given the host, the policy and the reservations already made, which CPUs, how much
 * memory and disk a new reservation gets, or why it cannot. engine/ledger.ts runs it inside one write transaction.
 */
export interface LedgerState {
  host: HostCapacity;
  policy: LedgerPolicy;
  reservations: readonly Reservation[];
}

/**
 * The CPUs kept for the host: from CPU 0 up (where the kernel's own work lands), whole cores at a time so VMs do not
 * share a core with the host: a reserve of 2 on a host with Hyper-Threading is CPU 0 and its sibling.
 */
export function hostReservedCpus(host: HostCapacity, policy: LedgerPolicy): number[] {
  let need = Math.min(policy.hostReserve.cpus, host.cpus.length);
  const kept: number[] = [];
  const cores = groupByCore(host.cpus).sort((a, b) => a[0]!.id - b[0]!.id);
  for (const core of cores) {
    if (need === 0) break;
    const take = core.slice(0, need);
    kept.push(...take.map((c) => c.id));
    need -= take.length;
  }
  return kept.sort((a, b) => a - b);
}

/** The CPUs VMs may be given: every online CPU but the host reserve. */
export function vmCpuPool(host: HostCapacity, policy: LedgerPolicy): number[] {
  const reserved = new Set(hostReservedCpus(host, policy));
  return host.cpus.map((c) => c.id).filter((id) => !reserved.has(id));
}

/** CPUs no VM holds: where containers run (the host reserve included: containers are the host's own workload). */
export function sharedCpus(state: LedgerState): number[] {
  const held = new Set(state.reservations.flatMap((r) => r.cpus));
  return state.host.cpus.map((c) => c.id).filter((id) => !held.has(id));
}

/** How many VMs hold each CPU. */
export function cpuLoads(reservations: readonly Reservation[]): Map<number, number> {
  const loads = new Map<number, number>();
  for (const r of reservations) for (const c of r.cpus) loads.set(c, (loads.get(c) ?? 0) + 1);
  return loads;
}

/** What is left of each resource for VMs, with and without overcommit. */
export interface Availability {
  cpu: {
    pool: number[];
    /** vCPU slots: pool size times the CPU overcommit ratio, rounded down. */
    slots: number;
    used: number;
    /** Pool CPUs no VM holds. */
    free: number[];
  };
  memory: { reservable: number; capacity: number; used: number };
  disk: { reservable: number; used: number };
}

export function availability(state: LedgerState): Availability {
  const { host, policy, reservations } = state;
  const pool = vmCpuPool(host, policy);
  const loads = cpuLoads(reservations);
  const memReservable = Math.max(0, host.memoryBytes - policy.hostReserve.memoryBytes);
  return {
    cpu: {
      pool,
      slots: Math.floor(pool.length * policy.overcommit.cpu + 1e-9),
      used: reservations.reduce((n, r) => n + r.cpus.length, 0),
      free: pool.filter((c) => !loads.has(c)),
    },
    memory: {
      reservable: memReservable,
      capacity: Math.floor(memReservable * policy.overcommit.memory),
      used: reservations.reduce((n, r) => n + r.memoryBytes, 0),
    },
    disk: {
      reservable: Math.max(0, host.diskBytes - policy.hostReserve.diskBytes),
      used: reservations.reduce((n, r) => n + r.diskBytes, 0),
    },
  };
}

/**
 * The reservation `req` gets, or a ResourceExhaustedError naming every resource that falls short and who holds it.
 * Without overcommit a VM's CPUs are its own; with it, CPUs already held are shared least-loaded first, and the
 * reservation is marked overcommitted when it would have been refused at ratio 1.
 */
export function allocate(state: LedgerState, req: ReservationRequest, now: number): Reservation {
  validateRequest(state.host, req);
  const avail = availability(state);
  const shortfalls: string[] = [];
  let overcommitted = false;

  const cpuChoice = chooseVmCpus(state, req, avail);
  if ('shortfall' in cpuChoice) shortfalls.push(cpuChoice.shortfall);
  else overcommitted ||= cpuChoice.overcommitted;

  const memFree = avail.memory.reservable - avail.memory.used;
  if (req.memoryBytes > memFree) {
    if (avail.memory.used + req.memoryBytes <= avail.memory.capacity) overcommitted = true;
    else shortfalls.push(memoryShortfall(state, req.memoryBytes, avail));
  }
  const diskFree = avail.disk.reservable - avail.disk.used;
  if (req.diskBytes > diskFree) {
    shortfalls.push(
      `needs ${shortBinarySize(req.diskBytes)} of disk, ${shortBinarySize(Math.max(0, diskFree))} free: ` +
        heldPhrase(state, 'diskBytes', state.policy.hostReserve.diskBytes, state.host.diskBytes),
    );
  }
  if (shortfalls.length > 0 || 'shortfall' in cpuChoice) {
    throw new ResourceExhaustedError(`cannot reserve for ${req.ownerName}: ${shortfalls.join('; ')}`);
  }
  return {
    ownerId: req.ownerId,
    ownerName: req.ownerName,
    kind: req.kind,
    cpus: cpuChoice.cpus,
    memoryBytes: req.memoryBytes,
    diskBytes: req.diskBytes,
    overcommitted,
    createdAt: now,
  };
}

function validateRequest(host: HostCapacity, req: ReservationRequest): void {
  if (!Number.isInteger(req.cpus) || req.cpus < 1) {
    throw new InvalidArgumentError(
      `${req.ownerName}: CPU count must be a whole number of at least 1, not ${req.cpus}`,
    );
  }
  if (!Number.isSafeInteger(req.memoryBytes) || req.memoryBytes <= 0) {
    throw new InvalidArgumentError(
      `${req.ownerName}: memory must be more than 0 bytes, not ${req.memoryBytes}`,
    );
  }
  if (!Number.isSafeInteger(req.diskBytes) || req.diskBytes < 0) {
    throw new InvalidArgumentError(`${req.ownerName}: disk must be 0 bytes or more, not ${req.diskBytes}`);
  }
  if (req.cpuList) {
    if (new Set(req.cpuList).size !== req.cpuList.length) {
      throw new InvalidArgumentError(
        `${req.ownerName}: CPU pinning list names a CPU twice: ${req.cpuList.join(',')}`,
      );
    }
    if (req.cpuList.length !== req.cpus) {
      throw new InvalidArgumentError(
        `${req.ownerName}: CPU pinning lists ${req.cpuList.length} CPUs for ${req.cpus} vCPUs: give one CPU per vCPU`,
      );
    }
    const online = new Set(host.cpus.map((c) => c.id));
    const absent = req.cpuList.filter((c) => !online.has(c));
    if (absent.length > 0) {
      throw new InvalidArgumentError(
        `${req.ownerName}: ${cpusPhrase(absent)} not online on this host (online: ${cpusPhrase([...online])})`,
      );
    }
  }
}

type CpuChoice = { cpus: number[]; overcommitted: boolean } | { shortfall: string };

function chooseVmCpus(state: LedgerState, req: ReservationRequest, avail: Availability): CpuChoice {
  const { host, policy } = state;
  const loads = cpuLoads(state.reservations);
  const cap = Math.max(1, Math.ceil(policy.overcommit.cpu - 1e-9));
  const slotsLeft = avail.cpu.slots - avail.cpu.used;
  if (req.cpuList) {
    const hostKept = req.cpuList.filter((c) => !avail.cpu.pool.includes(c));
    if (hostKept.length > 0) {
      return {
        shortfall: `${cpusPhrase(hostKept)} ${hostKept.length === 1 ? 'is' : 'are'} kept for the host`,
      };
    }
    const held = req.cpuList.filter((c) => (loads.get(c) ?? 0) > 0);
    if (held.length === 0) return { cpus: [...req.cpuList].sort((a, b) => a - b), overcommitted: false };
    const full = req.cpuList.filter((c) => (loads.get(c) ?? 0) >= cap);
    if (cap > 1 && full.length === 0 && req.cpus <= slotsLeft) {
      return { cpus: [...req.cpuList].sort((a, b) => a - b), overcommitted: true };
    }
    return {
      shortfall: `${cpusPhrase(held)} ${held.length === 1 ? 'is' : 'are'} ${ownersPhrase(state, held)}`,
    };
  }
  const pool = host.cpus.filter((c) => avail.cpu.pool.includes(c.id));
  if (avail.cpu.free.length >= req.cpus) {
    const free = pool.filter((c) => !loads.has(c.id));
    return { cpus: chooseCpus(free, req.cpus)!, overcommitted: false };
  }
  if (cap > 1 && req.cpus <= slotsLeft && req.cpus <= pool.length) {
    // Least-loaded first: fill every CPU to load 1, then 2, ... keeping each level's choice topology-aware.
    const chosen: number[] = [];
    for (let level = 0; level < cap && chosen.length < req.cpus; level++) {
      const atLevel = pool.filter((c) => (loads.get(c.id) ?? 0) === level);
      const take = Math.min(req.cpus - chosen.length, atLevel.length);
      chosen.push(...(chooseCpus(atLevel, take) ?? []));
    }
    if (chosen.length === req.cpus) return { cpus: chosen.sort((a, b) => a - b), overcommitted: true };
  }
  return { shortfall: cpuShortfall(state, req.cpus, avail, cap) };
}

function cpuShortfall(state: LedgerState, wanted: number, avail: Availability, cap: number): string {
  const unit = (n: number) => `${n} ${n === 1 ? 'CPU' : 'CPUs'}`;
  const held = avail.cpu.pool.filter((c) => !avail.cpu.free.includes(c));
  const kept = hostReservedCpus(state.host, state.policy);
  const why: string[] = [];
  if (held.length > 0)
    why.push(`${cpusPhrase(held)} ${held.length === 1 ? 'is' : 'are'} ${ownersPhrase(state, held)}`);
  if (kept.length > 0) why.push(`${cpusPhrase(kept)} ${kept.length === 1 ? 'is' : 'are'} kept for the host`);
  const overcommit =
    cap > 1
      ? ` (overcommit ${state.policy.overcommit.cpu}: ${avail.cpu.slots} vCPU slots on ${unit(avail.cpu.pool.length)}, ${avail.cpu.used} used)`
      : '';
  const needsMore =
    wanted > avail.cpu.pool.length ? `; the host has ${unit(state.host.cpus.length)} in all` : '';
  return `needs ${unit(wanted)}, ${avail.cpu.free.length} free${overcommit}: ${why.join(', ') || 'no CPU is left for VMs'}${needsMore}`;
}

function memoryShortfall(state: LedgerState, wanted: number, avail: Availability): string {
  const free = Math.max(0, avail.memory.capacity - avail.memory.used);
  const overcommit =
    state.policy.overcommit.memory > 1
      ? ` (overcommit ${state.policy.overcommit.memory}: ${shortBinarySize(avail.memory.capacity)} may be dedicated)`
      : '';
  return (
    `needs ${shortBinarySize(wanted)} of memory, ${shortBinarySize(free)} free${overcommit}: ` +
    heldPhrase(state, 'memoryBytes', state.policy.hostReserve.memoryBytes, state.host.memoryBytes)
  );
}

/** "20GiB is dedicated to vm1..vm6, 1GiB kept for the host (of 24GiB)". */
function heldPhrase(
  state: LedgerState,
  field: 'memoryBytes' | 'diskBytes',
  reserve: number,
  total: number,
): string {
  const holders = state.reservations.filter((r) => r[field] > 0);
  const used = holders.reduce((n, r) => n + r[field], 0);
  const parts: string[] = [];
  if (used > 0)
    parts.push(`${shortBinarySize(used)} is dedicated to ${namesPhrase(holders.map((r) => r.ownerName))}`);
  parts.push(`${shortBinarySize(reserve)} kept for the host`);
  return `${parts.join(', ')} (of ${shortBinarySize(total)})`;
}

/** "dedicated to vm1..vm6" for the VMs holding any of `cpus`. */
function ownersPhrase(state: LedgerState, cpus: number[]): string {
  const set = new Set(cpus);
  const owners = state.reservations.filter((r) => r.cpus.some((c) => set.has(c))).map((r) => r.ownerName);
  return `dedicated to ${namesPhrase(owners)}`;
}

/** "vm1", "vm1 and vm2", "vm1, vm2 and vm3", or "vm1..vm6" for longer lists (in the order they reserved). */
export function namesPhrase(names: string[]): string {
  if (names.length === 0) return 'nobody';
  if (names.length === 1) return names[0]!;
  if (names.length <= 3) return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `${names[0]}..${names.at(-1)}`;
}

/**
 * `count` CPUs from `candidates`, topology-aware: on one socket when one socket can hold them; whole cores first
 * (a VM's vCPUs sharing a core with each other, not with another VM); the remainder from the core whose free
 * threads fit it best, so half-used cores fill up before whole ones are broken. Undefined when too few candidates.
 */
export function chooseCpus(candidates: readonly HostCpu[], count: number): number[] | undefined {
  if (count === 0) return [];
  if (candidates.length < count) return undefined;
  const sockets = [...new Set(candidates.map((c) => c.socket))].sort((a, b) => a - b);
  const fitting = sockets
    .map((s) => candidates.filter((c) => c.socket === s))
    .filter((group) => group.length >= count)
    .sort((a, b) => a.length - b.length);
  const from = fitting[0] ?? candidates;
  const cores = groupByCore(from);
  const chosen: number[] = [];
  let need = count;
  // Largest groups first (whole free cores), each taken only when it fits entirely.
  for (const g of [...cores].sort((a, b) => b.length - a.length)) {
    if (g.length <= need) {
      chosen.push(...g.map((c) => c.id));
      need -= g.length;
      g.length = 0;
    }
    if (need === 0) break;
  }
  while (need > 0) {
    const left = cores.filter((g) => g.length > 0);
    const best = left.filter((g) => g.length >= need).sort((a, b) => a.length - b.length)[0] ?? left[0]!;
    const take = best.splice(0, Math.min(need, best.length));
    chosen.push(...take.map((c) => c.id));
    need -= take.length;
  }
  return chosen.sort((a, b) => a - b);
}

/** Candidates grouped per physical core, cores in (socket, core) order, threads in CPU-number order. */
function groupByCore(cpus: readonly HostCpu[]): HostCpu[][] {
  const byCore = new Map<string, HostCpu[]>();
  for (const c of [...cpus].sort((a, b) => a.socket - b.socket || a.core - b.core || a.id - b.id)) {
    const key = `${c.socket}/${c.core}`;
    const g = byCore.get(key);
    if (g) g.push(c);
    else byCore.set(key, [c]);
  }
  return [...byCore.values()];
}
