import type { Duplex } from 'node:stream';
import type { VmConfig } from '../../core/vm/config.ts';
import type { QemuSnapshot } from '../../core/vm/snapshot.ts';
import type { VmState } from '../../core/vm/state.ts';
import type { VmFacts } from '../../core/vm/views.ts';
import type { Awaitable } from './awaitable.ts';

export type { QemuSnapshot } from '../../core/vm/snapshot.ts';

/** A VM as the engine records it: what was asked (config) and where it is (state). */
export interface VmRecord {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
  readonly config: VmConfig;
  readonly state: VmState;
}

/** What `vm create` asks for: a VmConfig whose name the engine generates when absent (hostname: from the name). */
export type VmCreateConfig = Omit<VmConfig, 'name' | 'hostname'> & { name?: string; hostname?: string };

export interface VmCreateRequest {
  config: VmCreateConfig;
}

/**
 * A base image for `vm create --image`: a disk stored once under `<root>/vm-images/` and never written again. Disk
 * images (qcow2 or raw) are kept as qcow2 and each VM's disk is a thin qcow2 clone with it as backing file; an ISO
 * is kept as it is and shown to the VM as a CD-ROM beside an empty disk.
 */
export interface VmImageRecord {
  readonly name: string;
  readonly kind: 'disk' | 'iso';
  readonly path: string;
  readonly virtualSize: number;
  readonly source: string;
  readonly created: number;
}

/** Virtual machines: life cycle, disks, snapshots, the serial console. `ref` is a name, a full id or a prefix. */
export interface VmEngine {
  /** Every VM with what surrounds it (reservation, addresses, paths): what `vm ls` and `vm inspect` show. */
  describeAll(): Awaitable<VmFacts[]>;
  describe(ref: string): Awaitable<VmFacts>;
  /** Records the VM and reserves its CPUs, memory and disk (refused when they are short), then makes its disk. */
  create(req: VmCreateRequest): Promise<VmRecord>;
  start(ref: string): Promise<VmRecord>;
  /** ACPI power-down, then a hard stop after `timeSeconds`. */
  stop(ref: string, opts?: { timeSeconds?: number }): Promise<VmRecord>;
  kill(ref: string): Promise<VmRecord>;
  restart(ref: string, opts?: { timeSeconds?: number }): Promise<VmRecord>;
  remove(ref: string, opts?: { force?: boolean }): Promise<unknown>;
  resizeDisk(ref: string, bytes: number): Promise<VmRecord>;
  snapshots(ref: string): Promise<readonly QemuSnapshot[]>;
  snapshot(ref: string, action: 'create' | 'restore' | 'rm', name: string): Promise<void>;
  /** The serial console's log from its start; with `follow`, what comes next until the VM stops running. */
  serialLog(ref: string, opts: { follow: boolean; signal?: AbortSignal }): AsyncIterable<Uint8Array>;
  /** A connection to a running VM's serial console: bytes both ways (QEMU serves one client at a time). */
  console(ref: string): Promise<Duplex>;
  readonly images: VmImageEngine;
}

/** Base images for `vm create --image`. `import` reads a file on the engine's host. */
export interface VmImageEngine {
  import(file: string, name: string): Promise<VmImageRecord>;
  list(): Awaitable<VmImageRecord[]>;
  remove(name: string): Awaitable<void>;
}
