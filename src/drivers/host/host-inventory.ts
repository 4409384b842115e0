import fs from 'node:fs';
import path from 'node:path';
import {
  type CpuTopology,
  type CpuTopologyFiles,
  parseMeminfo,
  parseTopology,
} from '../../core/host/topology.ts';
import type { HostCapacity } from '../../core/ledger/types.ts';

/**
 * The host's hardware as hyperbox divides it: CPU topology, memory, whether it can run accelerated VMs and whether
 * it is itself a VM. Everything is read below `root` ("/" on the real host; a recorded fixture tree in tests), so
 * the parsing in core/host/topology.ts is tested on machines we do not have.
 */
export interface HostFacts {
  topology: CpuTopology;
  memory: { totalBytes: number; availableBytes: number };
  virtualization: VirtualizationFacts;
}

export interface VirtualizationFacts {
  /** Intel VT-x (vmx) or AMD-V (svm) in the CPU flags; undefined when neither is exposed. */
  extensions?: 'vmx' | 'svm';
  kvmDevice: boolean;
  /** Loaded KVM modules (kvm_intel, kvm_amd, kvm_pvm for para-virtualized KVM, ...). */
  kvmModules: string[];
  /** True when something says this host is itself a virtual machine. */
  hostIsVm: boolean;
  /** What says so: "cpuinfo hypervisor flag", "DMI vendor QEMU", "/sys/hypervisor/type xen". */
  vmEvidence: string[];
}

export function readHostFacts(root = '/'): HostFacts {
  const at = (p: string) => path.join(root, p);
  const cpuDir = at('sys/devices/system/cpu');
  const perCpu = new Map<number, CpuTopologyFiles>();
  for (const name of listDir(cpuDir)) {
    const m = /^cpu(\d+)$/.exec(name);
    if (!m) continue;
    const topo = path.join(cpuDir, name, 'topology');
    const files: CpuTopologyFiles = {};
    const pkg = readText(path.join(topo, 'physical_package_id'));
    const core = readText(path.join(topo, 'core_id'));
    const siblings =
      readText(path.join(topo, 'thread_siblings_list')) ?? readText(path.join(topo, 'core_cpus_list'));
    if (pkg !== undefined) files.physicalPackageId = pkg;
    if (core !== undefined) files.coreId = core;
    if (siblings !== undefined) files.threadSiblingsList = siblings;
    perCpu.set(Number(m[1]), files);
  }
  const online = readText(path.join(cpuDir, 'online'));
  const present = readText(path.join(cpuDir, 'present'));
  const topology = parseTopology({
    cpuinfo: readText(at('proc/cpuinfo')) ?? '',
    ...(online !== undefined ? { online } : {}),
    ...(present !== undefined ? { present } : {}),
    perCpu,
  });
  return {
    topology,
    memory: parseMeminfo(readText(at('proc/meminfo')) ?? ''),
    virtualization: readVirtualization(root, topology),
  };
}

function readVirtualization(root: string, topology: CpuTopology): VirtualizationFacts {
  const at = (p: string) => path.join(root, p);
  const evidence: string[] = [];
  if (topology.flags.hypervisor) evidence.push('cpuinfo hypervisor flag');
  const dmiVendor = readText(at('sys/class/dmi/id/sys_vendor'))?.trim();
  const dmiProduct = readText(at('sys/class/dmi/id/product_name'))?.trim();
  const vmVendor =
    /QEMU|KVM|VMware|VirtualBox|innotek|Xen|Microsoft Corporation|Amazon EC2|Google|Parallels|Bochs|OpenStack|DigitalOcean|Hetzner/i;
  const dmi = [dmiVendor, dmiProduct].find((v) => v !== undefined && vmVendor.test(v));
  // Microsoft's vendor string is also a Surface laptop's: only a "Virtual Machine" product makes it a VM.
  if (dmi && !(dmiVendor === 'Microsoft Corporation' && !/Virtual/i.test(dmiProduct ?? ''))) {
    evidence.push(`DMI ${dmi === dmiVendor ? 'vendor' : 'product'} ${dmi}`);
  }
  const hvType = readText(at('sys/hypervisor/type'))?.trim();
  if (hvType) evidence.push(`/sys/hypervisor/type ${hvType}`);
  const extensions = topology.flags.vmx ? 'vmx' : topology.flags.svm ? 'svm' : undefined;
  return {
    ...(extensions ? { extensions } : {}),
    kvmDevice: fs.existsSync(at('dev/kvm')),
    kvmModules: listDir(at('sys/module'))
      .filter((m) => m === 'kvm' || m.startsWith('kvm_'))
      .sort(),
    hostIsVm: evidence.length > 0,
    vmEvidence: evidence,
  };
}

/** Size and free space of the file system holding `dir` (its nearest existing ancestor when it does not exist yet). */
export function readStorage(dir: string): { path: string; totalBytes: number; freeBytes: number } {
  let probe = path.resolve(dir);
  while (!fs.existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
  const st = fs.statfsSync(probe);
  return { path: probe, totalBytes: st.blocks * st.bsize, freeBytes: st.bavail * st.bsize };
}

/** What the ledger divides: online CPUs, total memory, and the size of the file system under the state root. */
export function hostCapacityOf(facts: HostFacts, storage: { totalBytes: number }): HostCapacity {
  return {
    cpus: facts.topology.cpus,
    memoryBytes: facts.memory.totalBytes,
    diskBytes: storage.totalBytes,
  };
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
