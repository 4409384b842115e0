import type { Duplex } from 'node:stream';
import type { VmFacts } from '../../core/vm/views.ts';
import type { QemuSnapshot } from '../../drivers/qemu/qemu-img.ts';
import type { VmImageRecord } from '../vm-images.ts';
import type { VmRecord } from '../vm-store.ts';
import type { VmCreateRequest } from '../vms.ts';
import type { Awaitable } from './awaitable.ts';

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
