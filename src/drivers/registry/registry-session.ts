import {
  InvalidArgumentError,
  NotFoundError,
  UnauthenticatedError,
  UnavailableError,
} from '../../core/errors.ts';
import { type Challenge, parseChallenges } from '../../core/registry/challenge.ts';
import type { RegistryEndpoint } from '../../core/registry/endpoint.ts';
import { readBody, registryMessage } from './response.ts';
import type { RegistryAuth } from './token-auth.ts';
import type { HttpRequest, HttpResponse, HttpTransport } from './transport.ts';
import { redact } from './transport.ts';

/** What a request may do in a repository; a token is asked for these scopes. */
export type Action = 'pull' | 'push';

/**
 * The conversation with one registry under the Distribution API's requests: it finds the scheme on first use
 * (GET /v2/: HTTPS, or HTTP where the endpoint allows it), remembers the registry's auth challenge, sends every
 * request with the Authorization the RegistryAuth gives for the repositories and actions involved, and turns
 * unexpected answers into the engine's errors. RegistryClient speaks the API's resources over it.
 */
export class RegistrySession {
  readonly endpoint: RegistryEndpoint;
  readonly #transport: HttpTransport;
  readonly #auth: RegistryAuth;
  #base: Promise<{ base: URL; challenge: Challenge | undefined }> | undefined;

  constructor(opts: { endpoint: RegistryEndpoint; transport: HttpTransport; auth: RegistryAuth }) {
    this.endpoint = opts.endpoint;
    this.#transport = opts.transport;
    this.#auth = opts.auth;
  }

  /** Whether the auth has credentials to offer (login refuses without). */
  get hasCredentials(): boolean {
    return this.#auth.hasCredentials;
  }

  /** The registry's base URL and its auth challenge, probed once (a failed probe is tried again next time). */
  async ensureBase(): Promise<{ base: URL; challenge: Challenge | undefined }> {
    this.#base ??= this.#probe();
    try {
      return await this.#base;
    } catch (err) {
      this.#base = undefined;
      throw err;
    }
  }

  async #probe(): Promise<{ base: URL; challenge: Challenge | undefined }> {
    // Every failed attempt is kept: when HTTPS fails on a certificate and the plain-HTTP fallback finds no
    // registry, the certificate error is the one the user needs to see.
    const failures: Array<{ scheme: string; error: Error }> = [];
    for (const scheme of this.endpoint.schemes) {
      const base = new URL(`${scheme}://${this.endpoint.host}`);
      let res: HttpResponse;
      try {
        res = await this.#transport.request({
          method: 'GET',
          url: new URL('/v2/', base),
          verifyTls: this.endpoint.verifyTls,
        });
      } catch (err) {
        failures.push({ scheme, error: err as Error });
        continue; // an HTTPS attempt on a plain-HTTP registry fails here; the next scheme may do
      }
      res.body.resume();
      if (res.status === 200) return { base, challenge: undefined };
      if (res.status === 401) {
        const challenges = parseChallenges(header(res.headers['www-authenticate']));
        return { base, challenge: challenges.find((c) => c.scheme === 'bearer') ?? challenges[0] };
      }
      failures.push({
        scheme,
        error: new UnavailableError(`${base.origin}/v2/ answered ${res.status}: not a registry?`),
      });
    }
    const detail = failures.map((f) => `${f.scheme}: ${f.error.message}`).join('; ') || 'no scheme allowed';
    throw new UnavailableError(`cannot reach registry ${this.endpoint.name}: ${detail}`, {
      cause: failures[0]?.error,
    });
  }

  /** A location the registry gave (a next page, an upload), against its base URL. */
  async resolve(location: string): Promise<URL> {
    const { base } = await this.ensureBase();
    return new URL(location, base);
  }

  /** Where an upload goes on: the answer's Location, against the URL that answered. */
  async location(res: HttpResponse): Promise<URL> {
    const location = header(res.headers.location);
    if (!location)
      throw new UnavailableError(`registry ${this.endpoint.name} sent no Location for the upload`);
    return new URL(location, res.url);
  }

  /**
   * Sends with authorization for `access` (repository → actions); on a 401 it asks for a token once more with the
   * scope the registry named (a registry may want more than we guessed), then gives up with UnauthenticatedError.
   */
  async send(
    req: {
      method: HttpRequest['method'];
      path?: string;
      url?: URL;
      headers?: Record<string, string>;
      body?: HttpRequest['body'];
      signal?: AbortSignal | undefined;
    },
    access: Array<[string, Action[]]>,
  ): Promise<HttpResponse> {
    const { base, challenge } = await this.ensureBase();
    const url = req.url ?? new URL(req.path!, base);
    let scopes = access.map(([repo, actions]) => `repository:${repo}:${actions.join(',')}`);
    let current = challenge;
    for (let round = 0; ; round++) {
      const headers = { ...req.headers };
      const auth = await this.#auth.header(current, scopes, req.signal);
      if (auth !== undefined) headers.authorization = auth;
      const res = await this.#transport.request({
        method: req.method,
        url,
        headers,
        verifyTls: this.endpoint.verifyTls,
        ...(req.body !== undefined ? { body: req.body } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
      });
      if (res.status !== 401) return res;
      const body = await readBody(res.body, 64 * 1024).catch(() => Buffer.alloc(0));
      const fresh = parseChallenges(header(res.headers['www-authenticate']));
      const next = fresh.find((c) => c.scheme === 'bearer') ?? fresh[0];
      const canRetry = round === 0 && next !== undefined && (auth === undefined || next.scheme === 'bearer');
      if (!canRetry) {
        throw new UnauthenticatedError(
          `unauthorized: ${registryMessage(body) ?? 'authentication required'} (${req.method} ${redact(url)})`,
        );
      }
      this.#auth.invalidate();
      if (next.params.scope) scopes = [...new Set([...scopes, ...next.params.scope.split(' ')])];
      current = next;
    }
  }

  /** Throws the engine's error for an answer not in `ok`, with the registry's own message. */
  async expect(res: HttpResponse, ok: number[], what: string): Promise<void> {
    if (ok.includes(res.status)) return;
    const body = await readBody(res.body, 64 * 1024).catch(() => Buffer.alloc(0));
    const message = `${what}: registry ${this.endpoint.name} answered ${res.status}${registryMessage(body) ? `: ${registryMessage(body)}` : ''}`;
    if (res.status === 403) throw new UnauthenticatedError(`denied: ${message}`);
    if (res.status === 404) throw new NotFoundError(message);
    if (res.status >= 400 && res.status < 500) throw new InvalidArgumentError(message);
    throw new UnavailableError(message);
  }
}

/** A header's value as one string (repeated headers joined as HTTP does). */
export function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
