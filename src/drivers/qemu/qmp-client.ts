import net from 'node:net';
import { InternalError, UnavailableError } from '../../core/errors.ts';

/**
 * A client of QEMU's machine protocol (QMP) on a unix socket. Lifecycle: `connect` reads the greeting and
 * negotiates capabilities; `execute` sends a command with a fresh id and resolves with its `return` value (rejects
 * with QEMU's error class and description); asynchronous events go to `onEvent`; `close` ends the session (QEMU
 * keeps running). Every line from QEMU is checked to be one of the three shapes QMP defines before it is used.
 */
export interface QmpEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; command: string };

export class QmpClient {
  readonly #socket: net.Socket;
  readonly #pending = new Map<string, Pending>();
  readonly #listeners: ((e: QmpEvent) => void)[] = [];
  #nextId = 1;
  #buffer = '';
  #closed: Error | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
  }

  /** Connects to the socket, waits for the greeting and leaves the capabilities negotiation mode. */
  static async connect(socketPath: string, opts: { timeoutMs?: number } = {}): Promise<QmpClient> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const socket = net.createConnection(socketPath);
    const client = new QmpClient(socket);
    socket.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new UnavailableError(`QMP ${socketPath}: no greeting within ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(new UnavailableError(`QMP ${socketPath}: ${err.message}`, { cause: err }));
      };
      socket.once('error', fail);
      let greeted = false;
      socket.on('data', (chunk: string) => {
        if (!greeted) {
          client.#buffer += chunk;
          const nl = client.#buffer.indexOf('\n');
          if (nl < 0) return;
          const first = client.#buffer.slice(0, nl);
          client.#buffer = client.#buffer.slice(nl + 1);
          greeted = true;
          clearTimeout(timer);
          socket.off('error', fail);
          const doc = parseLine(first);
          if (!('QMP' in doc)) {
            socket.destroy();
            reject(new InternalError(`QMP ${socketPath}: expected a greeting, got ${first.slice(0, 200)}`));
            return;
          }
          client.#wire();
          resolve();
          if (client.#buffer) client.#onData('');
          return;
        }
        client.#onData(chunk);
      });
    });
    await client.execute('qmp_capabilities');
    return client;
  }

  #wire(): void {
    this.#socket.on('error', (err) => this.#fail(err));
    this.#socket.on('close', () => this.#fail(new Error('QEMU closed the QMP connection')));
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = err;
    for (const p of this.#pending.values())
      p.reject(new UnavailableError(`QMP ${p.command}: ${err.message}`));
    this.#pending.clear();
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    for (let nl = this.#buffer.indexOf('\n'); nl >= 0; nl = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line) this.#handle(line);
    }
  }

  #handle(line: string): void {
    let doc: Record<string, unknown>;
    try {
      doc = parseLine(line);
    } catch (err) {
      this.#fail(err as Error);
      this.#socket.destroy();
      return;
    }
    if (typeof doc.event === 'string') {
      const data = isObject(doc.data) ? doc.data : {};
      for (const l of this.#listeners) l({ event: doc.event, data });
      return;
    }
    const id = typeof doc.id === 'string' ? doc.id : undefined;
    const p = id === undefined ? undefined : this.#pending.get(id);
    if (!p || id === undefined) return; // a reply to nobody (a command sent without an id): ignore
    this.#pending.delete(id);
    if ('return' in doc) p.resolve(doc.return);
    else if (isObject(doc.error)) {
      const cls = typeof doc.error.class === 'string' ? doc.error.class : 'GenericError';
      const desc = typeof doc.error.desc === 'string' ? doc.error.desc : JSON.stringify(doc.error);
      p.reject(new InternalError(`QMP ${p.command}: ${cls}: ${desc}`));
    } else p.reject(new InternalError(`QMP ${p.command}: reply with neither return nor error: ${line}`));
  }

  /** Runs one command; resolves with its `return` value as QEMU sent it (callers validate its shape). */
  execute(
    command: string,
    args?: Record<string, unknown>,
    opts: { timeoutMs?: number } = {},
  ): Promise<unknown> {
    if (this.#closed) return Promise.reject(new UnavailableError(`QMP ${command}: ${this.#closed.message}`));
    const id = `hbx-${this.#nextId++}`;
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new UnavailableError(`QMP ${command}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        command,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#socket.write(
        `${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`,
      );
    });
  }

  onEvent(listener: (e: QmpEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** Resolves when QEMU closes the connection (it exits), or after `timeoutMs` with false. */
  closed(timeoutMs: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  close(): void {
    this.#closed ??= new Error('closed by hyperbox');
    this.#socket.destroy();
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One QMP line: a JSON object that is a greeting, an event, or a reply (return or error). */
function parseLine(line: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    throw new InternalError(`QMP sent a line that is not JSON: ${line.slice(0, 200)}`);
  }
  if (!isObject(doc) || !('QMP' in doc || 'event' in doc || 'return' in doc || 'error' in doc)) {
    throw new InternalError(`QMP sent an object of no known shape: ${line.slice(0, 200)}`);
  }
  return doc;
}

/** `query-cpus-fast`'s reply, checked: the vCPU index and the host thread that runs it. */
export function parseCpusFast(reply: unknown): { index: number; threadId: number }[] {
  if (!Array.isArray(reply)) throw new InternalError('QMP query-cpus-fast: reply is not a list');
  return reply.map((c, i) => {
    if (!isObject(c) || !Number.isInteger(c['cpu-index']) || !Number.isInteger(c['thread-id']))
      throw new InternalError(
        `QMP query-cpus-fast: entry ${i} lacks cpu-index/thread-id: ${JSON.stringify(c)}`,
      );
    return { index: c['cpu-index'] as number, threadId: c['thread-id'] as number };
  });
}

/** `query-status`'s reply, checked. */
export function parseStatus(reply: unknown): { running: boolean; status: string } {
  if (!isObject(reply) || typeof reply.running !== 'boolean' || typeof reply.status !== 'string')
    throw new InternalError(`QMP query-status: unexpected reply ${JSON.stringify(reply)}`);
  return { running: reply.running, status: reply.status };
}
