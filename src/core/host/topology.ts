import { parseCpuList } from '../ledger/cpu-list.ts';
import type { HostCpu } from '../ledger/types.ts';

/**
 * The CPU topology of a Linux host, from the text of /sys/devices/system/cpu and /proc/cpuinfo (the driver,
 * drivers/host/host-inventory.ts, reads the files below a root directory, so recorded fixture trees parse the same
 * way). Vocabulary, as lscpu's: a *socket* (physical package) holds *cores*; a core runs one or more hardware
 * *threads* (Hyper-Threading, SMT); each thread is a *logical CPU* with its own number. Offline CPUs have no
 * topology and are not counted as logical CPUs, but are listed.
 */
export interface CpuTopology {
  vendor: string;
  model: string;
  sockets: number;
  /** Physical cores over all sockets (with at least one online thread). */
  physicalCores: number;
  /** The most threads seen on one core. */
  threadsPerCore: number;
  /** Online logical CPUs. */
  logicalCpus: number;
  cpus: HostCpu[];
  /** Present (or possible) CPUs that are not online. */
  offline: number[];
  /** CPU feature flags of interest from /proc/cpuinfo. */
  flags: { vmx: boolean; svm: boolean; hypervisor: boolean };
  /** Host CPU frequency in kHz ("cpu MHz" of the first processor), when known; a TCG microvm guest needs it. */
  khz?: number;
}

/** The per-CPU files of /sys/devices/system/cpu/cpuN/topology that matter, as text (undefined when absent). */
export interface CpuTopologyFiles {
  physicalPackageId?: string;
  coreId?: string;
  threadSiblingsList?: string;
}

export interface TopologyFiles {
  cpuinfo: string;
  /** /sys/devices/system/cpu/online */
  online?: string;
  /** /sys/devices/system/cpu/present */
  present?: string;
  perCpu: Map<number, CpuTopologyFiles>;
}

interface CpuinfoEntry {
  processor: number;
  fields: Map<string, string>;
}

/** /proc/cpuinfo as one entry per processor block. */
export function parseCpuinfo(text: string): CpuinfoEntry[] {
  const entries: CpuinfoEntry[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const at = line.indexOf(':');
      if (at < 0) continue;
      fields.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
    }
    const p = fields.get('processor');
    if (p !== undefined && /^\d+$/.test(p)) entries.push({ processor: Number(p), fields });
  }
  return entries;
}

export function parseTopology(files: TopologyFiles): CpuTopology {
  const info = parseCpuinfo(files.cpuinfo);
  const byCpu = new Map(info.map((e) => [e.processor, e.fields]));
  const online =
    files.online !== undefined && files.online.trim() !== ''
      ? parseCpuList(files.online, '/sys/devices/system/cpu/online')
      : info.map((e) => e.processor).sort((a, b) => a - b);
  const present =
    files.present !== undefined && files.present.trim() !== ''
      ? parseCpuList(files.present, '/sys/devices/system/cpu/present')
      : online;
  const onlineSet = new Set(online);

  const cpus: HostCpu[] = online.map((id) => {
    const sys = files.perCpu.get(id) ?? {};
    const fields = byCpu.get(id);
    // sysfs first; /proc/cpuinfo's "physical id"/"core id" when sysfs lacks topology (some sandboxes); else flat.
    const socket = intOf(sys.physicalPackageId) ?? intOf(fields?.get('physical id')) ?? 0;
    const core = intOf(sys.coreId) ?? intOf(fields?.get('core id')) ?? id;
    return { id, socket, core, thread: 0 };
  });
  // A thread's index is its place among the online CPUs of the same core, in CPU-number order.
  const byCore = new Map<string, HostCpu[]>();
  for (const c of cpus) {
    const key = `${c.socket}/${c.core}`;
    byCore.set(key, [...(byCore.get(key) ?? []), c]);
  }
  for (const group of byCore.values()) {
    group.sort((a, b) => a.id - b.id);
    for (const [i, c] of group.entries()) c.thread = i;
  }
  // Sibling lists tell how many threads a core has even when some of them are offline.
  let threadsPerCore = Math.max(1, ...[...byCore.values()].map((g) => g.length));
  for (const id of online) {
    const list = files.perCpu.get(id)?.threadSiblingsList;
    if (list)
      threadsPerCore = Math.max(threadsPerCore, parseCpuList(list, `cpu${id} thread_siblings_list`).length);
  }

  const first = info[0]?.fields;
  const flags = new Set((first?.get('flags') ?? '').split(/\s+/));
  const mhz = Number(first?.get('cpu MHz'));
  return {
    vendor: vendorName(first?.get('vendor_id')),
    model: first?.get('model name') ?? 'unknown',
    sockets: new Set(cpus.map((c) => c.socket)).size,
    physicalCores: byCore.size,
    threadsPerCore,
    logicalCpus: cpus.length,
    cpus,
    offline: present.filter((id) => !onlineSet.has(id)),
    flags: { vmx: flags.has('vmx'), svm: flags.has('svm'), hypervisor: flags.has('hypervisor') },
    ...(Number.isFinite(mhz) && mhz > 0 ? { khz: Math.round(mhz * 1000) } : {}),
  };
}

function intOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  // physical_package_id is -1 on some platforms without the information.
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

function vendorName(id: string | undefined): string {
  if (id === 'GenuineIntel') return 'Intel';
  if (id === 'AuthenticAMD') return 'AMD';
  return id ?? 'unknown';
}

/** /proc/meminfo's MemTotal and MemAvailable in bytes. */
export function parseMeminfo(text: string): { totalBytes: number; availableBytes: number } {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal') ?? 0;
  return { totalBytes: total, availableBytes: kb('MemAvailable') ?? kb('MemFree') ?? 0 };
}
