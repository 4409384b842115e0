/**
 * What hyperbox needs from the host, and the verdict on a given host. Pure: every fact comes through a
 * `HostProbe` (drivers/host/host-probe.ts reads the real machine; tests pass a fake), so the rules — what is
 * required, how a version is read, which package to install — are tested without root.
 *
 * Vocabulary: a *prerequisite* is one thing looked for (a command, a kernel feature, a device); it belongs to a
 * *group* (containers, networking, images, vms); it is *required* when containers cannot run without it, otherwise
 * optional (VMs are optional on a host: a host without QEMU still runs containers). The *verdict* is ok when every
 * required prerequisite is present.
 */

/** The facts a check can ask about the host. Every method answers "not there" instead of throwing. */
export interface HostProbe {
  /** The absolute path of an executable found on the search path (sbin directories included), if any. */
  which(command: string): Promise<string | undefined>;
  /** Combined stdout and stderr of a short command (a version query), or undefined when it failed to run. */
  output(file: string, args: string[]): Promise<string | undefined>;
  /** A text file's content, or undefined when it cannot be read. */
  readText(path: string): Promise<string | undefined>;
  /** The first bytes of a file (at most `length`), or undefined when it cannot be read. */
  readHead(path: string, length: number): Promise<Uint8Array | undefined>;
  exists(path: string): Promise<boolean>;
  /** `uname -r`: names the module directory under /lib/modules. */
  kernelRelease(): string;
}

export type PrerequisiteGroup = 'containers' | 'networking' | 'images' | 'vms';

export interface PrerequisiteResult {
  name: string;
  group: PrerequisiteGroup;
  required: boolean;
  status: 'ok' | 'missing';
  /** Where it was found: an executable's path, a device node. */
  path?: string;
  version?: string;
  /** What was seen beyond a version (cgroup controllers, how overlayfs is available), or why it is missing. */
  detail?: string;
  /** The one command (or step) that makes a missing prerequisite present. */
  hint: string;
  /** The Debian package that provides it, when a package does. */
  package?: string;
  /** What it is needed for, in a few words. */
  purpose: string;
}

export interface PrerequisiteReport {
  /** True when every required prerequisite is present. */
  ok: boolean;
  checks: PrerequisiteResult[];
  /** Names of the required prerequisites that are missing. */
  missingRequired: string[];
}

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

const apt = (pkg: string) => `apt-get install -y ${pkg}`;

interface CommandSpec {
  name: string;
  group: PrerequisiteGroup;
  required: boolean;
  purpose: string;
  /** Executables to look for, in order of preference. */
  commands: string[];
  versionArgs: string[];
  /** Pulls the version out of the version command's output. */
  version: RegExp;
  pkg: string;
}

/** The commands hyperbox runs, in the order they are reported. */
export const COMMAND_PREREQUISITES: readonly CommandSpec[] = [
  {
    name: 'runc',
    group: 'containers',
    required: true,
    purpose: 'OCI runtime',
    commands: ['runc'],
    versionArgs: ['--version'],
    version: /runc version (\S+)/,
    pkg: 'runc',
  },
  {
    name: 'conmon',
    group: 'containers',
    required: true,
    purpose: 'container monitor',
    commands: ['conmon'],
    versionArgs: ['--version'],
    version: /conmon version (\S+)/,
    pkg: 'conmon',
  },
  {
    // The static build is what --init mounts into a container (it runs whatever libc the image has, or none):
    // a dynamically linked tini alone does not do.
    name: 'tini',
    group: 'containers',
    required: false,
    purpose: 'init process for --init',
    commands: ['tini-static'],
    versionArgs: ['--version'],
    version: /tini version (\S+)/,
    pkg: 'tini',
  },
  {
    name: 'ip',
    group: 'networking',
    required: true,
    purpose: 'links and addresses (iproute2)',
    commands: ['ip'],
    versionArgs: ['-V'],
    version: /iproute2-(\S+?),?\s/,
    pkg: 'iproute2',
  },
  {
    name: 'iptables',
    group: 'networking',
    required: true,
    purpose: 'NAT and published ports',
    commands: ['iptables'],
    versionArgs: ['--version'],
    version: /iptables v(\S+(?: \([^)]*\))?)/,
    pkg: 'iptables',
  },
  {
    name: 'nft',
    group: 'networking',
    required: false,
    purpose: 'nftables rules',
    commands: ['nft'],
    versionArgs: ['--version'],
    version: /nftables v(\S+)/,
    pkg: 'nftables',
  },
  {
    name: 'skopeo',
    group: 'images',
    required: false,
    purpose: 'copying images between registries and archives',
    commands: ['skopeo'],
    versionArgs: ['--version'],
    version: /skopeo version (\S+)/,
    pkg: 'skopeo',
  },
  {
    name: 'qemu-system-x86_64',
    group: 'vms',
    required: false,
    purpose: 'virtual machines',
    commands: ['qemu-system-x86_64'],
    versionArgs: ['--version'],
    version: /QEMU emulator version (\S+)/,
    pkg: 'qemu-system-x86',
  },
  {
    name: 'qemu-img',
    group: 'vms',
    required: false,
    purpose: 'VM disk images',
    commands: ['qemu-img'],
    versionArgs: ['--version'],
    version: /qemu-img version (\S+)/,
    pkg: 'qemu-utils',
  },
];

