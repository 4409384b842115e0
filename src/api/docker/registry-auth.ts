import { InvalidArgumentError } from '../../core/errors.ts';
import type { RegistryCredentials } from '../../engine/api/images.ts';

/**
 * The credentials docker's clients send with a pull or push: the `X-Registry-Auth` header, base64url of a JSON
 * AuthConfig. They are for that request only; nothing is stored. An empty header or `{}` means anonymous (docker
 * sends that when it has nothing); an identity token alone is not supported here and falls back to the stored
 * credentials.
 */
export function registryAuthFrom(header: string | string[] | undefined): RegistryCredentials | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  if (!raw) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidArgumentError('X-Registry-Auth: not base64url-encoded JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InvalidArgumentError('X-Registry-Auth: not a JSON object');
  }
  const { username, password } = doc as { username?: unknown; password?: unknown };
  if (username === undefined || username === '' || username === null) return undefined;
  if (typeof username !== 'string')
    throw new InvalidArgumentError('X-Registry-Auth: "username" must be a string');
  if (typeof password !== 'string')
    throw new InvalidArgumentError('X-Registry-Auth: "password" must be a string');
  return { username, password };
}
