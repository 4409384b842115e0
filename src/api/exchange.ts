import http from 'node:http';
import type net from 'node:net';
import { Readable } from 'node:stream';
import { InvalidArgumentError } from '../core/errors.ts';

/** Largest JSON body accepted: container configs are a few KiB; anything near this is a mistake or an attack. */
export const MAX_JSON_BODY = 4 * 1024 * 1024;

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
  readonly #upgrade: { socket: net.Socket; head: Buffer } | undefined;
  #bodyRead = false;

  constructor(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    upgrade?: { socket: net.Socket; head: Buffer },
  ) {
    this.req = req;
    this.res = res;
    this.#upgrade = upgrade;
    const url = new URL(req.url ?? '/', 'http://localhost');
    this.path = url.pathname;
    this.query = url.searchParams;
  }

  /** For an upgrade request: a response written straight to the socket (Node gives none for 'upgrade'). */
  static forUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Exchange {
    const res = new http.ServerResponse(req);
    res.assignSocket(socket);
    res.shouldKeepAlive = false;
    return new Exchange(req, res, { socket, head });
  }

  /** The request body as bytes (at most `limit`); on an upgrade request, exactly Content-Length bytes. */
  async body(limit = MAX_JSON_BODY): Promise<Buffer> {
    if (this.#bodyRead) throw new Error('request body read twice');
    this.#bodyRead = true;
    const declared = Number(this.req.headers['content-length'] ?? 'NaN');
    if (declared > limit)
      throw new InvalidArgumentError(`request body too large: ${declared} bytes (limit ${limit})`);
    if (this.#upgrade) return this.#readUpgradeBody(Number.isFinite(declared) ? declared : 0);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw new InvalidArgumentError(`request body too large: more than ${limit} bytes`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  /** The body parsed as a JSON object ({} when empty); malformed JSON is the client's error. */
  async json(): Promise<Record<string, unknown>> {
    const raw = (await this.body()).toString('utf8').trim();
    if (raw === '' || raw === 'null') return {};
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new InvalidArgumentError(`malformed JSON in request body: ${(err as Error).message}`);
    }
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

/** The bytes that arrived with the upgrade request, then the rest of the socket. */
function prepend(head: Buffer, socket: net.Socket): NodeJS.ReadableStream {
  return Readable.from(
    (async function* () {
      yield head;
      for await (const chunk of socket) yield chunk as Buffer;
    })(),
  );
}
