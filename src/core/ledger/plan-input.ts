import { InvalidArgumentError } from '../errors.ts';
import { parseSize } from '../human.ts';
import type { HostReserve, OvercommitPolicy } from './types.ts';

/**
 * The `hyperbox plan` flags: comma-separated key=value lists, every key checked, sizes with K/M/G/T binary suffixes
 * (as docker's). Each error names the flag, the key and the bad value.
 */

export interface PlanHostSpec {
  sockets: number;
  /** Cores per socket (as lscpu's "Core(s) per socket" and QEMU's -smp cores=). */
  cores: number;
  threads: number;
  memoryBytes: number;
  diskBytes: number;
}

export interface VmProfile {
  cpus: number;
  memoryBytes: number;
  diskBytes: number;
}

export interface ContainerProfile {
  /** CPU limit as docker's --cpus: fractions of a CPU. */
  cpus: number;
  memoryBytes: number;
}

/** The hello-REST-API VM of the seed: one dedicated CPU, 1 GiB of memory, a 10 GiB disk. */
export const DEFAULT_VM_PROFILE: VmProfile = { cpus: 1, memoryBytes: 1024 ** 3, diskBytes: 10 * 1024 ** 3 };
/** A small service container: a tenth of a CPU and 64 MiB. */
export const DEFAULT_CONTAINER_PROFILE: ContainerProfile = { cpus: 0.1, memoryBytes: 64 * 1024 ** 2 };

/** "cores=4,threads=2" -> Map; refuses unknown or repeated keys and entries without "=". */
export function parseKeyValues(text: string, flag: string, known: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`${flag} ${text}: "${item}" is not key=value`);
    const key = item.slice(0, eq).trim();
    if (!known.includes(key)) {
      throw new InvalidArgumentError(`${flag} ${text}: unknown key "${key}" (known: ${known.join(', ')})`);
    }
    if (out.has(key)) throw new InvalidArgumentError(`${flag} ${text}: "${key}" given twice`);
    out.set(key, item.slice(eq + 1).trim());
  }
  return out;
}

function wholeNumber(kv: Map<string, string>, key: string, flag: string, min: number): number | undefined {
  const v = kv.get(key);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) {
    throw new InvalidArgumentError(`${flag}: ${key}=${v} must be a whole number of at least ${min}`);
  }
  return Number(v);
}

function size(kv: Map<string, string>, key: string, flag: string, min: number): number | undefined {
  const v = kv.get(key);
  if (v === undefined) return undefined;
  const bytes = parseSize(v);
  if (bytes === undefined) {
    throw new InvalidArgumentError(
      `${flag}: ${key}=${v} is not a size: use bytes or K/M/G/T, e.g. 512M, 16G`,
    );
  }
  if (bytes < min) {
    throw new InvalidArgumentError(
      min === 1
        ? `${flag}: ${key}=${v} is a zero size: it must be more than 0`
        : `${flag}: ${key}=${v} is too small`,
    );
  }
  return bytes;
}

function decimal(
  kv: Map<string, string>,
  key: string,
  flag: string,
  check: (n: number) => string | undefined,
) {
  const v = kv.get(key);
  if (v === undefined) return undefined;
  const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) : Number.NaN;
  const problem = Number.isNaN(n) ? 'is not a number' : check(n);
  if (problem) throw new InvalidArgumentError(`${flag}: ${key}=${v} ${problem}`);
  return n;
}

function required<T>(value: T | undefined, flag: string, key: string, example: string): T {
  if (value === undefined)
    throw new InvalidArgumentError(`${flag}: ${key}= is required (e.g. ${flag} ${example})`);
  return value;
}

const HOST_EXAMPLE = 'cores=4,threads=2,memory=16G,disk=500G';

/** `--host cores=4,threads=2,memory=16G,disk=500G[,sockets=1]` */
export function parseHostSpec(text: string): PlanHostSpec {
  const flag = '--host';
  const kv = parseKeyValues(text, flag, ['cores', 'threads', 'memory', 'disk', 'sockets']);
  return {
    sockets: wholeNumber(kv, 'sockets', flag, 1) ?? 1,
    cores: required(wholeNumber(kv, 'cores', flag, 1), flag, 'cores', HOST_EXAMPLE),
    threads: wholeNumber(kv, 'threads', flag, 1) ?? 1,
    memoryBytes: required(size(kv, 'memory', flag, 1), flag, 'memory', HOST_EXAMPLE),
    diskBytes: required(size(kv, 'disk', flag, 1), flag, 'disk', HOST_EXAMPLE),
  };
}

/** `--vm cpus=1,memory=1G,disk=10G`: keys left out keep the default profile's values; disk=0 means no disk. */
export function parseVmProfile(text: string): VmProfile {
  const flag = '--vm';
  const kv = parseKeyValues(text, flag, ['cpus', 'memory', 'disk']);
  if (kv.get('cpus') === '0')
    throw new InvalidArgumentError(`${flag}: cpus=0 is a zero size: a VM needs at least 1 CPU`);
  return {
    cpus: wholeNumber(kv, 'cpus', flag, 1) ?? DEFAULT_VM_PROFILE.cpus,
    memoryBytes: size(kv, 'memory', flag, 1) ?? DEFAULT_VM_PROFILE.memoryBytes,
    diskBytes: size(kv, 'disk', flag, 0) ?? DEFAULT_VM_PROFILE.diskBytes,
  };
}

/** `--reserve cpus=1,memory=2G,disk=20G`: keys left out keep `base` (the engine config's reserve). */
export function parseReserve(text: string, base: HostReserve): HostReserve {
  const flag = '--reserve';
  const kv = parseKeyValues(text, flag, ['cpus', 'memory', 'disk']);
  return {
    cpus: wholeNumber(kv, 'cpus', flag, 0) ?? base.cpus,
    memoryBytes: size(kv, 'memory', flag, 0) ?? base.memoryBytes,
    diskBytes: size(kv, 'disk', flag, 0) ?? base.diskBytes,
  };
}

/** `--overcommit cpu=4,memory=1.5`: ratios from 1 (none) to 64, fractions allowed. */
export function parseOvercommit(text: string, base: OvercommitPolicy): OvercommitPolicy {
  const flag = '--overcommit';
  const kv = parseKeyValues(text, flag, ['cpu', 'memory']);
  const ratio = (n: number) => (n < 1 || n > 64 ? 'must be a ratio from 1 (no overcommit) to 64' : undefined);
  return {
    cpu: decimal(kv, 'cpu', flag, ratio) ?? base.cpu,
    memory: decimal(kv, 'memory', flag, ratio) ?? base.memory,
  };
}

/** `--container cpus=0.1,memory=64M` */
export function parseContainerProfile(text: string): ContainerProfile {
  const flag = '--container';
  const kv = parseKeyValues(text, flag, ['cpus', 'memory']);
  const cpus = decimal(kv, 'cpus', flag, (n) =>
    n === 0
      ? 'is a zero size: a container profile needs a CPU limit above 0'
      : n < 0.001
        ? 'is below 0.001'
        : undefined,
  );
  return {
    cpus: cpus ?? DEFAULT_CONTAINER_PROFILE.cpus,
    memoryBytes: size(kv, 'memory', flag, 1) ?? DEFAULT_CONTAINER_PROFILE.memoryBytes,
  };
}
