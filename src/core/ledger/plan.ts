import { InvalidArgumentError } from '../errors.ts';
import { shortBinarySize } from '../human.ts';
import type { Availability } from './allocate.ts';
import type { ContainerProfile, VmProfile } from './plan-input.ts';
import type { HostReserve, OvercommitPolicy } from './types.ts';

/**
 * The "how many VMs fit?" planner, pure arithmetic over the same rules as the ledger (core/ledger/allocate.ts):
 * a VM's CPUs, memory and disk are its own; the host reserve is never given to VMs; overcommit multiplies what CPUs
 * and memory may carry (rounded down); disk is never overcommitted. Containers share: their limits only have to
 * add up to the host minus its reserve.
 */
export type Resource = 'cpu' | 'memory' | 'disk';

export interface PlanHost {
  sockets: number;
  /** Cores per socket. */
  cores: number;
  threads: number;
  logicalCpus: number;
  memoryBytes: number;
  diskBytes: number;
}

export interface PlanInput {
  host: PlanHost;
  vm: VmProfile;
  reserve: HostReserve;
  overcommit: OvercommitPolicy;
  container: ContainerProfile;
}

export interface ResourcePlan {
  resource: Resource;
  /** What the host has (logical CPUs, bytes). */
  total: number;
  /** Kept for the host. */
  hostReserve: number;
  /** total - hostReserve: what VMs may be given. */
  forVms: number;
  ratio: number;
  /** forVms x ratio, rounded down: what VMs' reservations may add up to. */
  capacity: number;
  perVm: number;
  /** How many VMs this resource alone admits; null when the profile does not use it (disk=0). */
  fits: number | null;
  /** capacity - maxVms x perVm: what is left once the maximum number of VMs is placed. */
  left: number;
  /** The arithmetic in one line. */
  arithmetic: string;
}

export interface OvercommitScenario {
  overcommit: OvercommitPolicy;
  maxVms: number;
  bindingResource: Resource;
}

export interface ContainerPlan {
  profile: ContainerProfile;
  max: number;
  bindingResource: 'cpu' | 'memory';
  resources: {
    resource: 'cpu' | 'memory';
    forContainers: number;
    perContainer: number;
    fits: number;
    arithmetic: string;
  }[];
}

export interface PlanResult {
  maxVms: number;
  bindingResource: Resource;
  resources: ResourcePlan[];
  /** The same host and profile under other overcommit ratios: how the answer changes. */
  overcommitScenarios: OvercommitScenario[];
  containers: ContainerPlan;
}

const EPSILON = 1e-9;
const floorRatio = (n: number, ratio: number) => Math.floor(n * ratio + EPSILON);

export function plan(input: PlanInput): PlanResult {
  validate(input);
  const resources = vmResources(input, input.overcommit);
  const { maxVms, binding } = bindingOf(resources);
  for (const r of resources) {
    r.left = r.capacity - maxVms * r.perVm;
    r.arithmetic += `; ${maxVms} ${maxVms === 1 ? 'VM leaves' : 'VMs leave'} ${amount(r.resource, r.left)}`;
  }
  return {
    maxVms,
    bindingResource: binding,
    resources,
    overcommitScenarios: scenarios(input.overcommit).map((overcommit) => {
      const b = bindingOf(vmResources(input, overcommit));
      return { overcommit, maxVms: b.maxVms, bindingResource: b.binding };
    }),
    containers: containerPlan(input),
  };
}

function validate(input: PlanInput): void {
  const { host, reserve, vm, container } = input;
  if (host.logicalCpus < 1) throw new InvalidArgumentError('the host has no logical CPU');
  if (vm.cpus < 1 || !Number.isInteger(vm.cpus)) {
    throw new InvalidArgumentError(`--vm cpus=${vm.cpus}: a VM needs a whole number of CPUs, at least 1`);
  }
  if (vm.memoryBytes <= 0) throw new InvalidArgumentError(`--vm memory=${vm.memoryBytes}: a VM needs memory`);
  if (container.cpus <= 0 || container.memoryBytes <= 0) {
    throw new InvalidArgumentError(
      '--container: a zero-size container profile fits without bound: give cpus and memory above 0',
    );
  }
  const over: string[] = [];
  if (reserve.cpus > host.logicalCpus) over.push(`cpus=${reserve.cpus} > ${host.logicalCpus} logical CPUs`);
  if (reserve.memoryBytes > host.memoryBytes) {
    over.push(`memory=${shortBinarySize(reserve.memoryBytes)} > ${shortBinarySize(host.memoryBytes)}`);
  }
  if (reserve.diskBytes > host.diskBytes) {
    over.push(`disk=${shortBinarySize(reserve.diskBytes)} > ${shortBinarySize(host.diskBytes)}`);
  }
  if (over.length > 0) {
    throw new InvalidArgumentError(`the host reserve is larger than the host: ${over.join(', ')}`);
  }
}

