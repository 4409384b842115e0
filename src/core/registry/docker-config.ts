import { InvalidArgumentError } from '../errors.ts';
import * as j from '../image/json-check.ts';

/**
 * Docker's client config file (`~/.docker/config.json`), the `auths` part: `{"auths": {"host:5000": {"auth":
 * "base64(user:password)"}}}`. Other top-level keys (credsStore, proxies, ...) are kept as they are when the file is
 * rewritten, so hyperbox and docker can share one file. Pure: the credential store reads and writes it.
 */
export interface Credentials {
  username: string;
  password: string;
}

export interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  [key: string]: unknown;
}

export interface DockerConfig {
  auths: Record<string, AuthEntry>;
  [key: string]: unknown;
}

export function parseDockerConfig(value: unknown, what: string): DockerConfig {
  const o = j.object(value, what);
  const auths: Record<string, AuthEntry> = {};
  if (o.auths !== undefined && o.auths !== null) {
    for (const [key, entry] of Object.entries(j.object(o.auths, `${what}.auths`))) {
      const w = `${what}.auths[${JSON.stringify(key)}]`;
      const e = j.object(entry, w);
      for (const field of ['auth', 'username', 'password', 'identitytoken'] as const) {
        j.optionalString(e[field], `${w}.${field}`);
      }
      auths[key] = e as AuthEntry;
    }
  }
  return { ...o, auths };
}

export function encodeAuth(c: Credentials): string {
  return Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64');
}

/** The credentials of an entry, undefined when it has none we can use (an empty entry, an identity token only). */
export function decodeAuth(entry: AuthEntry, what: string): Credentials | undefined {
  if (entry.auth !== undefined && entry.auth !== '') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(entry.auth)) {
      throw new InvalidArgumentError(`${what}.auth: not valid base64`);
    }
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new InvalidArgumentError(`${what}.auth: must encode "user:password"`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password !== undefined) {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}
