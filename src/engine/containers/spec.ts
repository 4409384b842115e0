import fs from 'node:fs';
import os from 'node:os';
import { ALL_CAPABILITIES, capabilitiesFromMask } from '../../core/container/capabilities.ts';
import type { MountRequest } from '../../core/container/config.ts';
import type { OciMount, OciSpec } from '../../core/container/oci-types.ts';
import { buildSpec, type ImageProcessConfig } from '../../core/container/spec.ts';
import { resolveUser } from '../../core/container/user.ts';
import { FailedPreconditionError } from '../../core/errors.ts';
import { readRlimitCaps } from '../../drivers/runtime/host-limits.ts';
import type { ContainerRecord } from '../api/containers.ts';
import type { ContainerPaths } from './files.ts';
import { userFilesAt } from './rootfs-read.ts';

/** Where Debian's `tini` package puts its static build: bind-mounted into the container for --init. */
const TINI = '/usr/bin/tini-static';

/**
 * Gathers the host facts and files the pure spec builder needs (the user from the container's own /etc/passwd,
 * volume directories, rlimit caps, cgroup abilities) and returns the OCI runtime spec for one start.
 *
 * Nothing here writes into the container's tree: /etc/hosts, hostname and resolv.conf are files of the bundle,
 * bind-mounted by runc; mount destinations, the working directory (WORKDIR, -w) and exec's -w are runc's. runc
 * 1.1.5 resolves mount destinations inside the root (securejoin, then the mount made on an O_PATH descriptor it
 * checked) and creates and enters the cwd after pivot_root, inside the container (checked: an image whose /work and
 * /mnt are links to a host directory gets `-w /work/sub` refused, `-v x:/mnt/vol` and `--tmpfs /work/t` mounted at
 * the in-root path, `exec -w /work` refused; the host directory unchanged).
 */
export async function prepareSpec(opts: {
  rec: ContainerRecord;
  paths: ContainerPaths;
  imageConfig: ImageProcessConfig;
  hostname: string;
  volumeDirs: Map<string, string>;
  netnsPath?: string;
  /** The CPUs to confine a container without its own --cpuset-cpus to (the ledger's shared pool). */
  sharedCpuset?: string;
  /** A tty's first size, so that the process never sees 0x0 before the first resize arrives. */
  consoleSize?: { rows: number; cols: number };
}): Promise<OciSpec> {
  const { rec, paths } = opts;
  const user = resolveUser(
    rec.config.user ?? opts.imageConfig.User,
    userFilesAt(paths.rootfs, `container ${rec.name}`),
  );
  if (rec.config.init && !fs.existsSync(TINI)) {
    throw new FailedPreconditionError(`--init needs ${TINI}: install it with apt-get install -y tini`);
  }
  return buildSpec({
    id: rec.id,
    config: {
      ...rec.config,
      hostname: opts.hostname,
      ...(opts.sharedCpuset && !rec.config.resources.cpusetCpus
        ? { resources: { ...rec.config.resources, cpusetCpus: opts.sharedCpuset } }
        : {}),
    },
    image: opts.imageConfig,
    user,
    rootfs: paths.rootfs,
    mounts: rec.config.mounts.map((m) => ociMount(m, opts.volumeDirs)),
    etcFiles: { hosts: paths.hosts, hostname: paths.hostname, resolvConf: paths.resolvConf },
    cgroupsPath: cgroupsPathFor(rec.id),
    rlimitCaps: readRlimitCaps(),
    arch: process.arch,
    kernelRelease: os.release(),
    ...(rec.config.init ? { initPath: TINI } : {}),
    ...(opts.consoleSize ? { consoleSize: opts.consoleSize } : {}),
    swapLimitSupported: swapLimitSupported(),
    hostCapabilities: hostCapabilities(),
    ...(opts.netnsPath ? { netnsPath: opts.netnsPath } : {}),
  });
}

function swapLimitSupported(): boolean {
  return (
    fs.existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes') ||
    fs.existsSync('/sys/fs/cgroup/memory.swap.max') ||
    fs.existsSync('/sys/fs/cgroup/system.slice/memory.swap.max')
  );
}

/** Absolute: below the root of each hierarchy, not below wherever the calling process happens to sit. */
export function cgroupsPathFor(id: string): string {
  return `/hyperbox/${id}`;
}

/** A user's mount in OCI form: volumes are bind mounts of their directory; tmpfs gets docker's safe defaults. */
function ociMount(m: MountRequest, volumeDirs: Map<string, string>): OciMount {
  if (m.type === 'tmpfs') {
    const options = m.options ?? [];
    return {
      destination: m.target,
      type: 'tmpfs',
      source: 'tmpfs',
      options: [
        'nosuid',
        'nodev',
        ...(options.includes('exec') ? [] : ['noexec']),
        ...options.filter((o) => o !== 'exec'),
        ...(m.size !== undefined ? [`size=${m.size}`] : []),
        ...(m.mode !== undefined ? [`mode=${m.mode.toString(8)}`] : []),
      ],
    };
  }
  const source = m.type === 'volume' ? volumeDirs.get(m.source)! : m.source;
  const propagation = m.type === 'bind' ? (m.propagation ?? 'rprivate') : 'rprivate';
  return {
    destination: m.target,
    type: 'bind',
    source,
    options: ['rbind', m.readOnly ? 'ro' : 'rw', propagation],
  };
}

let hostCaps: string[] | undefined;

/** Our own bounding set: in a sandbox (or a user namespace) root may lack some capabilities, e.g. SYS_RESOURCE. */
export function hostCapabilities(): string[] {
  if (!hostCaps) {
    const m = /^CapBnd:\s+([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    hostCaps = m ? capabilitiesFromMask(m[1]!) : [...ALL_CAPABILITIES];
  }
  return hostCaps;
}
