/**
 * Where a registry named in a reference actually lives, and how to talk to it. Pure: the HTTP client takes the
 * plan and carries it out.
 *
 * - `docker.io` is served by `registry-1.docker.io`; its credentials live under docker's legacy key
 *   `https://index.docker.io/v1/` in config.json.
 * - TLS is the default. Loopback registries (localhost, 127.0.0.0/8, ::1) and those the user marks insecure may
 *   fall back to plain HTTP, as docker does; an insecure registry's certificate is not verified either.
 */
export interface RegistryEndpoint {
  /** The name in references and certs.d: `host:5000`, `docker.io`. */
  readonly name: string;
  /** host[:port] to connect to. */
  readonly host: string;
  /** Schemes to try, in order; the first one that answers /v2/ wins. */
  readonly schemes: readonly ('https' | 'http')[];
  /** Whether the TLS certificate is verified. */
  readonly verifyTls: boolean;
}

export const DOCKER_HUB = 'docker.io';
export const DOCKER_HUB_HOST = 'registry-1.docker.io';
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

export interface EndpointPolicy {
  insecure?: readonly string[]; // registry names (host or host:port) the user marked insecure
  tlsVerify?: boolean; // false: like --tls-verify=false, for every registry
}

export function isLoopback(name: string): boolean {
  const host = hostOf(name);
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `[::1]:5000` → `::1`, `host:5000` → `host`. */
export function hostOf(name: string): string {
  if (name.startsWith('[')) return name.slice(1, name.indexOf(']'));
  const colon = name.lastIndexOf(':');
  return colon === -1 ? name : name.slice(0, colon);
}

export function resolveEndpoint(name: string, policy: EndpointPolicy = {}): RegistryEndpoint {
  const host = name === DOCKER_HUB || name === 'index.docker.io' ? DOCKER_HUB_HOST : name;
  const markedInsecure =
    policy.tlsVerify === false || (policy.insecure ?? []).some((i) => i === name || i === hostOf(name));
  const plainAllowed = markedInsecure || isLoopback(name);
  return {
    name: host === DOCKER_HUB_HOST ? DOCKER_HUB : name,
    host,
    schemes: plainAllowed ? ['https', 'http'] : ['https'],
    verifyTls: !markedInsecure,
  };
}

/** The keys config.json may use for a registry's credentials, most specific first. */
export function authKeys(name: string): string[] {
  if (name === DOCKER_HUB || name === DOCKER_HUB_HOST || name === 'index.docker.io') {
    return [DOCKER_HUB_AUTH_KEY, DOCKER_HUB, 'index.docker.io', DOCKER_HUB_HOST];
  }
  return [name, `https://${name}`, `http://${name}`];
}

/** The key `login` writes under: docker's legacy key for Docker Hub, host[:port] otherwise. */
export function authKey(name: string): string {
  return authKeys(name)[0]!;
}
