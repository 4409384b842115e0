import http from 'node:http';
import type net from 'node:net';
import { Readable } from 'node:stream';
import { InvalidArgumentError } from '../core/errors.ts';
import { parseJsonText } from './json-text.ts';

/** Largest JSON body accepted: container configs are a few KiB; anything near this is a mistake or an attack. */
export const MAX_JSON_BODY = 4 * 1024 * 1024;

/**
 * How long a body read whole (`body()`, `json()`) may take: a client that stops sending, or sends a byte now and
 * then, would otherwise hold its connection and a handler forever. Streamed bodies (image load, archive uploads)
 * and taken-over connections have none: they may rightly be long and quiet.
 */
export interface BodyTimeouts {
  idleMs: number; // no byte for this long
  totalMs: number; // the whole body
}
export const BODY_TIMEOUTS: BodyTimeouts = { idleMs: 15_000, totalMs: 60_000 };

/**
 * One request and the way to answer it. Plain requests answer through `res`; a request that asked to take the
 * connection over (`Connection: Upgrade`, docker's attach and exec start) gets a response bound to the raw socket,
 * so that errors before the take-over look the same, and `hijack` switches the socket to raw bytes.
 */
export class Exchange {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly query: URLSearchParams;
  readonly path: string;
  params: Record<string, string> = {};
  /** Set when the request's target is no URL at all: the server answers 400 before routing. */
  readonly badUrl: string | undefined;
  readonly #upgrade: { socket: net.Socket; head: Buffer } | undefined;
  readonly #timeouts: BodyTimeouts;
  #bodyRead = false;

