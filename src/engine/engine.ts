import type { Duplex } from 'node:stream';
import type { Digest } from '../core/image/digest.ts';
import type { PortBinding } from '../core/network/ports.ts';
import type { NetworkInspect } from '../core/network/types.ts';
import type { VmFacts } from '../core/vm/views.ts';
import type { QemuSnapshot } from '../drivers/qemu/qemu-img.ts';
import type { AttachSession, ExecSession } from '../drivers/runtime/oci-runtime.ts';
import type { ExecRequest } from './container-exec.ts';
import type { LogChunk, LogsRequest } from './container-logs.ts';
import type { ContainerStatsSample } from './container-stats.ts';
import type { ContainerRecord } from './container-store.ts';
import type { ContainerService, CreateRequest, StartOptions } from './containers.ts';
import type { DiskUsage } from './disk-usage.ts';
import type { EngineEvent, EventFilter, EventLog } from './events.ts';
import type { HostEngine, HostService } from './host-service.ts';
import type { PullOptions, PullResult } from './image-pull.ts';
import type { PushOptions, PushResult } from './image-push.ts';
import type {
  ArchiveFormat,
  DeleteItem,
  ImageInspect,
  ImageService,
  ImageSummary,
  ImportOptions,
  ResolvedImage,
} from './images.ts';
import type { Ledger } from './ledger.ts';
import type { NetworkAttachment, NetworkCreateOptions, NetworkService } from './networks.ts';
import type { ResetSummary } from './reset.ts';
import type { VmImageRecord } from './vm-images.ts';
import type { VmRecord } from './vm-store.ts';
import type { VmCreateRequest, VmService } from './vms.ts';
import type { Volume, VolumeService } from './volumes.ts';

/**
 * An answer that the in-process engine may give at once and the daemon's client gives later: callers always
 * `await` it, so either implementation fits.
 */
export type Awaitable<T> = T | Promise<T>;

/**
 * The engine as the CLI sees it: one interface per kind of thing it manages, covering exactly what the CLI uses.
 * Two implementations: in-process (the services in this folder, built by wiring/engine.ts) and the client of the
 * daemon's API (client/remote-engine.ts). Errors are HyperboxErrors either way, with the same class and message.
 */
export interface Engine {
  readonly containers: ContainerEngine;
  readonly images: ImageEngine;
  readonly volumes: VolumeEngine;
  readonly networks: NetworkEngine;
  readonly events: EventEngine;
  readonly vms: VmEngine;
  readonly host: HostEngine;
  readonly system: SystemEngine;
  close(): void;
}

/**
 * The in-process engine: the concrete services (the API server and in-process-only commands use these). Extending
 * Engine is what checks that each service implements its interface (without an import cycle from the services).
 */
export interface LocalEngine extends Engine {
  readonly images: ImageService;
  readonly containers: ContainerService;
  readonly volumes: VolumeService;
  readonly networks: NetworkService;
  readonly events: EventLog;
  /** Dedicated CPUs, memory and disk of VMs (built on first use: it reads the host). */
  readonly ledger: Ledger;
  /** Virtual machines under QEMU (with their base images: `vms.images`). */
  readonly vms: VmService;
  readonly host: HostService;
}

