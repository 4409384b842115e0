import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * What one benchmark run owns on the host, told apart from what other runs, tests and users on the same machine own:
 * the run's directories (its scratch directory and the short ones it made under /tmp), the mark it puts in the
 * environment of every process it starts, and the bridges and rule tags of the networks in its hyperbox roots.
 * Everything here is synchronous, so that the run's last-resort cleanup can use it while the process exits.
 */
export interface Ownership {
  readonly dirs: readonly string[];
  /** `NAME=VALUE`, inherited by every process the run starts (conmon, daemons, QEMU, registries...). */
  readonly marker: string;
  readonly bridges: readonly string[];
  /** The comments (`hbx-net:<id12>`) hyperbox puts on the rules of those networks. */
  readonly netTags: readonly string[];
  /** The run's containers: their processes sit in the cgroup hyperbox/<id> (runc gives them their own root). */
  readonly containerIds: ReadonlySet<string>;
}

export interface OwnedProcess {
  pid: number;
  what: string;
}

const below = (file: string, dirs: readonly string[]) =>
  dirs.some((d) => file === d || file.startsWith(`${d}/`));

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}

function link(file: string): string | undefined {
  try {
    return fs.readlinkSync(file);
  } catch {
    return undefined;
  }
}

const CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuset', 'freezer', 'blkio', 'devices', 'unified', ''];

function inContainerCgroup(pid: string, ids: ReadonlySet<string>): boolean {
  if (ids.size === 0) return false;
  for (const m of (read(`/proc/${pid}/cgroup`) ?? '').matchAll(/\/hyperbox\/([0-9a-f]{64})/g)) {
    if (ids.has(m[1]!)) return true;
  }
  return false;
}

/**
 * The run's live processes (this one aside): those whose environment carries the run's mark, whose command line
 * names one of its directories, whose root or working directory lies below one, or that sit in one of its
 * containers' cgroups (a container's processes get an environment and a root of their own).
 */
export function ownedProcesses(own: Ownership): OwnedProcess[] {
  const out: OwnedProcess[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const stat = read(`/proc/${entry}/stat`);
    if (!stat || /^\d+ \(.*\) [ZX]/s.test(stat)) continue; // gone, or a zombie: nothing runs any more
    const cmdline = read(`/proc/${entry}/cmdline`) ?? '';
    const environ = read(`/proc/${entry}/environ`) ?? '';
    const mine =
      environ.split('\0').includes(own.marker) ||
      own.dirs.some((d) => cmdline.includes(d)) ||
      [link(`/proc/${entry}/root`), link(`/proc/${entry}/cwd`)].some(
        (p) => p !== undefined && below(p, own.dirs),
      ) ||
      inContainerCgroup(entry, own.containerIds);
    if (mine) out.push({ pid: Number(entry), what: cmdline.replaceAll('\0', ' ').trim().slice(0, 160) });
  }
  return out;
}

/** Mount points below the run's directories, deepest first (so that each can be unmounted in this order). */
export function ownedMounts(own: Ownership): string[] {
  return (read('/proc/self/mountinfo') ?? '')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined && below(p, own.dirs))
    .sort((a, b) => b.length - a.length);
}

/** The run's bridges and the links enslaved to them (veths, taps), and iptables rules naming its networks. */
export function ownedNetworkObjects(own: Ownership): string[] {
  if (own.bridges.length === 0 && own.netTags.length === 0) return [];
  const out: string[] = [];
  const links = spawnSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' });
  if (links.status === 0) {
    for (const l of JSON.parse(links.stdout) as { ifname: string; master?: string }[]) {
      if (own.bridges.includes(l.ifname) || (l.master && own.bridges.includes(l.master))) {
        out.push(`link ${l.ifname}${l.master ? ` (in ${l.master})` : ''}`);
      }
    }
  }
  const rules = spawnSync('iptables-save', [], { encoding: 'utf8' });
  for (const line of rules.status === 0 ? rules.stdout.split('\n') : []) {
    const words = line.split(/\s+/);
    if (own.netTags.some((t) => line.includes(t)) || own.bridges.some((b) => words.includes(b))) {
      out.push(`iptables rule ${line}`);
    }
  }
  return out;
}

/** The cgroup directories of the run's containers that still exist, in every hierarchy. */
export function ownedCgroups(own: Ownership): string[] {
  const out: string[] = [];
  for (const controller of CONTROLLERS) {
    for (const id of own.containerIds) {
      const dir = `/sys/fs/cgroup/${controller ? `${controller}/` : ''}hyperbox/${id}`;
      if (fs.existsSync(dir)) out.push(dir);
    }
  }
  return out;
}

/** Everything of the run still on the host, one line each: what the run's end must find empty. */
export function leftovers(own: Ownership): string[] {
  return [
    ...ownedProcesses(own).map((p) => `process ${p.pid}: ${p.what}`),
    ...ownedMounts(own).map((m) => `mount ${m}`),
    ...ownedCgroups(own).map((c) => `cgroup ${c}`),
    ...ownedNetworkObjects(own),
    ...own.dirs.filter((d) => fs.existsSync(d)).map((d) => `directory ${d}`),
  ];
}
