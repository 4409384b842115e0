import os from 'node:os';
import path from 'node:path';
import type { RegistryConnector } from '../../drivers/registry/connector.ts';

/** How pull and push reach registries; every field has a default. */
export interface RegistryOptions {
  configDir?: string; // config.json (credentials) and certs.d/; ~/.hyperbox by default
  insecure?: string[]; // registries (host or host:port) that may use plain HTTP and unverified TLS
  tlsVerify?: boolean; // false: like --tls-verify=false for every registry
  maxConcurrentDownloads?: number; // layers downloaded at once; 3 by default
  chunkSize?: number; // uploads larger than this go in PATCH chunks of this size; 16 MiB by default
  /**
   * false: no stored login is ever read, a transfer without credentials of its own is anonymous (the daemon: as
   * dockerd, it keeps none of its clients' secrets; they come with each request as X-Registry-Auth).
   */
  storedLogins?: boolean;
}

/**
 * The registry connectors of one image service, made on first use (the registry driver loads lazily): one as
 * configured, and one without TLS verification for `--tls-verify=false` transfers.
 */
export class RegistryConnectors {
  readonly options: RegistryOptions;
  readonly #connectors = new Map<'configured' | 'unverified', RegistryConnector>();

  constructor(options: RegistryOptions = {}) {
    this.options = options;
  }

  async get(kind: 'configured' | 'unverified'): Promise<RegistryConnector> {
    let connector = this.#connectors.get(kind);
    if (!connector) {
      const { RegistryConnector } = await import('../../drivers/registry/connector.ts');
      const o = this.options;
      const tlsVerify = kind === 'unverified' ? false : o.tlsVerify;
      connector = new RegistryConnector({
        configDir: o.configDir ?? path.join(os.homedir(), '.hyperbox'),
        ...(o.insecure ? { insecure: o.insecure } : {}),
        ...(tlsVerify !== undefined ? { tlsVerify } : {}),
        ...(o.storedLogins === false ? { storedLogins: false } : {}),
      });
      this.#connectors.set(kind, connector);
    }
    return connector;
  }
}
