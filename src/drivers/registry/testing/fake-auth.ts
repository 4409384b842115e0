import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { error, json } from './replies.ts';

/** Who may do what: users with passwords, Basic or Bearer (tokens valid `tokenExpiresIn` seconds). */
export interface FakeAuthOptions {
  scheme: 'basic' | 'bearer';
  users: Record<string, string>;
  tokenExpiresIn?: number;
  anonymousPull?: boolean;
}

/**
 * The fake registry's auth: Basic against its users, or Bearer with tokens from its /token endpoint, each token
 * granting the scopes (`repo:action`) the user may have; anonymous pulls when allowed.
 */
export class FakeRegistryAuth {
  tokenRequests = 0;
  readonly #auth: FakeAuthOptions | undefined;
  readonly #host: () => string;
  readonly #tokens = new Map<string, Set<string>>(); // token → "repo:action"

  constructor(auth: FakeAuthOptions | undefined, host: () => string) {
    this.#auth = auth;
    this.#host = host;
  }

  /** True when the request may go on; otherwise it has answered 401 with the challenge to follow. */
  authorized(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    repo: string | undefined,
    action: 'pull' | 'push',
  ): boolean {
    const auth = this.#auth;
    if (!auth) return true;
    const header = req.headers.authorization ?? '';
    if (auth.scheme === 'basic') {
      if (this.#basicOk(header)) return true;
      res.setHeader('www-authenticate', 'Basic realm="fake-registry"');
      error(res, 401, 'UNAUTHORIZED', 'authentication required');
      return false;
    }
    const token = header.startsWith('Bearer ') ? header.slice(7) : undefined;
    const grants = token === undefined ? undefined : this.#tokens.get(token);
    if (grants && (repo === undefined || grants.has(`${repo}:${action}`))) return true;
    const scope =
      repo === undefined ? '' : `,scope="repository:${repo}:${action === 'push' ? 'pull,push' : 'pull'}"`;
    res.setHeader(
      'www-authenticate',
      `Bearer realm="http://${this.#host()}/token",service="fake-registry"${scope}`,
    );
    error(res, 401, 'UNAUTHORIZED', 'authentication required');
    return false;
  }

  #basicOk(header: string): boolean {
    if (!header.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    return colon > 0 && this.#auth?.users[user] === decoded.slice(colon + 1);
  }

  /** The token endpoint: grants what the credentials allow of the scopes asked. */
  token(req: http.IncomingMessage, url: URL, res: http.ServerResponse): undefined {
    this.tokenRequests++;
    const header = req.headers.authorization ?? '';
    const known = this.#basicOk(header);
    if (header !== '' && !known) return error(res, 401, 'UNAUTHORIZED', 'invalid username or password');
    if (url.searchParams.get('service') !== 'fake-registry')
      return error(res, 400, 'DENIED', 'wrong service');
    const grants = new Set<string>();
    for (const scope of url.searchParams.getAll('scope')) {
      const m = /^repository:(.+):([a-z,]+)$/.exec(scope);
      if (!m) continue;
      for (const a of m[2]!.split(',')) {
        if (known || (a === 'pull' && this.#auth?.anonymousPull)) grants.add(`${m[1]}:${a}`);
      }
    }
    if (!known && !this.#auth?.anonymousPull && url.searchParams.getAll('scope').length === 0) {
      return error(res, 401, 'UNAUTHORIZED', 'authentication required');
    }
    const token = randomUUID();
    this.#tokens.set(token, grants);
    json(res, 200, { token, expires_in: this.#auth?.tokenExpiresIn ?? 300 });
  }
}
