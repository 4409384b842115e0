import { isIP } from 'node:net';
import { InvalidArgumentError } from '../errors.ts';
import { validateName } from '../ids.ts';
import { parseAddHost } from '../network/names.ts';
import { DEFAULT_NETWORK } from '../network/types.ts';
import { normalizeCapability } from './capabilities.ts';
import type { ContainerConfig, Resources, Ulimit } from './config.ts';
import { parseCpuset, ULIMIT_NAMES } from './parse.ts';

/**
 * The one check of a container's configuration at create, whichever way it came: the CLI's flags (in-process or
 * through the daemon), docker's create body, the native API. Each refusal is docker's own words where docker has
 * them (the daemon's for what dockerd checks, the docker CLI's for what only its flag parsers check), so that a
 * value refused by docker is refused here with the same sentence. Pure: the host's CPU count comes in.
 */
export interface CreateLimits {
  /** CPUs this host has (docker's runtime.NumCPU()): the ceiling of --cpus and --cpuset-cpus. */
  hostCpus: number;
}

/** docker's linuxMinMemory: a smaller limit cannot even start a container's init. */
export const MIN_MEMORY = 6 * 1024 * 1024;

/** The kernel's PID_MAX_LIMIT (64-bit): pids.max refuses anything larger, so such a limit could never start. */
export const MAX_PIDS_LIMIT = 4 * 1024 * 1024;

/** docker's maxHostnameLen (the kernel's HOST_NAME_MAX). */
const MAX_HOSTNAME = 64;

export function validateContainerConfig(c: Omit<ContainerConfig, 'imageId'>, limits: CreateLimits): void {
  if (c.workingDir !== undefined) checkWorkingDir(c.workingDir);
  for (const e of c.env) {
    if (e === '' || e.startsWith('=')) throw new InvalidArgumentError(`invalid environment variable: ${e}`);
  }
  if (c.hostname !== undefined) checkHostname(c.hostname);
  for (const h of c.extraHosts ?? []) parseAddHost(h);
  for (const d of c.dns ?? []) {
    // Each becomes a `nameserver` line of resolv.conf: anything but an address would write lines of its own.
    if (isIP(d) === 0) {
      throw new InvalidArgumentError(
        `invalid argument ${quote(d)} for "--dns" flag: IP address is not correctly formatted: ${d}`,
      );
    }
  }
  for (const m of c.mounts) {
    // A named volume is made on first use: its name must be one `volume create` takes.
    if (m.type === 'volume' && m.source !== '') validateName(m.source, 'volume');
  }
  checkCapabilities('CapAdd', c.capAdd);
  checkCapabilities('CapDrop', c.capDrop);
  checkResources(c.resources, limits);
  for (const u of c.ulimits) checkUlimit(u);
  if (c.networkMode === 'bridge') {
    for (const n of c.networks ?? []) {
      if (n.network !== DEFAULT_NETWORK) continue;
      // docker's default network has no IPAM of the user's and no DNS of its own (runconfig's errors).
      if (n.ip !== undefined)
        throw new InvalidArgumentError(
          'user specified IP address is supported on user defined networks only',
        );
      if (n.aliases?.length) {
        throw new InvalidArgumentError(
          'network-scoped alias is supported only for containers in user defined networks',
        );
      }
    }
  }
}

/** A control character in a value that is written into a line-based file or handed to the runtime as is. */
const CONTROL = /[\u0000-\u001f\u007f]/;

function checkWorkingDir(dir: string): void {
  if (!dir.startsWith('/')) {
    throw new InvalidArgumentError(
      `the working directory '${dir}' is invalid, it needs to be an absolute path`,
    );
  }
  if (CONTROL.test(dir)) {
    throw new InvalidArgumentError(
      `the working directory ${quote(dir)} is invalid, it must not contain control characters (a line break)`,
    );
  }
}

function checkHostname(name: string): void {
  if (Buffer.byteLength(name) > MAX_HOSTNAME)
    throw new InvalidArgumentError(`hostname ${quote(name)} is too long (maximum ${MAX_HOSTNAME} bytes)`);
  // It goes into /etc/hostname and /etc/hosts: letters, digits, dots, dashes (and docker's tolerated underscore).
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name))
    throw new InvalidArgumentError(`invalid hostname: ${quote(name)}`);
}

function checkCapabilities(field: 'CapAdd' | 'CapDrop', names: readonly string[]): void {
  for (const name of names) {
    try {
      normalizeCapability(name);
    } catch (err) {
      throw new InvalidArgumentError(`invalid ${field}: ${(err as Error).message}`, { cause: err });
    }
  }
}

function checkResources(r: Resources, limits: CreateLimits): void {
  for (const [field, v] of Object.entries(r)) {
    if (typeof v === 'number' && !Number.isSafeInteger(v))
      throw new InvalidArgumentError(`invalid ${field} ${v}: must be a whole number within ±2^53`);
  }
  if (r.memory !== undefined && r.memory !== 0 && r.memory < MIN_MEMORY)
    throw new InvalidArgumentError('Minimum memory limit allowed is 6MB');
  if (r.memorySwap !== undefined && r.memorySwap < -1)
    throw new InvalidArgumentError(
      `invalid memory swap limit ${r.memorySwap}: use a size, or -1 for unlimited`,
    );
  if (r.memorySwap !== undefined && r.memorySwap > 0) {
    if (!r.memory) {
      throw new InvalidArgumentError(
        'You should always set the Memory limit when using Memoryswap limit, see usage',
      );
    }
    if (r.memorySwap < r.memory)
      throw new InvalidArgumentError(
        'Minimum memoryswap limit should be larger than memory limit, see usage',
      );
  }
  if (r.nanoCpus !== undefined && r.nanoCpus !== 0) {
    const n = limits.hostCpus;
    if (r.nanoCpus < 0 || r.nanoCpus > n * 1e9) {
      throw new InvalidArgumentError(
        `Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`,
      );
    }
  }
  if (r.cpuShares !== undefined && r.cpuShares < 0)
    throw new InvalidArgumentError(`invalid CPU shares ${r.cpuShares}: must not be negative`);
  if (r.cpusetCpus !== undefined) parseCpuset(r.cpusetCpus, limits.hostCpus);
  if (r.pidsLimit !== undefined && r.pidsLimit > MAX_PIDS_LIMIT) {
    throw new InvalidArgumentError(
      `invalid PidsLimit ${r.pidsLimit}: the kernel allows at most ${MAX_PIDS_LIMIT} (0 or -1: unlimited)`,
    );
  }
}

/** go-units' rules for a ulimit (docker's --ulimit), checked at create rather than when runc refuses it. */
export function checkUlimit(u: Ulimit): void {
  if (!ULIMIT_NAMES.has(u.name)) throw new InvalidArgumentError(`invalid ulimit type: ${u.name}`);
  for (const v of [u.soft, u.hard]) {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new InvalidArgumentError(`invalid ulimit ${u.name}: ${v} is out of range (0 to 2^53)`);
  }
  if (u.soft > u.hard) {
    throw new InvalidArgumentError(
      `ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`,
    );
  }
}

/** A value in double quotes with its line breaks and control characters escaped (Go's %q). */
function quote(s: string): string {
  return JSON.stringify(s);
}
