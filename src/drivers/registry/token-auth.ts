import { UnauthenticatedError, UnavailableError } from '../../core/errors.ts';
import * as j from '../../core/image/json-check.ts';
import type { Challenge } from '../../core/registry/challenge.ts';
import type { Credentials } from '../../core/registry/docker-config.ts';
import { readBody, registryMessage } from './response.ts';
import type { HttpTransport } from './transport.ts';

/**
 * Authorization headers for one registry: Basic straight from the credentials, Bearer through the token flow of
 * the distribution token spec (GET realm?service=&scope= with Basic credentials when known, anonymous otherwise).
 * Tokens are cached per scope and reused until `expires_in` (60 s when the server does not say) runs out.
 */
export class RegistryAuth {
  readonly #transport: HttpTransport;
  readonly #credentials: Credentials | undefined;
  readonly #verifyTls: boolean;
  readonly #now: () => number;
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(opts: {
    transport: HttpTransport;
    credentials?: Credentials;
    verifyTls: boolean;
    now?: () => number;
  }) {
    this.#transport = opts.transport;
    this.#credentials = opts.credentials;
    this.#verifyTls = opts.verifyTls;
    this.#now = opts.now ?? Date.now;
  }

  get hasCredentials(): boolean {
    return this.#credentials !== undefined;
  }

  /** The header for a request under `challenge` needing `scopes`; undefined when anonymous is all we have. */
  async header(
    challenge: Challenge | undefined,
    scopes: readonly string[],
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    if (challenge === undefined) return undefined;
    if (challenge.scheme === 'basic') {
      if (!this.#credentials) return undefined;
      return `Basic ${basic(this.#credentials)}`;
    }
    const key = `${challenge.params.realm}|${challenge.params.service ?? ''}|${[...scopes].sort().join(' ')}`;
    const cached = this.#tokens.get(key);
    // A margin of a few seconds keeps us from sending a token that expires in flight.
    if (cached && cached.expiresAt - 5_000 > this.#now()) return `Bearer ${cached.token}`;
    const { token, expiresIn } = await this.#fetchToken(challenge, scopes, signal);
    this.#tokens.set(key, { token, expiresAt: this.#now() + expiresIn * 1000 });
    return `Bearer ${token}`;
  }

  /** Forgets the tokens of a scope set (after a 401 that says they no longer suffice). */
  invalidate(): void {
    this.#tokens.clear();
  }

  async #fetchToken(
    challenge: Challenge,
    scopes: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ token: string; expiresIn: number }> {
    const realm = challenge.params.realm;
    let url: URL;
    try {
      url = new URL(realm ?? '');
    } catch {
      throw new UnavailableError(
        `registry sent a Bearer challenge without a usable realm: ${JSON.stringify(realm)}`,
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new UnavailableError(`token realm ${JSON.stringify(realm)} is not an http(s) URL`);
    }
    if (challenge.params.service !== undefined) url.searchParams.set('service', challenge.params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#credentials) headers.authorization = `Basic ${basic(this.#credentials)}`;
    const res = await this.#transport.request({
      method: 'GET',
      url,
      headers,
      verifyTls: this.#verifyTls,
      ...(signal ? { signal } : {}),
    });
    const body = await readBody(res.body, 1024 * 1024);
    if (res.status === 401 || res.status === 403) {
      throw new UnauthenticatedError(`unauthorized: ${registryMessage(body) ?? 'authentication required'}`);
    }
    if (res.status !== 200) {
      throw new UnavailableError(
        `token server ${url.origin} answered ${res.status}: ${registryMessage(body) ?? ''}`.trim(),
      );
    }
    const o = j.object(j.parseJson(body, 'token response'), 'token response');
    const token =
      j.optionalString(o.token, 'token response.token') ??
      j.optionalString(o.access_token, 'token response.access_token');
    if (!token) throw new UnavailableError('token response: has neither "token" nor "access_token"');
    let expiresIn = 60;
    if (o.expires_in !== undefined) {
      expiresIn = j.size(o.expires_in, 'token response.expires_in');
      if (expiresIn < 60) expiresIn = 60; // the spec's minimum
    }
    return { token, expiresIn };
  }
}

function basic(c: Credentials): string {
  return Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64');
}
