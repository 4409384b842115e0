import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseSignal } from '../../core/container/signals.ts';
import { FailedPreconditionError, InternalError, NotFoundError } from '../../core/errors.ts';
import { attachSocket } from './attach.ts';
import { type ConmonPaths, conmonCreateArgs } from './conmon-args.ts';
import { sendResize } from './control-fifo.ts';
import { startExec } from './exec-session.ts';
import { readExitFile, waitExitFile } from './exit-file.ts';
import { launchMonitor, readPidFile, reapStray } from './monitor-process.ts';
import type {
  AttachSession,
  CreateOptions,
  ExecOptions,
  ExecSession,
  ExitLocation,
  ExitRecord,
  OciRuntime,
  RuntimeState,
  TerminalSize,
} from './oci-runtime.ts';
import { RuncCli } from './runc-cli.ts';
import { classifyStartFailure } from './runc-errors.ts';

export interface ConmonRuncOptions {
  /** runc's --root: hyperbox's own state directory (Layout.runcRoot), so we never see other users' containers. */
  runcRoot: string;
  /** Where exec sessions keep their files: <execRoot>/<id>/<session>/. Under the run root. */
  execRoot: string;
  runc?: string;
  conmon?: string;
}

/** OciRuntime on runc, each container (and each exec session) under its own conmon. */
export class ConmonRuncRuntime implements OciRuntime {
  readonly #paths: ConmonPaths;
  readonly #execRoot: string;
  readonly #runc: RuncCli;

  constructor(opts: ConmonRuncOptions) {
    this.#paths = {
      conmon: opts.conmon ?? '/usr/bin/conmon',
      runc: opts.runc ?? '/usr/sbin/runc',
      runcRoot: opts.runcRoot,
    };
    this.#execRoot = opts.execRoot;
    this.#runc = new RuncCli({ runc: this.#paths.runc, root: opts.runcRoot });
  }

  async create(opts: CreateOptions): Promise<{ pid: number; monitorPid: number }> {
    await Promise.all([
      mkdir(opts.exitDir, { recursive: true }),
      mkdir(this.#paths.runcRoot, { recursive: true }),
    ]);
    const monitor = launchMonitor(this.#paths.conmon, conmonCreateArgs(this.#paths, opts), {
      cwd: opts.bundle,
      exitDir: opts.exitDir,
    });
    const [message, first] = await Promise.all([
      monitor.sync.next(),
      monitor.exited.catch((err: unknown) => err),
    ]);
    monitor.release();
    if (first instanceof Error) throw first;
    const monitorPid = await readPidFile(path.join(opts.bundle, 'conmon.pid'));
    if (message && message.data > 0) return { pid: message.data, monitorPid };

    // Failed: make sure neither the monitor nor runc's state outlive the error.
    await reapStray(monitorPid);
    await this.#runc.run(['delete', '--force', opts.id]).catch(() => {});
    const reason =
      message?.message ?? (first as { stderr: string }).stderr ?? 'conmon exited without a report';
    throw classifyStartFailure(reason, `cannot create container ${opts.id}`);
  }

  async start(id: string): Promise<void> {
    await this.#runc.run(['start', id]);
  }

  async kill(id: string, signal: string, opts: { all?: boolean } = {}): Promise<void> {
    const { name } = parseSignal(signal);
    await this.#runc.run(['kill', ...(opts.all ? ['--all'] : []), id, name]);
  }

  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    try {
      await this.#runc.run(['delete', ...(opts.force ? ['--force'] : []), id]);
    } catch (err) {
      if (!(err instanceof NotFoundError)) {
        const message = (err as Error).message;
        if (/not stopped|is (running|paused)/.test(message)) {
          throw new FailedPreconditionError(`container ${id} is still running: ${message}`, { cause: err });
        }
        throw err;
      }
    }
    await rm(path.join(this.#execRoot, id), { recursive: true, force: true });
  }

  async pause(id: string): Promise<void> {
    await this.#runc.run(['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.#runc.run(['resume', id]);
  }

  async updateCpuset(id: string, cpus: string): Promise<void> {
    await this.#runc.run(['update', '--cpuset-cpus', cpus, id]);
  }

  async state(id: string): Promise<RuntimeState | undefined> {
    let out: string;
    try {
      out = await this.#runc.run(['state', id]);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    const state = JSON.parse(out) as { status?: unknown; pid?: unknown };
    const statuses = ['created', 'running', 'paused', 'stopped', 'creating'];
    if (
      typeof state.status !== 'string' ||
      !statuses.includes(state.status) ||
      typeof state.pid !== 'number'
    ) {
      throw new InternalError(`runc state ${id}: unexpected output ${out.slice(0, 200)}`);
    }
    return { status: state.status as RuntimeState['status'], pid: state.pid };
  }

  async pids(id: string): Promise<number[]> {
    const out = await this.#runc.run(['ps', '--format', 'json', id]);
    const pids = JSON.parse(out) as unknown;
    if (pids === null) return [];
    if (!Array.isArray(pids) || !pids.every((p) => Number.isInteger(p))) {
      throw new InternalError(`runc ps ${id}: unexpected output ${out.slice(0, 200)}`);
    }
    return pids as number[];
  }

  exec(id: string, opts: ExecOptions): Promise<ExecSession> {
    return startExec(this.#paths, { execRoot: this.#execRoot, id, exec: opts });
  }

  attach(bundle: string, opts: { stdin: boolean }): Promise<AttachSession> {
    return attachSocket(path.join(bundle, 'attach'), { stdin: opts.stdin });
  }

  resize(bundle: string, size: TerminalSize): Promise<void> {
    return sendResize(path.join(bundle, 'ctl'), size);
  }

  readExit(opts: ExitLocation): Promise<ExitRecord | undefined> {
    return readExitFile(opts);
  }

  waitExit(opts: ExitLocation & { signal?: AbortSignal }): Promise<ExitRecord> {
    return waitExitFile(opts);
  }
}
