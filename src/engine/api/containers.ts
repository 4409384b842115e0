import type { Readable } from 'node:stream';
import type { ContainerConfig } from '../../core/container/config.ts';
import type { AttachSession, ExecSession } from '../../core/container/process-io.ts';
import type { ContainerView } from '../../core/container/views.ts';
import type { Awaitable } from './awaitable.ts';

export type { AttachSession, ExecSession };

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
  /**
   * docker's wait: the exit code once `condition` holds. `not-running` returns at once for a stopped container;
   * `next-exit` and `removed` wait for a run that has not begun yet.
   */
  wait(ref: string, condition?: WaitCondition): Promise<number>;
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
  /**
   * The container side of `cp` (docker's archive API): paths inside containers only. The local side is packed and
   * unpacked by the caller (engine/containers/copy.ts, run by the CLI), as docker's CLI does.
   */
  archive(): Awaitable<ContainerArchive>;
}

/** docker's wait conditions. */
export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** A container as the engine keeps it: the config it was created with and its state now (core's vocabulary). */
export type ContainerRecord = ContainerView;

export interface CreateRequest {
  name?: string;
  /** docker's `--platform os/arch[/variant]`: the image must be of it (else NotFound, as dockerd answers). */
  platform?: string;
  /** The user's request; `imageId` is filled in by create from `image`. */
  config: Omit<ContainerConfig, 'imageId'>;
}

export interface StartOptions {
  /** Connect to the container's output (and stdin when `stdin`) before its process starts: nothing is missed. */
  attach?: { stdin: boolean };
  /**
   * No hyperbox process will wait for this container: the monitor runs `hyperbox container cleanup` when it exits
   * so that exit codes, --rm and restart policies are handled with nobody watching.
   */
  detached: boolean;
  /** Started again by its restart policy: counts in RestartCount. */
  restart?: boolean;
  /** With a tty: its size from the first byte (docker's ConsoleSize), before any resize can arrive. */
  consoleSize?: { rows: number; cols: number };
}

export interface ExecRequest {
  args: string[];
  env: string[];
  workdir?: string;
  user?: string;
  tty: boolean;
  stdin: boolean;
  detach: boolean;
  privileged: boolean;
  consoleSize?: { rows: number; cols: number };
}

/** What `logs` asks for. Times are docker's API form, `<seconds>[.<nanoseconds>]`. */
export interface LogsRequest {
  follow: boolean;
  tail?: number;
  since?: string;
  until?: string;
  /** Each record prefixed with its time, docker's RFC 3339 with nine digits and Z. */
  timestamps?: boolean;
  /** Each record prefixed with the attributes its driver attached (labels, env, tag), as docker's --details. */
  details?: boolean;
  signal?: AbortSignal;
}

/** Output ready to print, in order; consecutive records of one stream come as one chunk. */
export interface LogChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

export interface ContainerStatsSample {
  id: string;
  name: string;
  cpuPercent: number; // of one CPU, as docker computes it
  memoryUsage: number; // bytes, reclaimable cache excluded (docker's rule)
  memoryLimit: number;
  pids: number;
  blockRead: number;
  blockWrite: number;
}

/** What docker's archive API says about a path in a container (`X-Docker-Container-Path-Stat`). */
export interface ContainerPathStat {
  name: string;
  size: number;
  /** Go's os.FileMode: permission bits plus type bits (1<<31 directory, 1<<27 symbolic link...). */
  mode: number;
  mtime: string;
  /** For a link: where it leads, resolved inside the container (docker's absolute form), even when dangling. */
  linkTarget: string;
}

/**
 * The container side of `cp`, as docker's archive API offers it (HEAD, GET and PUT /containers/{id}/archive):
 * in-process (engine/containers/archive.ts) or over the daemon's socket (client/remote-containers.ts). It never
 * sees a host path: the local side is packed and unpacked here, by the caller, as docker's CLI does.
 */
export interface ContainerArchive {
  /** Throws NotFound ("No such container") unless `ref` names a container. */
  check(ref: string): Promise<void>;
  /** NotFound ("Could not find the file ...") when the path is missing. */
  stat(ref: string, file: string): Promise<ContainerPathStat>;
  get(
    ref: string,
    file: string,
    sink: (stat: ContainerPathStat, tar: Readable) => Promise<void>,
  ): Promise<void>;
  put(
    ref: string,
    dir: string,
    tar: Readable,
    opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean },
  ): Promise<void>;
}

/** The streams `cp` reads and writes for `-`: a tar on stdin (`cp - CTR:DIR`) or stdout (`cp CTR:PATH -`). */
export interface CopyStreams {
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
}
