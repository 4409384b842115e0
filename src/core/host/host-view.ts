import { formatCpuList } from '../ledger/cpu-list.ts';
import type { HostCpu, LedgerPolicy, Reservation } from '../ledger/types.ts';
import type { CpuTopology } from './topology.ts';

/**
 * What `hyperbox host` shows, as one value (its --json form): the hardware, how VMs will be accelerated, and who
 * holds every logical CPU, memory and disk now. Built by `hostView` from facts the drivers read; rendered as text
 * by cli/host-picture.ts.
 */
export interface HostView {
  cpu: {
    vendor: string;
    model: string;
    sockets: number;
    physicalCores: number;
    threadsPerCore: number;
    logicalCpus: number;
    offline: string;
    virtualizationExtensions: 'vmx' | 'svm' | null;
  };
  virtualization: {
    kvmDevice: boolean;
    kvmModules: string[];
    kvmUsable: boolean;
    hostIsVm: boolean;
    vmEvidence: string[];
    accelerator: 'kvm' | 'tcg';
    acceleratorReason: string;
    probedAt: string;
    /** One line each: extensions, /dev/kvm, nested, accelerator — what they mean for VMs. */
    summary: string[];
  };
  memory: {
    totalBytes: number;
    availableBytes: number;
    hostReserveBytes: number;
    dedicatedToVmsBytes: number;
    containerLimitsBytes: number;
    freeForVmsBytes: number;
    overcommitRatio: number;
  };
  storage: {
    path: string;
    totalBytes: number;
    freeBytes: number;
    hostReserveBytes: number;
    dedicatedToVmsBytes: number;
    freeForVmsBytes: number;
  };
  allocation: {
    cpus: CpuAllocation[];
    hostReserved: string;
    dedicatedToVms: string;
    shared: string;
    freeForVms: string;
    overcommitRatio: number;
    vms: VmAllocation[];
    containers: { running: number; cpuLimits: number; memoryLimitsBytes: number; unlimited: number };
  };
}

export interface CpuAllocation extends HostCpu {
  /** host: kept for the host (containers may run there); vm: dedicated; shared: free for VMs, used by containers. */
  holder: 'host' | 'vm' | 'shared';
  vms: string[];
  overcommitted: boolean;
}

export interface VmAllocation {
  id: string;
  name: string;
  cpus: string;
  memoryBytes: number;
  diskBytes: number;
  overcommitted: boolean;
}

export interface RunningContainerLimits {
  nanoCpus?: number;
  memoryBytes?: number;
}

export interface HostViewInput {
  topology: CpuTopology;
  memory: { totalBytes: number; availableBytes: number };
  virtualization: {
    extensions?: 'vmx' | 'svm';
    kvmDevice: boolean;
    kvmModules: string[];
    hostIsVm: boolean;
    vmEvidence: string[];
  };
  accelerator: { accel: 'kvm' | 'tcg'; kvmUsable: boolean; reason: string; probedAt: string };
  storage: { path: string; totalBytes: number; freeBytes: number };
  policy: LedgerPolicy;
  hostReserved: number[];
  reservations: Reservation[];
  /** Reservable disk (ledger capacity minus the reserve) and what is free of it. */
  diskForVms: { reservable: number };
  containers: RunningContainerLimits[];
}