/** Where scripts/make-busybox-rootfs.sh takes busybox from. */
export const BUSYBOX_PATH = '/bin/busybox';

/** Looks at every prerequisite through `probe`; never throws for a missing one. */
export async function checkPrerequisites(
  probe: HostProbe,
  opts: { logWriter?: string } = {},
): Promise<PrerequisiteReport> {
  const commands = await Promise.all(COMMAND_PREREQUISITES.map((spec) => checkCommand(probe, spec)));
  const byName = new Map(commands.map((r) => [r.name, r]));
  const checks: PrerequisiteResult[] = [
    byName.get('runc')!,
    byName.get('conmon')!,
    ...(opts.logWriter ? [await checkLogWriter(probe, opts.logWriter)] : []),
    byName.get('tini')!,
    await checkOverlay(probe),
    await checkCgroups(probe),
    byName.get('ip')!,
    byName.get('iptables')!,
    byName.get('nft')!,
    await checkBusybox(probe),
    byName.get('skopeo')!,
    byName.get('qemu-system-x86_64')!,
    byName.get('qemu-img')!,
    await checkKvm(probe),
  ];
  return verdict(checks);
}

/** The report for a list of results: ok when no required one is missing. */
export function verdict(checks: PrerequisiteResult[]): PrerequisiteReport {
  const missingRequired = checks.filter((c) => c.required && c.status === 'missing').map((c) => c.name);
  return { ok: missingRequired.length === 0, checks, missingRequired };
}

/**
 * One apt-get command installing the packages of the missing prerequisites (of `which`: the required ones, or all),
 * or undefined when none of them is a package away.
 */
export function installCommand(report: PrerequisiteReport, which: 'required' | 'all'): string | undefined {
  const packages = report.checks
    .filter((c) => c.status === 'missing' && c.package !== undefined && (which === 'all' || c.required))
    .map((c) => c.package!);
  return packages.length === 0 ? undefined : apt([...new Set(packages)].join(' '));
}

async function checkCommand(probe: HostProbe, spec: CommandSpec): Promise<PrerequisiteResult> {
  const base = {
    name: spec.name,
    group: spec.group,
    required: spec.required,
    purpose: spec.purpose,
    hint: apt(spec.pkg),
    package: spec.pkg,
  };
  for (const command of spec.commands) {
    const found = await probe.which(command);
    if (!found) continue;
    const out = await probe.output(found, spec.versionArgs);
    const version = out === undefined ? undefined : parseVersion(out, spec.version);
    if (out === undefined) {
      return { ...base, status: 'missing', path: found, detail: `${found} does not run` };
    }
    return { ...base, status: 'ok', path: found, ...(version ? { version } : {}) };
  }
  return { ...base, status: 'missing', detail: `${spec.commands.join(' or ')}: not found` };
}

/** The first match's first group, or the output's first non-empty line when the pattern does not match. */
export function parseVersion(output: string, pattern: RegExp): string | undefined {
  const m = pattern.exec(output);
  if (m?.[1]) return m[1];
  const line = output.split('\n').find((l) => l.trim() !== '');
  return line?.trim().slice(0, 60);
}

async function checkOverlay(probe: HostProbe): Promise<PrerequisiteResult> {
  const base = {
    name: 'overlayfs',
    group: 'containers' as const,
    required: true,
    purpose: 'container root file systems',
    hint: 'modprobe overlay',
  };
  const filesystems = (await probe.readText('/proc/filesystems')) ?? '';
  if (filesystemListed(filesystems, 'overlay'))
    return { ...base, status: 'ok', detail: 'in /proc/filesystems' };
  const modules = `/lib/modules/${probe.kernelRelease()}`;
  const builtin = (await probe.readText(`${modules}/modules.builtin`)) ?? '';
  if (/\/overlay\.ko\b/.test(builtin)) return { ...base, status: 'ok', detail: 'built into the kernel' };
  const dep = (await probe.readText(`${modules}/modules.dep`)) ?? '';
  if (/(^|\/)overlay\.ko(\.\w+)?:/m.test(dep)) {
    return { ...base, status: 'ok', detail: 'loadable module (loaded on first mount)' };
  }
  return {
    ...base,
    status: 'missing',
    detail: 'not in /proc/filesystems and no overlay module',
    hint: 'modprobe overlay (or use a kernel with CONFIG_OVERLAY_FS)',
  };
}

