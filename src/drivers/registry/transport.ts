import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { rootCertificates } from 'node:tls';
import { UnavailableError } from '../../core/errors.ts';
import {
  DEFAULT_RETRY,
  isTransientError,
  isTransientStatus,
  type RetryPolicy,
  retryDelay,
} from '../../core/registry/retry.ts';

/**
 * HTTP for the registry client, on Node's own http/https modules: a response body is a Readable we can pipe
 * straight into the content store, and a per-registry CA (certs.d) is just an Agent option, so no dependency is
 * needed (global fetch would need the undici package for a custom CA, and its web streams cost a conversion).
 *
 * The transport follows redirects for GET and HEAD (registries send blob downloads to object storage; the
 * Authorization header is not forwarded to another origin) and retries transient failures with backoff. Only
 * requests whose body can be produced again are retried; a response body that breaks half-way is the caller's
 * business (the pull retries the whole layer).
 */
export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  headers?: Record<string, string>;
  /** A buffer, or a function returning a fresh stream each time (so that the request can be retried). */
  body?: Buffer | (() => Readable);
  signal?: AbortSignal;
  /** Certificates of the registry are verified (false for registries marked insecure). */
  verifyTls: boolean;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
  url: URL; // after redirects
}

export interface TransportOptions {
  /** `<configDir>/certs.d`: `<host:port>/ca.crt` (and any *.crt) are trusted for that registry, plus
   * `client.cert` / `client.key` for mutual TLS, as docker reads them. */
  certsDir?: string;
  retry?: RetryPolicy;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  userAgent?: string;
}

const MAX_REDIRECTS = 5;

export class HttpTransport {
  readonly #certsDir: string | undefined;
  readonly #retry: RetryPolicy;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #userAgent: string;
  readonly #agents = new Map<string, http.Agent>();

  constructor(opts: TransportOptions = {}) {
    this.#certsDir = opts.certsDir;
    this.#retry = opts.retry ?? DEFAULT_RETRY;
    this.#sleep = opts.sleep ?? ((ms, signal) => sleepFor(ms, undefined, { signal }));
    this.#userAgent = opts.userAgent ?? 'hyperbox/0.1';
  }

  /** Sends the request, retrying transient failures; the caller consumes or discards the response body. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const replayable = req.body === undefined || Buffer.isBuffer(req.body) || typeof req.body === 'function';
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.#retry.attempts || !replayable;
      let res: HttpResponse;
      try {
        res = await this.#follow(req);
      } catch (err) {
        if (last || !isTransientError(err) || req.signal?.aborted) {
          throw new UnavailableError(`${req.method} ${redact(req.url)}: ${(err as Error).message}`, {
            cause: err,
          });
        }
        await this.#sleep(retryDelay(attempt, this.#retry), req.signal);
        continue;
      }
      if (last || !isTransientStatus(res.status)) return res;
      res.body.resume();
      const after = res.headers['retry-after'];
      await this.#sleep(retryDelay(attempt, this.#retry, after), req.signal);
    }
  }

  async #follow(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    let headers = { ...req.headers };
    for (let hop = 0; ; hop++) {
      const res = await this.#once({ ...req, url, headers });
      const location = res.headers.location;
      const redirect = [301, 302, 303, 307, 308].includes(res.status) && location !== undefined;
      if (!redirect || (req.method !== 'GET' && req.method !== 'HEAD')) return res;
      res.body.resume();
      if (hop >= MAX_REDIRECTS) throw new UnavailableError(`${redact(req.url)}: too many redirects`);
      const next = new URL(location, url);
      if (next.origin !== url.origin) {
        const { authorization: _dropped, ...rest } = headers;
        headers = rest;
      }
      url = next;
    }
  }

  #once(req: HttpRequest): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const isHttps = req.url.protocol === 'https:';
      const body = typeof req.body === 'function' ? req.body() : req.body;
      const headers: Record<string, string> = { 'user-agent': this.#userAgent, ...req.headers };
      if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
      const request = (isHttps ? https : http).request(req.url, {
        method: req.method,
        headers,
        agent: this.#agent(req.url, req.verifyTls),
        ...(req.signal ? { signal: req.signal } : {}),
      });
      request.on('error', (err) => {
        if (body !== undefined && !Buffer.isBuffer(body)) body.destroy();
        reject(err);
      });
      request.on('response', (res) =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: req.url }),
      );
      if (body === undefined) request.end();
      else if (Buffer.isBuffer(body)) request.end(body);
      else {
        body.on('error', (err) => request.destroy(err));
        body.pipe(request);
      }
    });
  }

  #agent(url: URL, verifyTls: boolean): http.Agent {
    const key = `${url.protocol}//${url.host}|${verifyTls}`;
    let agent = this.#agents.get(key);
    if (agent) return agent;
    if (url.protocol === 'https:') {
      agent = new https.Agent({
        keepAlive: true,
        rejectUnauthorized: verifyTls,
        ...this.#tlsFiles(url.host),
      });
    } else {
      agent = new http.Agent({ keepAlive: true });
    }
    this.#agents.set(key, agent);
    return agent;
  }

  /** Docker's certs.d layout for `host:port` (the directory name is the registry as users write it). */
  #tlsFiles(host: string): https.AgentOptions {
    if (this.#certsDir === undefined) return {};
    const dir = path.join(this.#certsDir, host.replace(/^\[(.*)\]/, '$1'));
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return {};
    }
    const out: https.AgentOptions = {};
    const cas = names.filter((n) => n.endsWith('.crt')).map((n) => fs.readFileSync(path.join(dir, n)));
    // A custom CA adds to the system's roots rather than replacing them, as docker does.
    if (cas.length > 0) out.ca = [...rootCertificates, ...cas.map((c) => c.toString('utf8'))];
    const cert = names.find((n) => n.endsWith('.cert'));
    if (cert !== undefined) {
      const key = cert.replace(/\.cert$/, '.key');
      out.cert = fs.readFileSync(path.join(dir, cert));
      out.key = fs.readFileSync(path.join(dir, key));
    }
    return out;
  }

  close(): void {
    for (const a of this.#agents.values()) a.destroy();
    this.#agents.clear();
  }
}

/** A URL for messages: query strings of blob redirects carry signatures, so they are left out. */
export function redact(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
