import path from 'node:path';
import { type EndpointPolicy, resolveEndpoint } from '../../core/registry/endpoint.ts';
import type { RetryPolicy } from '../../core/registry/retry.ts';
import { CredentialStore } from './credential-store.ts';
import { RegistryClient } from './registry-client.ts';
import { RegistryAuth } from './token-auth.ts';
import { HttpTransport } from './transport.ts';

/**
 * Builds registry clients from the user's settings: one shared transport (connection pools, certs.d), the
 * credentials from config.json, one client per registry name so that a pull of many layers probes and
 * authenticates once.
 */
export interface RegistrySettings extends EndpointPolicy {
  configDir: string; // holds config.json and certs.d/
  dockerConfig?: string | null; // read-only fallback for credentials; ~/.docker/config.json by default
  storedLogins?: boolean; // false: `client()` is anonymous, config.json is never read
  retry?: RetryPolicy;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export class RegistryConnector {
  readonly credentials: CredentialStore;
  readonly #settings: RegistrySettings;
  readonly #transport: HttpTransport;
  readonly #clients = new Map<string, RegistryClient>();

  constructor(settings: RegistrySettings) {
    this.#settings = settings;
    this.credentials = new CredentialStore({
      configDir: settings.configDir,
      ...(settings.dockerConfig !== undefined ? { dockerConfig: settings.dockerConfig } : {}),
    });
    this.#transport = new HttpTransport({
      certsDir: path.join(settings.configDir, 'certs.d'),
      ...(settings.retry ? { retry: settings.retry } : {}),
      ...(settings.sleep ? { sleep: settings.sleep } : {}),
    });
  }

  /**
   * The client of a registry (`host:5000`, `docker.io`), with the stored credentials. They are read on every call:
   * in a long-running engine (the daemon) a `login` or `logout` since the last call must count. A client (and its
   * token) is reused while they stay the same.
   */
  async client(registry: string): Promise<RegistryClient> {
    const credentials =
      this.#settings.storedLogins === false ? undefined : await this.credentials.get(registry);
    const key = credentials ? `${registry}\n${credentials.username}\n${credentials.password}` : registry;
    let c = this.#clients.get(key);
    if (!c) {
      c = this.clientWith(registry, credentials);
      this.#clients.set(key, c);
    }
    return c;
  }

  /** A client with explicit credentials (login checks them before they are stored). */
  clientWith(
    registry: string,
    credentials: { username: string; password: string } | undefined,
  ): RegistryClient {
    const endpoint = resolveEndpoint(registry, this.#settings);
    const auth = new RegistryAuth({
      transport: this.#transport,
      verifyTls: endpoint.verifyTls,
      ...(credentials ? { credentials } : {}),
      ...(this.#settings.now ? { now: this.#settings.now } : {}),
    });
    return new RegistryClient({ endpoint, transport: this.#transport, auth });
  }

  close(): void {
    this.#transport.close();
  }
}
