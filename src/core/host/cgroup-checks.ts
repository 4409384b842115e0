import type { HostProbe, PrerequisiteResult } from './prerequisite-report.ts';

export type CgroupVersion = 'v1' | 'v2' | 'hybrid';

export interface CgroupFacts {
  version: CgroupVersion;
  /** Controllers that containers can use: the v1 hierarchies' (v1, hybrid) or the v2 root's (v2). */
  controllers: string[];
  /** Mount point of the cgroup2 hierarchy, when there is one (the root on v2, e.g. /sys/fs/cgroup/unified on hybrid). */
  unifiedMount?: string;
}

/** Controllers without which `run` cannot apply the limits docker users expect. */
export const REQUIRED_CONTROLLERS = ['cpu', 'memory', 'pids'] as const;
/** Controllers that individual features need: cpuset for --cpuset-cpus (and VM CPU pinning), freezer for pause. */
export const WANTED_CONTROLLERS = ['cpuset', 'freezer', 'devices', 'blkio', 'io'] as const;

/** Whether cgroups are mounted with the controllers containers need. */
export async function checkCgroups(probe: HostProbe): Promise<PrerequisiteResult> {
  const base = {
    name: 'cgroups',
    group: 'containers' as const,
    required: true,
    purpose: 'resource limits',
    hint: 'mount cgroup2 on /sys/fs/cgroup (mount -t cgroup2 none /sys/fs/cgroup)',
  };
  const mountinfo = await probe.readText('/proc/self/mountinfo');
  const mounts = mountinfo === undefined ? [] : parseCgroupMounts(mountinfo);
  const unified = mounts.find((m) => m.fsType === 'cgroup2');
  const v2Controllers =
    unified === undefined ? undefined : await probe.readText(`${unified.mountPoint}/cgroup.controllers`);
  const facts = cgroupFacts(mounts, v2Controllers);
  if (!facts) return { ...base, status: 'missing', detail: 'no cgroup file system is mounted' };
  const absent = REQUIRED_CONTROLLERS.filter((c) => !facts.controllers.includes(c));
  const controllers = facts.controllers.join(',') || 'none';
  if (absent.length > 0) {
    return {
      ...base,
      status: 'missing',
      version: facts.version,
      detail: `controllers ${controllers}; missing ${absent.join(',')}`,
      hint:
        facts.version === 'v2'
          ? `enable the controllers: echo '${absent.map((c) => `+${c}`).join(' ')}' > ${facts.unifiedMount}/cgroup.subtree_control`
          : `mount the cgroup v1 hierarchies ${absent.join(', ')} under /sys/fs/cgroup`,
    };
  }
  return { ...base, status: 'ok', version: facts.version, detail: `controllers ${controllers}` };
}

export interface CgroupMount {
  mountPoint: string;
  fsType: 'cgroup' | 'cgroup2';
  /** For v1 hierarchies: the controllers bound to it (from the super options), e.g. ["cpu","cpuacct"]. */
  controllers: string[];
}

/** The cgroup mounts in /proc/self/mountinfo (format: proc(5), fields after " - " are fstype, source, options). */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fields = line.slice(0, sep).split(' ');
    const [fsType, , superOptions = ''] = line.slice(sep + 3).split(' ');
    if (fsType !== 'cgroup' && fsType !== 'cgroup2') continue;
    const mountPoint = unescapeMountPath(fields[4] ?? '');
    // v1 super options name the controllers among generic options: "rw,cpu,cpuacct" or "rw,name=systemd".
    const generic = new Set([
      'rw',
      'ro',
      'relatime',
      'noatime',
      'nosuid',
      'nodev',
      'noexec',
      'xattr',
      'clone_children',
    ]);
    const controllers =
      fsType === 'cgroup'
        ? superOptions
            .split(',')
            .filter((o) => o !== '' && !o.includes('=') && !generic.has(o) && !o.startsWith('no'))
        : [];
    mounts.push({ mountPoint, fsType, controllers });
  }
  return mounts;
}

/** Classifies the host's cgroup setup; undefined when no cgroup file system is mounted. */
export function cgroupFacts(mounts: CgroupMount[], v2Controllers?: string): CgroupFacts | undefined {
  const v1 = mounts.filter((m) => m.fsType === 'cgroup');
  // Bind mounts repeat a hierarchy (e.g. inside containers); the first mount of cgroup2 is the one that counts.
  const unified = mounts.find((m) => m.fsType === 'cgroup2');
  const v1Controllers = [...new Set(v1.flatMap((m) => m.controllers))].sort();
  const v1Hierarchies = v1Controllers.length > 0;
  if (unified && !v1Hierarchies) {
    const controllers = (v2Controllers ?? '').trim().split(/\s+/).filter(Boolean).sort();
    return { version: 'v2', controllers, unifiedMount: unified.mountPoint };
  }
  if (unified) return { version: 'hybrid', controllers: v1Controllers, unifiedMount: unified.mountPoint };
  if (v1.length > 0) return { version: 'v1', controllers: v1Controllers };
  return undefined;
}

/** Mount points in mountinfo escape space, tab, newline and backslash as octal (\040). */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}