  constructor(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    opts: { upgrade?: { socket: net.Socket; head: Buffer }; bodyTimeouts?: BodyTimeouts } = {},
  ) {
    this.req = req;
    this.res = res;
    this.#upgrade = opts.upgrade;
    this.#timeouts = opts.bodyTimeouts ?? BODY_TIMEOUTS;
    let url: URL | undefined;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      this.badUrl = req.url ?? '';
    }
    this.path = url?.pathname ?? '/';
    this.query = url?.searchParams ?? new URLSearchParams();
  }

  /** For an upgrade request: a response written straight to the socket (Node gives none for 'upgrade'). */
  static forUpgrade(
    req: http.IncomingMessage,
    upgrade: { socket: net.Socket; head: Buffer },
    bodyTimeouts?: BodyTimeouts,
  ): Exchange {
    const res = new http.ServerResponse(req);
    res.assignSocket(upgrade.socket);
    res.shouldKeepAlive = false;
    return new Exchange(req, res, { upgrade, ...(bodyTimeouts ? { bodyTimeouts } : {}) });
  }

  /** The request body as bytes (at most `limit`); on an upgrade request, exactly Content-Length bytes. */
  async body(limit = MAX_JSON_BODY): Promise<Buffer> {
    if (this.#bodyRead) throw new Error('request body read twice');
    this.#bodyRead = true;
    const declared = Number(this.req.headers['content-length'] ?? 'NaN');
    if (declared > limit)
      throw new InvalidArgumentError(`request body too large: ${declared} bytes (limit ${limit})`);
    if (this.#upgrade) return this.#readUpgradeBody(Number.isFinite(declared) ? declared : 0);
    try {
      return await readWhole(this.req, { limit, ...this.#timeouts });
    } catch (err) {
      // The rest of a refused body is not worth reading: the connection ends with the answer.
      this.res.setHeader('Connection', 'close');
      this.res.once('finish', () => this.req.socket.destroy());
      throw err;
    }
  }

  /** The body parsed as a JSON object ({} when empty); malformed or too deeply nested JSON is the client's error. */
  async json(): Promise<Record<string, unknown>> {
    const raw = (await this.body()).toString('utf8').trim();
    if (raw === '' || raw === 'null') return {};
    const value = parseJsonText(raw, 'request body');
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new InvalidArgumentError('request body must be a JSON object');
    return value as Record<string, unknown>;
  }

  /** The body as a stream (image load, archive upload); on an upgrade request the raw socket. */
  bodyStream(): NodeJS.ReadableStream {
    this.#bodyRead = true;
    return this.#upgrade ? this.#upgrade.socket : this.req;
  }

  async #readUpgradeBody(length: number): Promise<Buffer> {
    const up = this.#upgrade!;
    let buf = up.head;
    while (buf.length < length) {
      const chunk = await new Promise<Buffer | null>((resolve) => {
        const onData = (c: Buffer) => {
          up.socket.pause();
          up.socket.off('end', onEnd);
          resolve(c);
        };
        const onEnd = () => {
          up.socket.off('data', onData);
          resolve(null);
        };
        up.socket.once('data', onData);
        up.socket.once('end', onEnd);
        up.socket.resume();
      });
      if (!chunk) throw new InvalidArgumentError('request body ended early');
      buf = Buffer.concat([buf, chunk]);
    }
    up.head = buf.subarray(length);
    return buf.subarray(0, length);
  }

  json200(value: unknown, status = 200): void {
    const body = JSON.stringify(value);
    this.res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    });
    this.res.end(body);
  }

  noContent(status = 204): void {
    this.res.writeHead(status);
    this.res.end();
  }

  text(status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
    this.res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    this.res.end(body);
  }

  /** Starts a response whose body comes later (wait, events, pull progress): headers go out at once. */
  startStream(contentType: string): http.ServerResponse {
    this.res.writeHead(200, { 'Content-Type': contentType });
    this.res.flushHeaders();
    return this.res;
  }

  /**
   * Takes the connection over for raw bytes both ways (attach, exec start). With Upgrade: `101 UPGRADED` and the
   * socket itself; without (older clients, dockerode's non-hijacked attach): a 200 whose body is the output and
   * whose request body is the input. Output may go on after the input ended (half-close).
   */
  hijack(contentType: string): { input: NodeJS.ReadableStream; output: NodeJS.WritableStream } {
    const up = this.#upgrade;
    if (!up) {
      this.res.writeHead(200, { 'Content-Type': contentType });
      this.res.flushHeaders();
      return { input: this.req, output: this.res };
    }
    this.res.detachSocket(up.socket);
    up.socket.write(
      `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
        `Api-Version: ${this.res.getHeader('Api-Version') ?? ''}\r\n\r\n`,
    );
    const input = up.head.length > 0 ? prepend(up.head, up.socket) : up.socket;
    return { input, output: up.socket };
  }
}

/** A request body as bytes, refused past `limit` bytes, after `idleMs` without data or `totalMs` in all. */
function readWhole(req: http.IncomingMessage, opts: { limit: number } & BodyTimeouts): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timedOut = (what: string) => () =>
      done(new InvalidArgumentError(`request body timed out: ${what}`));
    const idle = setTimeout(timedOut(`nothing received for ${opts.idleMs / 1000} s`), opts.idleMs);
    const total = setTimeout(timedOut(`not complete after ${opts.totalMs / 1000} s`), opts.totalMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > opts.limit) {
        done(new InvalidArgumentError(`request body too large: more than ${opts.limit} bytes`));
        return;
      }
      chunks.push(chunk);
      idle.refresh();
    };
    const onEnd = () => done(undefined);
    const onClose = () => done(new InvalidArgumentError('request body ended early: the client went away'));
    function done(err: Error | undefined): void {
      clearTimeout(idle);
      clearTimeout(total);
      req.off('data', onData).off('end', onEnd).off('error', done).off('close', onClose);
      if (err) {
        req.pause();
        reject(err);
      } else resolve(Buffer.concat(chunks));
    }
    req.on('data', onData).on('end', onEnd).on('error', done).on('close', onClose);
  });
}

/** The bytes that arrived with the upgrade request, then the rest of the socket. */
function prepend(head: Buffer, socket: net.Socket): NodeJS.ReadableStream {
  return Readable.from(
    (async function* () {
      yield head;
      for await (const chunk of socket) yield chunk as Buffer;
    })(),
  );
}
