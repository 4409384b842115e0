import { DOCKER_HUB, DOCKER_HUB_AUTH_KEY } from '../core/registry/endpoint.ts';
import { RegistryConnector } from '../drivers/registry/connector.ts';
import { registryOptionsFrom } from './registry-options.ts';

/**
 * login / logout, shared by the CLI and the daemon's /auth: the registry name as docker takes it
 * (`https://host:5000/v2/` → `host:5000`, nothing → Docker Hub), the credentials checked against the registry
 * before they are stored in `<config>/config.json`.
 */
export function registryName(server: string | undefined): string {
  if (server === undefined || server === '' || server === DOCKER_HUB_AUTH_KEY) return DOCKER_HUB;
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

/** What `logout` prints: docker's legacy key for Docker Hub, the host otherwise. */
function shownName(name: string): string {
  return name === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : name;
}

/** A connector with the same settings the engine's pulls use (wiring/registry-options.ts). */
function connector(): RegistryConnector {
  const o = registryOptionsFrom(process.env);
  return new RegistryConnector({
    configDir: o.configDir!,
    ...(o.insecure ? { insecure: o.insecure } : {}),
    ...(o.tlsVerify !== undefined ? { tlsVerify: o.tlsVerify } : {}),
  });
}

export interface LoginRequest {
  server: string | undefined;
  username: string;
  password: string;
}

/** Asks the registry whether it takes these credentials, and stores nothing (the daemon's /auth, as dockerd's). */
export async function checkLogin(opts: LoginRequest): Promise<void> {
  const c = connector();
  try {
    await c.clientWith(registryName(opts.server), opts).checkLogin();
  } finally {
    c.close();
  }
}

/** `hyperbox login`: checked, then stored in this user's config.json (in-process and through a daemon alike). */
export async function login(opts: LoginRequest): Promise<{ file: string }> {
  const name = registryName(opts.server);
  const c = connector();
  try {
    const creds = { username: opts.username, password: opts.password };
    await c.clientWith(name, creds).checkLogin();
    await c.credentials.set(name, creds);
    return { file: c.credentials.file };
  } finally {
    c.close();
  }
}

/**
 * This user's stored login for a registry: what the CLI sends a daemon with each pull and push (X-Registry-Auth),
 * as the docker CLI does, since the daemon keeps no logins of its own.
 */
export async function storedLogin(
  registry: string,
): Promise<{ username: string; password: string } | undefined> {
  const { CredentialStore } = await import('../drivers/registry/credential-store.ts');
  return new CredentialStore({ configDir: registryOptionsFrom(process.env).configDir! }).get(registry);
}

export async function logout(opts: {
  server: string | undefined;
}): Promise<{ name: string; removed: boolean }> {
  const name = registryName(opts.server);
  const c = connector();
  try {
    return { name: shownName(name), removed: await c.credentials.remove(name) };
  } finally {
    c.close();
  }
}