export function hostView(input: HostViewInput): HostView {
  const { topology: t, reservations, policy } = input;
  const reserved = new Set(input.hostReserved);
  const holders = new Map<number, Reservation[]>();
  for (const r of reservations) for (const c of r.cpus) holders.set(c, [...(holders.get(c) ?? []), r]);
  const cpus: CpuAllocation[] = t.cpus.map((c) => {
    const held = holders.get(c.id) ?? [];
    return {
      ...c,
      holder: held.length > 0 ? 'vm' : reserved.has(c.id) ? 'host' : 'shared',
      vms: held.map((r) => r.ownerName),
      overcommitted: held.length > 1 || held.some((r) => r.overcommitted),
    };
  });
  const ids = (pred: (c: CpuAllocation) => boolean) => formatCpuList(cpus.filter(pred).map((c) => c.id));
  const memDedicated = reservations.reduce((n, r) => n + r.memoryBytes, 0);
  const diskDedicated = reservations.reduce((n, r) => n + r.diskBytes, 0);
  const memForVms = Math.floor(
    Math.max(0, input.memory.totalBytes - policy.hostReserve.memoryBytes) * policy.overcommit.memory,
  );
  const limited = input.containers;
  return {
    cpu: {
      vendor: t.vendor,
      model: t.model,
      sockets: t.sockets,
      physicalCores: t.physicalCores,
      threadsPerCore: t.threadsPerCore,
      logicalCpus: t.logicalCpus,
      offline: formatCpuList(t.offline),
      virtualizationExtensions: input.virtualization.extensions ?? null,
    },
    virtualization: {
      kvmDevice: input.virtualization.kvmDevice,
      kvmModules: input.virtualization.kvmModules,
      kvmUsable: input.accelerator.kvmUsable,
      hostIsVm: input.virtualization.hostIsVm,
      vmEvidence: input.virtualization.vmEvidence,
      accelerator: input.accelerator.accel,
      acceleratorReason: input.accelerator.reason,
      probedAt: input.accelerator.probedAt,
      summary: virtualizationSummary(input),
    },
    memory: {
      totalBytes: input.memory.totalBytes,
      availableBytes: input.memory.availableBytes,
      hostReserveBytes: policy.hostReserve.memoryBytes,
      dedicatedToVmsBytes: memDedicated,
      containerLimitsBytes: limited.reduce((n, c) => n + (c.memoryBytes ?? 0), 0),
      freeForVmsBytes: Math.max(0, memForVms - memDedicated),
      overcommitRatio: policy.overcommit.memory,
    },
    storage: {
      ...input.storage,
      hostReserveBytes: policy.hostReserve.diskBytes,
      dedicatedToVmsBytes: diskDedicated,
      freeForVmsBytes: Math.max(0, input.diskForVms.reservable - diskDedicated),
    },
    allocation: {
      cpus,
      hostReserved: ids((c) => c.holder === 'host'),
      dedicatedToVms: ids((c) => c.holder === 'vm'),
      shared: ids((c) => c.holder !== 'vm'),
      freeForVms: ids((c) => c.holder === 'shared'),
      overcommitRatio: policy.overcommit.cpu,
      vms: reservations.map((r) => ({
        id: r.ownerId,
        name: r.ownerName,
        cpus: formatCpuList(r.cpus),
        memoryBytes: r.memoryBytes,
        diskBytes: r.diskBytes,
        overcommitted: r.overcommitted,
      })),
      containers: {
        running: limited.length,
        cpuLimits: limited.reduce((n, c) => n + (c.nanoCpus ?? 0), 0) / 1e9,
        memoryLimitsBytes: limited.reduce((n, c) => n + (c.memoryBytes ?? 0), 0),
        unlimited: limited.filter((c) => !c.nanoCpus && !c.memoryBytes).length,
      },
    },
  };
}

/** One line each on extensions, /dev/kvm, nesting and the accelerator, saying what they mean for VMs. */
function virtualizationSummary(input: HostViewInput): string[] {
  const v = input.virtualization;
  const a = input.accelerator;
  const ext =
    v.extensions === 'vmx'
      ? 'Intel VT-x (vmx) present: the CPU can run hardware-accelerated guests'
      : v.extensions === 'svm'
        ? 'AMD-V (svm) present: the CPU can run hardware-accelerated guests'
        : 'no VT-x (vmx) or AMD-V (svm) in the CPU flags: no hardware-accelerated guests unless KVM is para-virtualized';
  const modules = v.kvmModules.length > 0 ? ` (modules: ${v.kvmModules.join(', ')})` : '';
  const kvm = !v.kvmDevice
    ? '/dev/kvm: absent'
    : a.kvmUsable
      ? `/dev/kvm: present and usable${modules}`
      : `/dev/kvm: present but not usable${modules}`;
  const pvm = v.kvmModules.includes('kvm_pvm') ? ', its KVM is para-virtualized (kvm_pvm)' : '';
  const nested = v.hostIsVm
    ? `this host is itself a VM (${v.vmEvidence.join(', ')})${pvm}: VMs here are nested`
    : 'this host is not a VM (no hypervisor flag, DMI or /sys/hypervisor sign)';
  const accel =
    a.accel === 'kvm'
      ? 'VMs get KVM: guest code runs natively on the CPU'
      : 'VMs get TCG: QEMU emulates the CPU in software, several times slower than native, but needs nothing from the host';
  return [ext, kvm, nested, accel, a.reason];
}
