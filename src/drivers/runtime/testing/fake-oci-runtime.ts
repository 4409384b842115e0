import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../../core/errors.ts';
import { readExitFile, waitExitFile } from '../exit-file.ts';
import type {
  AttachSession,
  CreateOptions,
  ExecOptions,
  ExecSession,
  ExitLocation,
  ExitRecord,
  OciRuntime,
  RuntimeState,
} from '../oci-runtime.ts';

/** How a fake container's process behaves once started. */
export interface FakeProcess {
  /** Exits by itself at start with this status; absent, it runs until a signal ends it. */
  exitAtStart?: number;
  /** Signals it traps, and the status it then exits with (a trap of SIGKILL is ignored, as the kernel does). */
  traps?: Record<string, number>;
}

interface Box {
  opts: CreateOptions;
  status: RuntimeState['status'];
  pid: number;
  process: FakeProcess;
}

/**
 * An OciRuntime in memory for unit tests, held to the same contract as runc + conmon by the shared suite
 * (oci-runtime.suite.ts): the same life cycle and states, and real exit files (`<exitDir>/<id>`, the status as
 * text, renamed into place), read with the driver's own reader, so that the engine's exit waiting runs unchanged.
 * No monitor process exists: `monitorPid` is 0 ("not known"), which the engine treats as alive.
 */
export class FakeOciRuntime implements OciRuntime {
  /** Every call, as `verb id [detail]`, for tests to assert on. */
  readonly calls: string[] = [];
  /** How the next containers created behave (by name, or `*` for all). */
  readonly processes = new Map<string, FakeProcess>();
  /** Makes the next create fail with this error (a missing command, say), once. */
  failNextCreate: Error | undefined;
  readonly #boxes = new Map<string, Box>();
  readonly #stateDir: string | undefined;
  #nextPid = 4_000_000;

  /** `stateDir`: where runc would keep a directory per container (its --root), kept the same way here. */
  constructor(opts: { stateDir?: string } = {}) {
    this.#stateDir = opts.stateDir;
  }

