import { PassThrough } from 'node:stream';
import type { AttachSession, ExecSession } from '../core/container/process-io.ts';
import { stateClause } from '../core/container/status-text.ts';
import { ConflictError, HyperboxError, InternalError } from '../core/errors.ts';
import type {
  ContainerArchive,
  ContainerEngine,
  ContainerPathStat,
  ContainerRecord,
  ContainerStatsSample,
  CreateRequest,
  ExecRequest,
  LogChunk,
  LogsRequest,
  StartOptions,
  WaitCondition,
} from '../engine/api/containers.ts';
import type { ApiClient } from './http.ts';
import { logChunks, socketStreams } from './streams.ts';

const P = '/hyperbox/v1/containers';
const MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
const enc = encodeURIComponent;

/**
 * Containers over the daemon's API: records and life cycle through the native routes; the streams that docker's
 * API already carries (attach before start, wait, exec) through the docker routes, where the daemon orders
 * attach and start so that no output is missed.
 */
export class RemoteContainers implements ContainerEngine {
  readonly #api: ApiClient;
  constructor(api: ApiClient) {
    this.#api = api;
  }

  list(): Promise<ContainerRecord[]> {
    return this.#api.json('GET', P);
  }
  get(ref: string): Promise<ContainerRecord> {
    return this.#api.json('GET', `${P}/${enc(ref)}`);
  }
  requireRunning(ref: string): Promise<ContainerRecord> {
    return this.#api.json('GET', `${P}/${enc(ref)}`, { query: { require: 'running' } });
  }
  create(req: CreateRequest): Promise<{ id: string; warnings: string[] }> {
    return this.#api.json('POST', P, { json: req });
  }

