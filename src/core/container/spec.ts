import { FailedPreconditionError, InvalidArgumentError } from '../errors.ts';
import { limitToHost, resolveCapabilities } from './capabilities.ts';
import type { ContainerConfig, Resources, Ulimit } from './config.ts';
import {
  DEFAULT_DEVICE_RULES,
  defaultMounts,
  MASKED_PATHS,
  PRIVILEGED_DEVICE_RULES,
  READONLY_PATHS,
} from './mounts-default.ts';
import type { OciDevice, OciMount, OciResources, OciRlimit, OciSpec } from './oci-types.ts';
import { defaultSeccompProfile } from './seccomp.ts';
import type { ResolvedUser } from './user.ts';
import { checkUlimit } from './validate.ts';

/** The parts of an OCI image config (`config` in the image's config blob) that shape the process. */
export interface ImageProcessConfig {
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  User?: string;
  StopSignal?: string;
}

/** Everything buildSpec needs; every host path and every host fact is decided by the caller. */
export interface SpecInput {
  id: string; // the 64-hex container id; its first 12 characters are the default hostname
  config: ContainerConfig;
  image: ImageProcessConfig;
  user: ResolvedUser; // from user.ts, looked up in the image's /etc/passwd and /etc/group
  rootfs: string; // absolute path of the mounted root file system
  /** The user's mounts with sources resolved (bind sources checked, volume dirs created): OCI form. */
  mounts: OciMount[];
  /** Host files bind-mounted over the image's /etc/hosts, /etc/hostname and /etc/resolv.conf. */
  etcFiles: { hosts?: string; hostname?: string; resolvConf?: string };
  /** Cgroup path relative to each hierarchy's root (cgroupfs driver), e.g. "hyperbox/<id>". */
  cgroupsPath: string;
  /** The hard limit of each rlimit (by ulimit name, e.g. nofile) that the runtime can grant; absent = unlimited. */
  rlimitCaps: Partial<Record<string, number>>;
  arch: string; // Node's process.arch: picks the seccomp architectures
  /** The host's kernel release (uname -r): seccomp rules that are safe only from some kernel on depend on it. */
  kernelRelease: string;
  /**
   * `--security-opt` values: `seccomp=unconfined`, `no-new-privileges[=true|false]`. Adds to config.seccomp and
   * config.noNewPrivileges (either one disabling seccomp / enabling no-new-privileges is enough).
   */
  securityOpt?: string[];
  /** Host path of a static init (tini-static), bind-mounted for --init. */
  initPath?: string;
  /** Device nodes to create for --privileged (the host's /dev, listed by the caller). */
  hostDevices?: OciDevice[];
  /** False when the host's memory cgroup cannot limit swap (no memsw / memory.swap.max): swap is left unset. */
  swapLimitSupported?: boolean;
  consoleSize?: { rows: number; cols: number };
  /** The capabilities the runtime itself holds (its bounding set): a container can get no others. */
  hostCapabilities?: readonly string[];
  /** A network namespace prepared by the network layer, joined instead of a new one. */
  netnsPath?: string;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Where --init's binary appears inside the container. */
export const INIT_PATH_IN_CONTAINER = '/sbin/hyperbox-init';
/** Docker's default for nofile and nproc; clamped to what the host lets us grant. */
const DEFAULT_RLIMIT = 1048576;
const CPU_PERIOD_US = 100000;
const MIN_MEMORY = 6 * 1024 * 1024;

/**
 * The OCI runtime spec (config.json) for a container: the image's defaults merged with the user's request by
 * docker's rules. Pure: throws InvalidArgumentError for requests that cannot be honoured (unknown capability,
 * ulimit above the host's cap, relative working dir, no command).
 */
export function buildSpec(input: SpecInput): OciSpec {
  const { config } = input;
  const security = parseSecurityOpt(input.securityOpt ?? []);
  const resolved = resolveCapabilities(config);
  const capabilities = input.hostCapabilities
    ? limitToHost(resolved, input.hostCapabilities, config.capAdd)
    : resolved;
  const hostname = config.networkMode === 'host' && !config.hostname ? undefined : hostnameOf(input);
  const args = processArgs(config, input.image);
  const mounts = mergeMounts(defaultMounts({ privileged: config.privileged }), [
    ...etcMounts(input.etcFiles, config.readOnly),
    ...(config.init ? [initMount(input.initPath)] : []),
    ...input.mounts,
  ]);

  const spec: OciSpec = {
    ociVersion: '1.0.2',
    process: {
      terminal: config.tty,
      ...(config.tty && input.consoleSize
        ? { consoleSize: { height: input.consoleSize.rows, width: input.consoleSize.cols } }
        : {}),
      user: {
        uid: input.user.uid,
        gid: input.user.gid,
        ...(input.user.additionalGids.length > 0 ? { additionalGids: input.user.additionalGids } : {}),
      },
      args: config.init ? [INIT_PATH_IN_CONTAINER, '--', ...args] : args,
      env: mergeEnv({
        image: input.image.Env ?? [],
        user: config.env,
        hostname,
        tty: config.tty,
        home: input.user.home,
      }),
      cwd: workingDir(config, input.image),
      capabilities: { bounding: capabilities, effective: capabilities, permitted: capabilities },
      rlimits: rlimits(config.ulimits, input.rlimitCaps),
      noNewPrivileges: config.noNewPrivileges || security.noNewPrivileges,
    },
    root: { path: input.rootfs, readonly: config.readOnly },
    ...(hostname !== undefined ? { hostname } : {}),
    mounts,
    linux: {
      namespaces: namespaces(config.networkMode, input.netnsPath),
      cgroupsPath: input.cgroupsPath,
      resources: {
        devices: [...(config.privileged ? PRIVILEGED_DEVICE_RULES : DEFAULT_DEVICE_RULES)],
        ...resources(config.resources, input.swapLimitSupported ?? true),
      },
      ...(config.privileged && input.hostDevices ? { devices: input.hostDevices } : {}),
      ...(config.privileged || config.seccomp === 'unconfined' || !security.seccomp
        ? {}
        : {
            seccomp: defaultSeccompProfile({
              capabilities,
              arch: input.arch,
              kernelRelease: input.kernelRelease,
            }),
          }),
      ...(config.privileged ? {} : { maskedPaths: [...MASKED_PATHS], readonlyPaths: [...READONLY_PATHS] }),
      // A private network namespace: let unprivileged processes use ICMP sockets (ping) as docker does.
      ...(config.networkMode !== 'host' ? { sysctl: { 'net.ipv4.ping_group_range': '0 2147483647' } } : {}),
    },
  };
  return spec;
}

function hostnameOf(input: SpecInput): string {
  return input.config.hostname || input.id.slice(0, 12);
}

/**
 * Docker's rule: the user's --entrypoint replaces the image's and also discards the image's Cmd; the user's
 * command replaces the image's Cmd only.
 */
export function processArgs(config: ContainerConfig, image: ImageProcessConfig): string[] {
  const entrypoint = config.entrypoint ?? image.Entrypoint ?? [];
  const cmd = config.cmd ?? (config.entrypoint !== undefined ? [] : (image.Cmd ?? []));
  const args = [...entrypoint, ...cmd];
  if (args.length === 0)
    throw new InvalidArgumentError('no command specified: the image has no Entrypoint or Cmd');
  return args;
}

function workingDir(config: ContainerConfig, image: ImageProcessConfig): string {
  const dir = config.workingDir || image.WorkingDir || '/';
  if (!dir.startsWith('/')) {
    throw new InvalidArgumentError(
      `the working directory "${dir}" is invalid: it needs to be an absolute path`,
    );
  }
  return dir;
}

/**
 * The process environment, later entries winning by key: PATH and HOSTNAME defaults, TERM for a tty, the image's
 * env, the user's env; HOME from the passwd entry unless set.
 */
export function mergeEnv(opts: {
  image: string[];
  user: string[];
  hostname: string | undefined;
  tty: boolean;
  home: string;
}): string[] {
  const env = new Map<string, string>();
  const put = (entry: string) => {
    const eq = entry.indexOf('=');
    if (eq <= 0) return; // "FOO" alone means "from the client's environment": the CLI has resolved it already
    env.set(entry.slice(0, eq), entry);
  };
  put(`PATH=${DEFAULT_PATH}`);
  if (opts.hostname !== undefined) put(`HOSTNAME=${opts.hostname}`);
  if (opts.tty) put('TERM=xterm');
  opts.image.forEach(put);
  opts.user.forEach(put);
  if (!env.has('HOME')) put(`HOME=${opts.home}`);
  return [...env.values()];
}

function namespaces(
  networkMode: ContainerConfig['networkMode'],
  netnsPath?: string,
): { type: string; path?: string }[] {
  const list: { type: string; path?: string }[] = [
    { type: 'pid' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
    { type: 'cgroup' },
  ];
  // 'none' and 'loopback' both get a new network namespace; runc brings its `lo` up when it creates the
  // namespace itself (no path given), so nothing else has to run. 'host' shares the host's.
  // A namespace the network layer prepared (veth, address, routes) is joined by path.
  if (netnsPath) list.push({ type: 'network', path: netnsPath });
  else if (networkMode !== 'host') list.push({ type: 'network' });
  return list;
}

function etcMounts(files: SpecInput['etcFiles'], readOnly: boolean): OciMount[] {
  const targets: [string | undefined, string][] = [
    [files.hosts, '/etc/hosts'],
    [files.hostname, '/etc/hostname'],
    [files.resolvConf, '/etc/resolv.conf'],
  ];
  return targets
    .filter((t): t is [string, string] => t[0] !== undefined)
    .map(([source, destination]) => ({
      destination,
      type: 'bind',
      source,
      options: ['rbind', 'rprivate', readOnly ? 'ro' : 'rw'],
    }));
}

function initMount(initPath: string | undefined): OciMount {
  if (!initPath) {
    throw new FailedPreconditionError(
      '--init needs a static init binary on the host: install the tini package (/usr/bin/tini-static)',
    );
  }
  return {
    destination: INIT_PATH_IN_CONTAINER,
    type: 'bind',
    source: initPath,
    options: ['bind', 'ro', 'nosuid'],
  };
}

/** Later mounts replace earlier ones at the same destination (a user's tmpfs on /dev/shm replaces the default). */
function mergeMounts(defaults: OciMount[], extra: OciMount[]): OciMount[] {
  const taken = new Set(extra.map((m) => m.destination.replace(/\/+$/, '') || '/'));
  return [...defaults.filter((m) => !taken.has(m.destination)), ...extra];
}

function rlimits(ulimits: Ulimit[], caps: SpecInput['rlimitCaps']): OciRlimit[] {
  const byName = new Map<string, { soft: number; hard: number }>();
  for (const name of ['nofile', 'nproc']) {
    const value = Math.min(DEFAULT_RLIMIT, caps[name] ?? DEFAULT_RLIMIT);
    byName.set(name, { soft: value, hard: value });
  }
  for (const u of ulimits) {
    // Records made before create checked ulimits reach here unchecked.
    checkUlimit(u);
    const cap = caps[u.name];
    if (cap !== undefined && u.hard > cap) {
      throw new InvalidArgumentError(
        `ulimit ${u.name}=${u.soft}:${u.hard} exceeds the host's hard limit of ${cap} for ${u.name}`,
      );
    }
    byName.set(u.name, { soft: u.soft, hard: u.hard });
  }
  return [...byName].map(([name, v]) => ({
    type: `RLIMIT_${name.toUpperCase()}`,
    soft: v.soft,
    hard: v.hard,
  }));
}

function resources(r: Resources, swapLimitSupported: boolean): OciResources {
  const out: OciResources = {};
  if (r.memorySwap !== undefined && r.memory === undefined) {
    throw new InvalidArgumentError('a memory-swap limit needs a memory limit too (--memory)');
  }
  if (r.memory !== undefined) {
    if (r.memory < MIN_MEMORY) {
      throw new InvalidArgumentError(
        `memory limit ${r.memory} is too small: the minimum is ${MIN_MEMORY} (6MB)`,
      );
    }
    const swap = r.memorySwap ?? 2 * r.memory; // docker: unset means as much swap as memory
    if (swap !== -1 && swap < r.memory) {
      throw new InvalidArgumentError(
        `memory-swap limit ${swap} must not be smaller than memory limit ${r.memory}`,
      );
    }
    out.memory = { limit: r.memory, ...(swapLimitSupported ? { swap } : {}) };
  }
  const cpu: NonNullable<OciResources['cpu']> = {};
  if (r.nanoCpus !== undefined && r.nanoCpus > 0) {
    cpu.period = CPU_PERIOD_US;
    cpu.quota = Math.max(1000, Math.round((r.nanoCpus * CPU_PERIOD_US) / 1e9));
  }
  if (r.cpuShares !== undefined && r.cpuShares > 0) cpu.shares = r.cpuShares;
  if (r.cpusetCpus) {
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(r.cpusetCpus)) {
      throw new InvalidArgumentError(`invalid cpuset "${r.cpusetCpus}": expected a list like 0-2,4`);
    }
    cpu.cpus = r.cpusetCpus;
  }
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  if (r.pidsLimit !== undefined && r.pidsLimit > 0) out.pids = { limit: r.pidsLimit };
  return out;
}

function parseSecurityOpt(options: string[]): { seccomp: boolean; noNewPrivileges: boolean } {
  const result = { seccomp: true, noNewPrivileges: false };
  for (const option of options) {
    const [key, value] = option.includes('=') ? option.split(/=(.*)/s) : [option, 'true'];
    if (key === 'seccomp' && value === 'unconfined') result.seccomp = false;
    else if (key === 'no-new-privileges' && (value === 'true' || value === 'false')) {
      result.noNewPrivileges = value === 'true';
    } else {
      throw new InvalidArgumentError(`unsupported security option "${option}"`);
    }
  }
  return result;
}