function vmResources(input: PlanInput, overcommit: OvercommitPolicy): ResourcePlan[] {
  const { host, reserve, vm } = input;
  const line = (
    resource: Resource,
    total: number,
    hostReserve: number,
    ratio: number,
    perVm: number,
  ): ResourcePlan => {
    const forVms = total - hostReserve;
    const capacity = floorRatio(forVms, ratio);
    // A VM's CPUs are distinct CPUs: however high the ratio, one VM cannot have more CPUs than VMs may use.
    const tooBig = resource === 'cpu' && perVm > forVms;
    const fits = perVm === 0 ? null : tooBig ? 0 : Math.floor(capacity / perVm);
    const a = (n: number) => amount(resource, n);
    const reserveText = `${a(total)} - ${a(hostReserve)} for the host = ${a(forVms)}`;
    const ratioText = ratio === 1 ? '' : `; x ${ratio} overcommit = ${a(capacity)}`;
    const fitText =
      fits === null
        ? '; not used by this VM profile'
        : tooBig
          ? `; a VM of ${a(perVm)} is larger than that: 0 VMs`
          : `; ${a(capacity)} / ${a(perVm)} per VM = ${fits} ${fits === 1 ? 'VM' : 'VMs'}`;
    return {
      resource,
      total,
      hostReserve,
      forVms,
      ratio,
      capacity,
      perVm,
      fits,
      left: capacity,
      arithmetic: `${reserveText}${ratioText}${fitText}`,
    };
  };
  return [
    line('cpu', host.logicalCpus, reserve.cpus, overcommit.cpu, vm.cpus),
    line('memory', host.memoryBytes, reserve.memoryBytes, overcommit.memory, vm.memoryBytes),
    line('disk', host.diskBytes, reserve.diskBytes, 1, vm.diskBytes),
  ];
}

/** The fewest VMs any resource admits, and which resource that is (cpu before memory before disk on a tie). */
function bindingOf(resources: ResourcePlan[]): { maxVms: number; binding: Resource } {
  let best: ResourcePlan | undefined;
  for (const r of resources) if (r.fits !== null && (best === undefined || r.fits < best.fits!)) best = r;
  return { maxVms: best!.fits!, binding: best!.resource };
}

/** The ratios to compare: none, CPU overcommit of 2 and 4, with memory at 1.5 too (common settings), and the one asked for. */
function scenarios(asked: OvercommitPolicy): OvercommitPolicy[] {
  const list: OvercommitPolicy[] = [
    { cpu: 1, memory: 1 },
    { cpu: 2, memory: 1 },
    { cpu: 4, memory: 1 },
    { cpu: 4, memory: 1.5 },
    asked,
  ];
  const seen = new Set<string>();
  return list.filter((o) => {
    const key = `${o.cpu}/${o.memory}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function containerPlan(input: PlanInput): ContainerPlan {
  const { host, reserve, container } = input;
  // Millicores keep 7 / 0.1 at 70, not 69.99999.
  const milli = (n: number) => Math.round(n * 1000);
  const cpuFor = host.logicalCpus - reserve.cpus;
  const memFor = host.memoryBytes - reserve.memoryBytes;
  const cpuFits = Math.floor(milli(cpuFor) / milli(container.cpus));
  const memFits = Math.floor(memFor / container.memoryBytes);
  const resources = [
    {
      resource: 'cpu' as const,
      forContainers: cpuFor,
      perContainer: container.cpus,
      fits: cpuFits,
      arithmetic: `${amount('cpu', cpuFor)} / ${container.cpus} per container = ${cpuFits} containers`,
    },
    {
      resource: 'memory' as const,
      forContainers: memFor,
      perContainer: container.memoryBytes,
      fits: memFits,
      arithmetic: `${amount('memory', memFor)} / ${amount('memory', container.memoryBytes)} per container = ${memFits} containers`,
    },
  ];
  return {
    profile: container,
    max: Math.min(cpuFits, memFits),
    bindingResource: cpuFits <= memFits ? 'cpu' : 'memory',
    resources,
  };
}

/** "7 CPUs", "1 CPU", "15GiB". */
export function amount(resource: Resource, n: number): string {
  if (resource === 'cpu') return `${Number(n.toFixed(3))} ${n === 1 ? 'CPU' : 'CPUs'}`;
  return shortBinarySize(n);
}

/** How many more VMs of `vm` the ledger admits now, given what is already reserved; and which resource binds. */
export function roomNow(avail: Availability, vm: VmProfile): { moreVms: number; bindingResource: Resource } {
  const cpuSlots = Math.max(0, avail.cpu.slots - avail.cpu.used);
  const fits: [Resource, number][] = [
    ['cpu', vm.cpus > avail.cpu.pool.length ? 0 : Math.floor(cpuSlots / vm.cpus)],
    ['memory', Math.floor(Math.max(0, avail.memory.capacity - avail.memory.used) / vm.memoryBytes)],
  ];
  if (vm.diskBytes > 0) {
    fits.push(['disk', Math.floor(Math.max(0, avail.disk.reservable - avail.disk.used) / vm.diskBytes)]);
  }
  const [resource, n] = fits.reduce((best, f) => (f[1] < best[1] ? f : best));
  return { moreVms: n, bindingResource: resource };
}
