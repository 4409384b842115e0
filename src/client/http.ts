import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { UnavailableError } from '../core/errors.ts';
import { errorFromAnswer } from './errors.ts';

export interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (an image archive). */
  body?: NodeJS.ReadableStream;
  signal?: AbortSignal;
  /** Statuses outside 2xx that are answers, not errors (docker's 304 "already started"). */
  accept?: number[];
  /** Extra request headers (X-Registry-Auth). */
  headers?: Record<string, string>;
}

/**
 * HTTP over the daemon's unix socket. Every non-2xx answer becomes the HyperboxError the server translated
 * (client/errors.ts); a refused or dropped connection is Unavailable, naming the socket.
 */
export class ApiClient {
  readonly socketPath: string;
  readonly #agent: http.Agent;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
    this.#agent = new http.Agent({ keepAlive: true });
  }

  /** A JSON answer (undefined for 204). */
  async json<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const text = await readText(res);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** The answer as a stream, its status already checked. */
  async request(method: string, path: string, opts: CallOptions = {}): Promise<http.IncomingMessage> {
    const headers: Record<string, string> = { ...opts.headers };
    let payload: Buffer | undefined;
    if (opts.json !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.json));
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    } else if (opts.body) {
      headers['Content-Type'] = 'application/x-tar';
    }
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(
        {
          socketPath: this.socketPath,
          agent: this.#agent,
          method,
          path: withQuery(path, opts.query),
          headers,
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
        resolve,
      );
      req.once('error', (err) => reject(this.#unavailable(err)));
      if (payload) req.end(payload);
      else if (opts.body) Readable.from(opts.body as AsyncIterable<Buffer>).pipe(req);
      else req.end();
    });
    const status = res.statusCode ?? 0;
    if ((status >= 200 && status < 300) || opts.accept?.includes(status)) return res;
    throw errorFromAnswer(res.statusCode ?? 0, await readText(res));
  }

  /**
   * Takes a connection over for raw bytes both ways (docker's attach and exec start: `Upgrade: tcp`). The socket
   * may be half-closed by us (stdin ended) while the daemon's output goes on.
   */
  upgrade(
    path: string,
    opts: { query?: CallOptions['query']; json?: unknown } = {},
  ): Promise<{ socket: net.Socket; contentType: string }> {
    const payload = Buffer.from(opts.json === undefined ? '' : JSON.stringify(opts.json));
    return new Promise((resolve, reject) => {
      const req = http.request({
        createConnection: () => net.connect({ path: this.socketPath, allowHalfOpen: true }),
        method: 'POST',
        path: withQuery(path, opts.query),
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'tcp',
          'Content-Type': 'application/json',
          'Content-Length': String(payload.length),
        },
      });
      req.once('upgrade', (res, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        resolve({ socket, contentType: String(res.headers['content-type'] ?? '') });
      });
      req.once('response', (res) => {
        readText(res).then((text) => reject(errorFromAnswer(res.statusCode ?? 0, text)), reject);
      });
      req.once('error', (err) => reject(this.#unavailable(err)));
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }

  #unavailable(err: Error): Error {
    if (err.name === 'AbortError') return err;
    return new UnavailableError(
      `cannot reach the hyperbox daemon at unix://${this.socketPath}: ${err.message}`,
      {
        cause: err,
      },
    );
  }
}

/** Values of an NDJSON answer; a last `{"error": {message, code}}` line is thrown as the error it names. */
export async function* ndjsonLines<T>(res: http.IncomingMessage): AsyncGenerator<T> {
  let buffered = '';
  for await (const chunk of res as AsyncIterable<Buffer>) {
    buffered += chunk.toString('utf8');
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
      if (line === '') continue;
      const value = JSON.parse(line) as { error?: { message: string; code: string } };
      if (value.error) throw errorFromAnswer(500, JSON.stringify(value.error));
      yield value as T;
    }
  }
}

function withQuery(path: string, query: CallOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function readText(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}
