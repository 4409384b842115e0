import type { AttachSession, ExecSession } from '../../drivers/runtime/oci-runtime.ts';
import type { ExecRequest } from '../container-exec.ts';
import type { LogChunk, LogsRequest } from '../container-logs.ts';
import type { ContainerStatsSample } from '../container-stats.ts';
import type { ContainerRecord } from '../container-store.ts';
import type { CreateRequest, StartOptions } from '../containers.ts';
import type { Awaitable } from './awaitable.ts';

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
