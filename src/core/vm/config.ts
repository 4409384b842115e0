import { InvalidArgumentError } from '../errors.ts';
import { humanBinarySize } from '../human.ts';
import { parseCpuList } from '../ledger/cpu-list.ts';
import { isIPv4 } from '../network/ip.ts';
import type { PortRequest } from '../network/ports.ts';

/**
 * A virtual machine as the user asked for it: dedicated resources, a boot source, networks. Validated once, on the
 * way in (`validateVmConfig`); the engine and the QEMU plan trust it afterwards.
 *
 * Vocabulary: a *kernel boot* starts a Linux kernel + initrd directly (QEMU's `-kernel`, machine `microvm`); an
 * *image boot* starts from a disk that is a thin qcow2 clone of a base image (`vm image import`, machine `q35`).
 */
export type VmBoot =
  | { readonly kind: 'kernel'; readonly kernel: string; readonly initrd?: string; readonly append?: string }
  | { readonly kind: 'image'; readonly image: string };

export interface VmNetwork {
  readonly network: string;
  readonly ip?: string;
}

export type VmMachine = 'microvm' | 'q35';

export interface VmConfig {
  readonly name: string;
  readonly hostname: string;
  readonly cpus: number;
  readonly memoryBytes: number;
  /** The disk's virtual size; 0 for a kernel boot without a disk. */
  readonly diskBytes: number;
  readonly memoryPrealloc: boolean;
  /** 'auto': the ledger picks the CPUs; a list: exactly these logical CPUs. */
  readonly cpuPinning: 'auto' | readonly number[];
  readonly boot: VmBoot;
  readonly machine: VmMachine;
  readonly networks: readonly VmNetwork[];
  readonly publish: readonly PortRequest[];
  /** cloud-init user-data text (the file's content, kept with the record so the VM does not depend on the file). */
  readonly cloudInit?: string;
  readonly sshKeys: readonly string[];
}

/** The hostname a VM gets when none is asked for: its name, made a valid host name. */
export function defaultHostname(name: string): string {
  return name.replace(/[^a-zA-Z0-9-]/g, '-').slice(0, 63);
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
const HOSTNAME_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const MIB = 1024 * 1024;
export const MIN_MEMORY = 32 * MIB;
export const MAX_CPUS = 255;
export const MAX_DISK = 1024 ** 5;

/** Checks every field and fills defaults that depend on others; errors name the bad value. */
export function validateVmConfig(c: VmConfig): VmConfig {
  if (!NAME_RE.test(c.name))
    throw new InvalidArgumentError(
      `invalid VM name "${c.name}": 1-63 characters of [a-zA-Z0-9_.-], starting with a letter or digit`,
    );
  if (!HOSTNAME_RE.test(c.hostname))
    throw new InvalidArgumentError(`invalid hostname "${c.hostname}": letters, digits and '-', up to 63`);
  if (!Number.isInteger(c.cpus) || c.cpus < 1 || c.cpus > MAX_CPUS)
    throw new InvalidArgumentError(`invalid --cpus "${c.cpus}": must be an integer 1-${MAX_CPUS}`);
  if (!Number.isSafeInteger(c.memoryBytes) || c.memoryBytes < MIN_MEMORY || c.memoryBytes % MIB !== 0)
    throw new InvalidArgumentError(
      `invalid --memory ${humanBinarySize(c.memoryBytes)}: must be a whole number of MiB, at least 32M`,
    );
  if (
    !Number.isSafeInteger(c.diskBytes) ||
    c.diskBytes < 0 ||
    c.diskBytes % MIB !== 0 ||
    c.diskBytes > MAX_DISK
  )
    throw new InvalidArgumentError(
      `invalid --disk ${humanBinarySize(c.diskBytes)}: must be a whole number of MiB, at most 1PiB`,
    );
  if (c.cpuPinning !== 'auto') {
    if (c.cpuPinning.length !== c.cpus)
      throw new InvalidArgumentError(
        `--cpu-pinning lists ${c.cpuPinning.length} CPUs but --cpus is ${c.cpus}: give one CPU per vCPU`,
      );
    if (new Set(c.cpuPinning).size !== c.cpuPinning.length)
      throw new InvalidArgumentError(`--cpu-pinning lists a CPU twice: ${c.cpuPinning.join(',')}`);
  }
  if (c.boot.kind === 'kernel') {
    if (c.boot.kernel === '') throw new InvalidArgumentError('--kernel needs a file');
    if (c.machine !== 'microvm' && c.machine !== 'q35')
      throw new InvalidArgumentError(`invalid machine "${c.machine}": use microvm or q35`);
  } else {
    if (c.machine !== 'q35') throw new InvalidArgumentError('a VM booted from --image needs machine q35');
    if (c.diskBytes === 0) throw new InvalidArgumentError('a VM booted from --image needs a disk size');
  }
  const seen = new Set<string>();
  for (const n of c.networks) {
    if (seen.has(n.network)) throw new InvalidArgumentError(`network ${n.network} is listed twice`);
    seen.add(n.network);
    if (n.ip !== undefined && !isIPv4(n.ip)) throw new InvalidArgumentError(`invalid --ip "${n.ip}"`);
  }
  if (c.publish.length > 0 && c.networks.length === 0)
    throw new InvalidArgumentError("-p needs --network: ports are published through the VM's first network");
  for (const k of c.sshKeys) {
    if (!/^(ssh-|ecdsa-|sk-)\S+ \S+/.test(k.trim()))
      throw new InvalidArgumentError(`--ssh-key: "${k.slice(0, 40)}" is not an OpenSSH public key`);
  }
  return c;
}

/** `--cpu-pinning auto|LIST`: "auto", or a cpuset list such as "2,3" or "2-5". */
export function parseCpuPinning(text: string): 'auto' | number[] {
  if (text === 'auto') return 'auto';
  return parseCpuList(text, '--cpu-pinning');
}