/** Whether /proc/filesystems lists `name` ("nodev\toverlay" or "\text4"). */
export function filesystemListed(procFilesystems: string, name: string): boolean {
  return procFilesystems.split('\n').some((line) => line.trim().split(/\s+/).at(-1) === name);
}

async function checkCgroups(probe: HostProbe): Promise<PrerequisiteResult> {
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

/**
 * hyperbox's own log writer (native/log-writer), built from source by scripts/build.sh: the default log drivers
 * (json-file, local) need it to start a container.
 */
async function checkLogWriter(probe: HostProbe, file: string): Promise<PrerequisiteResult> {
  const base = {
    name: 'hbx-logwriter',
    group: 'containers' as const,
    required: true,
    purpose: 'log writer for the json-file and local log drivers',
    hint: 'bash scripts/build.sh (needs: apt-get install -y gcc libc6-dev zlib1g-dev)',
  };
  if (!(await probe.exists(file))) return { ...base, status: 'missing', detail: `${file}: not built` };
  const out = await probe.output(file, ['--version']);
  if (out === undefined) return { ...base, status: 'missing', path: file, detail: `${file} does not run` };
  const version = parseVersion(out, /hbx-logwriter version (\S+)/);
  return { ...base, status: 'ok', path: file, ...(version ? { version } : {}) };
}

async function checkBusybox(probe: HostProbe): Promise<PrerequisiteResult> {
  const base = {
    name: 'busybox-static',
    group: 'images' as const,
    required: false,
    purpose: 'the offline busybox image (demo, tests)',
    hint: apt('busybox-static'),
    package: 'busybox-static',
  };
  const head = await probe.readHead(BUSYBOX_PATH, 64 * 1024);
  if (!head) return { ...base, status: 'missing', detail: `${BUSYBOX_PATH}: not found` };
  const linkage = elfLinkage(head);
  if (linkage !== 'static') {
    return {
      ...base,
      status: 'missing',
      path: BUSYBOX_PATH,
      detail:
        linkage === 'dynamic'
          ? `${BUSYBOX_PATH} is dynamically linked`
          : `${BUSYBOX_PATH} is not an ELF file`,
    };
  }
  const out = await probe.output(BUSYBOX_PATH, ['--help']);
  const version = out === undefined ? undefined : parseVersion(out, /BusyBox v(\S+)/);
  return { ...base, status: 'ok', path: BUSYBOX_PATH, ...(version ? { version } : {}) };
}

/**
 * Whether an ELF executable asks for a program interpreter (PT_INTERP: dynamically linked) or not (static), from
 * its first bytes; 'unknown' when they are not a 64- or 32-bit ELF header with its program headers.
 */
export function elfLinkage(head: Uint8Array): 'static' | 'dynamic' | 'unknown' {
  if (head.length < 52 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) {
    return 'unknown';
  }
  const is64 = head[4] === 2;
  const little = head[5] === 1;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const u16 = (o: number) => view.getUint16(o, little);
  const u32 = (o: number) => view.getUint32(o, little);
  if (is64 && head.length < 64) return 'unknown';
  const phoff = is64 ? Number(view.getBigUint64(32, little)) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  if (phentsize === 0 || phoff + phentsize * phnum > head.length) return 'unknown';
  const PT_INTERP = 3;
  for (let i = 0; i < phnum; i++) {
    if (u32(phoff + i * phentsize) === PT_INTERP) return 'dynamic';
  }
  return 'static';
}

async function checkKvm(probe: HostProbe): Promise<PrerequisiteResult> {
  const base = {
    name: 'kvm',
    group: 'vms' as const,
    required: false,
    purpose: 'hardware-accelerated VMs',
    hint: 'enable virtualization in the firmware, then modprobe kvm_intel (or kvm_amd)',
  };
  if (await probe.exists('/dev/kvm')) {
    // Present is all a check can say: whether a guest boots is decided by a probe boot.
    return {
      ...base,
      status: 'ok',
      path: '/dev/kvm',
      detail: 'present (usability is decided by a probe boot)',
    };
  }
  return { ...base, status: 'missing', detail: '/dev/kvm: not found (VMs would run without acceleration)' };
}