  async start(
    ref: string,
    opts: StartOptions,
  ): Promise<{ record: ContainerRecord; session?: AttachSession }> {
    if (!opts.attach) return { record: await this.#api.json('POST', `${P}/${enc(ref)}/start`) };
    const rec = await this.get(ref);
    // Attach first: the daemon holds the attach until the start below, and connects it before the process runs.
    const session = await this.#attachSocket(rec, opts.attach.stdin);
    let already = false;
    try {
      const res = await this.#api.request('POST', `/containers/${rec.id}/start`, { accept: [304] });
      res.resume();
      already = res.statusCode === 304;
    } catch (err) {
      session.close();
      throw err;
    }
    const record = await this.get(rec.id);
    if (already) {
      session.close();
      // docker's 304; the in-process engine's words for it (ContainerService.start).
      throw new ConflictError(`container ${record.name} is already ${stateClause(record.state, Date.now())}`);
    }
    return { record, session };
  }

  async attach(
    ref: string,
    opts: { stdin: boolean },
  ): Promise<{ record: ContainerRecord; session: AttachSession }> {
    const rec = await this.requireRunning(ref);
    return { record: rec, session: await this.#attachSocket(rec, opts.stdin) };
  }

  async #attachSocket(rec: ContainerRecord, stdin: boolean): Promise<AttachSession> {
    const withStdin = stdin && rec.config.openStdin;
    const { socket, contentType } = await this.#api.upgrade(`/containers/${rec.id}/attach`, {
      query: { stream: 1, stdin: withStdin ? 1 : 0, stdout: 1, stderr: 1 },
    });
    return socketStreams(socket, {
      multiplexed: contentType === MULTIPLEXED,
      stdin: withStdin,
      ttyStderr: 'same',
    });
  }

  async wait(ref: string, condition: WaitCondition = 'not-running'): Promise<number> {
    // In-process, the waiter records the exit and carries out --rm before it returns. The daemon starts containers
    // detached, so the monitor's exit command may be the one doing it: wait for the removal, as docker run --rm.
    const rec = await this.get(ref);
    const effective = condition === 'not-running' && rec.config.autoRemove ? 'removed' : condition;
    const r = await this.#api.json<{ StatusCode: number; Error: { Message: string } | null }>(
      'POST',
      `/containers/${rec.id}/wait`,
      { query: { condition: effective } },
    );
    if (r.Error) throw new InternalError(r.Error.Message);
    return r.StatusCode;
  }

  async resize(ref: string, size: { rows: number; cols: number }): Promise<void> {
    await this.#api.json('POST', `/containers/${enc(ref)}/resize`, { query: { h: size.rows, w: size.cols } });
  }
  async stop(ref: string, opts: { timeoutSeconds?: number; signal?: string } = {}): Promise<boolean> {
    return (await this.#api.json<{ stopped: boolean }>('POST', `${P}/${enc(ref)}/stop`, { json: opts }))
      .stopped;
  }
  async kill(ref: string, signal?: string): Promise<void> {
    await this.#api.json('POST', `${P}/${enc(ref)}/kill`, { json: signal === undefined ? {} : { signal } });
  }
  async restart(ref: string, opts: { timeoutSeconds?: number } = {}): Promise<void> {
    await this.#api.json('POST', `${P}/${enc(ref)}/restart`, { json: opts });
  }
  async pause(ref: string): Promise<void> {
    await this.#api.json('POST', `${P}/${enc(ref)}/pause`);
  }
  async unpause(ref: string): Promise<void> {
    await this.#api.json('POST', `${P}/${enc(ref)}/unpause`);
  }
  async rename(ref: string, newName: string): Promise<void> {
    await this.#api.json('POST', `${P}/${enc(ref)}/rename`, { json: { name: newName } });
  }
  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await this.#api.json('DELETE', `${P}/${enc(ref)}`, {
      query: { force: opts.force, volumes: opts.volumes },
    });
  }
  prune(): Promise<string[]> {
    return this.#api.json('POST', `${P}/prune`);
  }
  inspect(ref: string): Promise<Record<string, unknown>> {
    return this.#api.json('GET', `${P}/${enc(ref)}/inspect`);
  }

  async *logs(ref: string, req: LogsRequest): AsyncGenerator<LogChunk> {
    const { signal, ...q } = req;
    const res = await this.#api.request('GET', `${P}/${enc(ref)}/logs`, {
      query: {
        follow: q.follow,
        tail: q.tail,
        since: q.since,
        until: q.until,
        timestamps: q.timestamps,
        details: q.details,
      },
    });
    signal?.addEventListener('abort', () => res.destroy(), { once: true });
    try {
      yield* logChunks(res);
    } finally {
      res.destroy();
    }
  }

  top(ref: string, psArgs: string[]): Promise<{ titles: string[]; processes: string[][] }> {
    return this.#api.json('POST', `${P}/${enc(ref)}/top`, { json: { psArgs } });
  }
  stats(ids: string[]): Promise<ContainerStatsSample[]> {
    return this.#api.json('POST', `${P}/stats`, { json: { ids } });
  }

  /** docker's exec: create, then start on a taken-over connection; the exit code is read once the output ends. */
  async exec(ref: string, req: ExecRequest): Promise<ExecSession> {
    const { Id: id } = await this.#api.json<{ Id: string }>('POST', `/containers/${enc(ref)}/exec`, {
      json: {
        Cmd: req.args,
        Env: req.env,
        ...(req.workdir !== undefined ? { WorkingDir: req.workdir } : {}),
        ...(req.user !== undefined ? { User: req.user } : {}),
        Tty: req.tty,
        AttachStdin: req.stdin && !req.detach,
        AttachStdout: true,
        AttachStderr: true,
        Privileged: req.privileged,
        ...(req.consoleSize ? { ConsoleSize: [req.consoleSize.rows, req.consoleSize.cols] } : {}),
      },
    });
    const inspect = () => this.#api.json<{ Pid: number; ExitCode: number | null }>('GET', `/exec/${id}/json`);
    const resize = async (size: { rows: number; cols: number }) => {
      await this.#api.json('POST', `/exec/${id}/resize`, { query: { h: size.rows, w: size.cols } });
    };
    if (req.detach) {
      await this.#api.json('POST', `/exec/${id}/start`, { json: { Detach: true, Tty: req.tty } });
      const empty = new PassThrough();
      empty.end();
      return { pid: (await inspect()).Pid, stdout: empty, stderr: empty, resize };
    }
    const { socket, contentType } = await this.#api.upgrade(`/exec/${id}/start`, {
      json: { Detach: false, Tty: req.tty },
    });
    const streams = socketStreams(socket, {
      multiplexed: contentType === MULTIPLEXED,
      stdin: req.stdin,
      ttyStderr: 'empty',
    });
    const ended = new Promise<void>((resolve) => {
      streams.stdout.once('end', resolve);
      streams.stdout.once('close', resolve);
    });
    // The daemon records the exit code before it ends the output (api/docker/exec.ts).
    const exitCode = ended.then(async () => {
      const code = (await inspect()).ExitCode;
      if (code === null) throw new InternalError(`exec ${id.slice(0, 12)} ended without an exit code`);
      return code;
    });
    const { Pid: pid } = await inspect();
    return {
      pid,
      stdout: streams.stdout,
      stderr: streams.stderr,
      ...(streams.stdin ? { stdin: streams.stdin } : {}),
      resize,
      exitCode,
    };
  }

  /**
   * The container side of `cp`, as docker's CLI uses it: the daemon only stats, packs and unpacks paths inside the
   * container (docker's archive routes); the caller packs and unpacks the local path. The daemon never reads or
   * writes a path of the client's host for a copy, nor does it need to share one.
   */
  archive(): ContainerArchive {
    return this.#archive();
  }

  #archive(): ContainerArchive {
    const at = (ref: string) => `/containers/${enc(ref)}/archive`;
    const statOf = (res: { headers: Record<string, string | string[] | undefined> }): ContainerPathStat => {
      const h = res.headers['x-docker-container-path-stat'];
      if (typeof h !== 'string')
        throw new InternalError('the daemon sent no X-Docker-Container-Path-Stat header');
      return JSON.parse(Buffer.from(h, 'base64').toString('utf8')) as ContainerPathStat;
    };
    return {
      check: async (ref) => {
        await this.get(ref);
      },
      stat: async (ref, file) => {
        const res = await this.#api.request('HEAD', at(ref), {
          query: { path: file },
          accept: [400, 404, 409, 500],
        });
        res.resume();
        if (res.statusCode === 200) return statOf(res);
        // A HEAD answer has no body to say why: the same GET fails the same way, with the words.
        const again = await this.#api.request('GET', at(ref), { query: { path: file } });
        again.destroy();
        throw new InternalError(`the daemon could not stat ${ref}:${file} (HTTP ${res.statusCode})`);
      },
      get: async (ref, file, sink) => {
        const res = await this.#api.request('GET', at(ref), { query: { path: file } });
        // A failure after the headers can only cut the stream short (no status can follow): say so, not "aborted".
        const cut = (cause?: unknown) =>
          new InternalError(
            `the daemon ended the tar of ${ref}:${file} before its end`,
            cause ? { cause } : undefined,
          );
        try {
          await sink(statOf(res), res);
        } catch (err) {
          res.destroy();
          // The unpacker's own refusal (a directory in the way...) is the answer; a stream that broke is "cut".
          throw res.complete || err instanceof HyperboxError ? err : cut(err);
        }
        if (!res.complete) throw cut();
      },
      put: async (ref, dir, tar, o) => {
        const res = await this.#api.request('PUT', at(ref), {
          query: {
            path: dir,
            noOverwriteDirNonDir: o.noOverwriteDirNonDir,
            copyUIDGID: o.copyUIDGID,
          },
          body: tar,
        });
        res.resume();
      },
    };
  }
}