/** Containers: life cycle, attach/exec streams, logs, files. `ref` is a name, a full id or a unique id prefix. */
export interface ContainerEngine {
  /** Every container, newest first. */
  list(): Awaitable<ContainerRecord[]>;
  get(ref: string): Awaitable<ContainerRecord>;
  /** The record of a running container; FailedPrecondition (naming its state) otherwise. */
  requireRunning(ref: string): Awaitable<ContainerRecord>;
  create(req: CreateRequest): Promise<{ id: string; warnings: string[] }>;
  /** With `attach`, the session is connected before the process starts: no output is missed. */
  start(ref: string, opts: StartOptions): Promise<{ record: ContainerRecord; session?: AttachSession }>;
  attach(ref: string, opts: { stdin: boolean }): Promise<{ record: ContainerRecord; session: AttachSession }>;
  wait(ref: string, condition?: 'not-running' | 'next-exit' | 'removed'): Promise<number>;
  resize(ref: string, size: { rows: number; cols: number }): Promise<void>;
  /** false when it was not running. */
  stop(ref: string, opts?: { timeoutSeconds?: number; signal?: string }): Promise<boolean>;
  kill(ref: string, signal?: string): Promise<void>;
  restart(ref: string, opts?: { timeoutSeconds?: number }): Promise<void>;
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;
  rename(ref: string, newName: string): Awaitable<void>;
  remove(ref: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
  /** Removes stopped containers; returns their ids. */
  prune(): Promise<string[]>;
  /** docker's inspect view. */
  inspect(ref: string): Promise<Record<string, unknown>>;
  /**
   * The container's output as its log driver kept it, formatted (`timestamps`, `details`) and in order, consecutive
   * output of one stream as one chunk; read with bounded memory at any size, at the consumer's pace. A `none`
   * driver: FailedPrecondition "configured logging driver does not support reading".
   */
  logs(ref: string, req: LogsRequest): AsyncIterable<LogChunk>;
  top(ref: string, psArgs: string[]): Promise<{ titles: string[]; processes: string[][] }>;
  stats(ids: string[]): Promise<ContainerStatsSample[]>;
  exec(ref: string, req: ExecRequest): Promise<ExecSession>;
  /** `cp`: one side is `CONTAINER:PATH`, the other a local path or `-`, a tar on `stdin` / `stdout`. */
  copy(
    src: string,
    dest: string,
    opts: {
      archive: boolean;
      followLink: boolean;
      stdin?: NodeJS.ReadableStream;
      stdout?: NodeJS.WritableStream;
    },
  ): Promise<void>;
}

/** Images: the local store, archives and registries. */
export interface ImageEngine {
  list(opts?: { all?: boolean }): Promise<ImageSummary[]>;
  inspect(ref: string): Promise<ImageInspect>;
  /** NotFound when nothing local matches (run's pull policy asks this first). */
  resolve(ref: string): Promise<ResolvedImage>;
  importRootfs(source: string, ref: string | undefined, opts: ImportOptions): Promise<{ id: Digest }>;
  load(input: string | NodeJS.ReadableStream): Promise<string[]>;
  save(
    refs: string[],
    output: string | NodeJS.WritableStream,
    opts: { format: ArchiveFormat },
  ): Promise<void>;
  pull(ref: string, opts?: PullOptions): Promise<PullResult>;
  push(ref: string, opts?: PushOptions): Promise<PushResult>;
  tag(source: string, target: string): Promise<void>;
  remove(ref: string, opts: { force: boolean }): Promise<DeleteItem[]>;
  prune(opts: { all: boolean }): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }>;
}

export interface VolumeEngine {
  create(opts: {
    name?: string;
    driver?: string;
    labels?: Record<string, string>;
    options?: Record<string, string>;
  }): Awaitable<Volume>;
  inspect(name: string): Awaitable<Volume>;
  list(filters?: { dangling?: boolean; name?: string[]; label?: string[] }): Awaitable<Volume[]>;
  remove(name: string, opts?: { force?: boolean }): Awaitable<void>;
  prune(opts?: { all?: boolean }): Awaitable<{ deleted: string[]; spaceReclaimed: number }>;
}

export interface NetworkEngine {
  create(opts: NetworkCreateOptions): Awaitable<NetworkInspect>;
  list(): Awaitable<NetworkInspect[]>;
  inspect(ref: string): Awaitable<NetworkInspect>;
  remove(ref: string): Promise<void>;
  /** Removes unused networks; returns their names. */
  prune(): Promise<string[]>;
  /** Attaches a running container (its record's id and name) to one more network. */
  connect(
    ref: string,
    owner: { id: string; name: string },
    att?: Omit<NetworkAttachment, 'network'>,
  ): Promise<unknown>;
  disconnect(ref: string, ownerId: string): Promise<void>;
  /** Published ports of a container. */
  ports(ownerId: string): Awaitable<PortBinding[]>;
}

export interface EventEngine {
  /** Events after sequence number `afterSeq` that match, oldest first, and the last sequence number read. */
  list(filter: EventFilter, afterSeq?: number): Awaitable<{ events: EngineEvent[]; lastSeq: number }>;
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

export interface SystemEngine {
  /** `system df`: what images, containers and volumes take under the state root, and what is free there. */
  df(): Promise<DiskUsage>;
  /**
   * Removes every container, VM, network, volume and image. In-process, the state root goes too; the daemon keeps
   * its own (it still runs there).
   */
  reset(): Promise<ResetSummary & { rootRemoved: boolean }>;
}