  async create(opts: CreateOptions): Promise<{ pid: number; monitorPid: number }> {
    this.calls.push(`create ${opts.id}`);
    const fail = this.failNextCreate;
    if (fail) {
      this.failNextCreate = undefined;
      throw fail;
    }
    if (this.#boxes.has(opts.id)) throw new ConflictError(`container with id exists: ${opts.id}`);
    const process = this.processes.get(opts.name) ?? this.processes.get('*') ?? {};
    const pid = this.#nextPid++;
    this.#boxes.set(opts.id, { opts, status: 'created', pid, process });
    if (this.#stateDir) fs.mkdirSync(path.join(this.#stateDir, opts.id), { recursive: true });
    return { pid, monitorPid: 0 };
  }

  async start(id: string): Promise<void> {
    this.calls.push(`start ${id}`);
    const box = this.#box(id);
    if (box.status !== 'created') throw new ConflictError(`cannot start a container that is ${box.status}`);
    box.status = 'running';
    if (box.process.exitAtStart !== undefined) this.#exit(box, box.process.exitAtStart);
  }

  async kill(id: string, signal: string, opts: { all?: boolean } = {}): Promise<void> {
    this.calls.push(`kill ${id} ${signal}${opts.all ? ' all' : ''}`);
    const box = this.#box(id);
    if (box.status !== 'running' && box.status !== 'paused')
      throw new ConflictError(`container not running: ${id}`);
    const n = signalNumber(signal);
    const trapped = Object.entries(box.process.traps ?? {}).find(([s]) => signalNumber(s) === n);
    this.#exit(box, trapped && n !== 9 ? trapped[1] : 128 + n);
  }

  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    this.calls.push(`delete ${id}${opts.force ? ' force' : ''}`);
    const box = this.#boxes.get(id);
    if (!box) return;
    if ((box.status === 'running' || box.status === 'paused') && !opts.force)
      throw new ConflictError(`cannot delete container ${id} that is not stopped: ${box.status}`);
    if (box.status === 'running' || box.status === 'paused') this.#exit(box, 137);
    this.#boxes.delete(id);
    if (this.#stateDir) fs.rmSync(path.join(this.#stateDir, id), { recursive: true, force: true });
  }

  async pause(id: string): Promise<void> {
    this.calls.push(`pause ${id}`);
    const box = this.#box(id);
    if (box.status !== 'running') throw new ConflictError(`container not running: ${id}`);
    box.status = 'paused';
  }

  async resume(id: string): Promise<void> {
    this.calls.push(`resume ${id}`);
    const box = this.#box(id);
    if (box.status !== 'paused') throw new ConflictError(`container not paused: ${id}`);
    box.status = 'running';
  }

  async updateCpuset(id: string, cpus: string): Promise<void> {
    this.calls.push(`update ${id} ${cpus}`);
    this.#box(id);
  }

  async state(id: string): Promise<RuntimeState | undefined> {
    const box = this.#boxes.get(id);
    return box ? { status: box.status, pid: box.pid } : undefined;
  }

  async pids(id: string): Promise<number[]> {
    const box = this.#box(id);
    return box.status === 'running' || box.status === 'paused' ? [box.pid] : [];
  }

  async exec(id: string, opts: ExecOptions): Promise<ExecSession> {
    this.calls.push(`exec ${id} ${opts.args.join(' ')}`);
    const box = this.#box(id);
    if (box.status !== 'running') throw new ConflictError(`cannot exec in a container that is ${box.status}`);
    const [stdout, stderr] = [new PassThrough(), new PassThrough()];
    stdout.end();
    stderr.end();
    return {
      pid: this.#nextPid++,
      stdout,
      stderr,
      resize: async () => {},
      ...(opts.detach ? {} : { exitCode: Promise.resolve(0) }),
    };
  }

  async attach(bundle: string, opts: { stdin: boolean }): Promise<AttachSession> {
    const box = [...this.#boxes.values()].find((b) => b.opts.bundle === bundle);
    if (!box) throw new NotFoundError(`no monitor for bundle ${bundle}`);
    this.calls.push(`attach ${box.opts.id}`);
    const [stdout, stderr] = [new PassThrough(), new PassThrough()];
    return { stdout, stderr, ...(opts.stdin ? { stdin: new PassThrough() } : {}), close: () => {} };
  }

  async resize(): Promise<void> {}

  readExit(opts: ExitLocation): Promise<ExitRecord | undefined> {
    return readExitFile(opts);
  }

  waitExit(opts: ExitLocation & { signal?: AbortSignal }): Promise<ExitRecord> {
    return waitExitFile(opts);
  }

  /** Ends a running container's process from outside (the OOM killer, a crash), as the monitor records it. */
  exitNow(id: string, exitCode: number): void {
    this.#exit(this.#box(id), exitCode);
  }

  #box(id: string): Box {
    const box = this.#boxes.get(id);
    if (!box) throw new NotFoundError(`container does not exist: ${id}`);
    return box;
  }

  /** What conmon does when the init process ends: the exit file, atomically, then the container is stopped. */
  #exit(box: Box, exitCode: number): void {
    box.status = 'stopped';
    fs.mkdirSync(box.opts.exitDir, { recursive: true });
    const file = path.join(box.opts.exitDir, box.opts.id);
    fs.writeFileSync(`${file}.tmp`, String(exitCode));
    fs.renameSync(`${file}.tmp`, file);
  }
}

/** "SIGTERM", "TERM" or "15" as a number. */
function signalNumber(signal: string): number {
  if (/^\d+$/.test(signal)) return Number(signal);
  const name = (signal.startsWith('SIG') ? signal : `SIG${signal}`) as keyof typeof os.constants.signals;
  const n = os.constants.signals[name];
  if (n === undefined) throw new InvalidArgumentError(`invalid signal: ${signal}`);
  return n;
}
