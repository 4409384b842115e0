import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as j from '../../core/image/json-check.ts';
import {
  type Credentials,
  type DockerConfig,
  decodeAuth,
  encodeAuth,
  parseDockerConfig,
} from '../../core/registry/docker-config.ts';
import { authKey, authKeys } from '../../core/registry/endpoint.ts';

/**
 * Registry credentials in `<configDir>/config.json`, in docker's format so that either tool can read the other's
 * logins; `~/.docker/config.json` is read as a fallback, never written. The file is private (0600) and written
 * atomically (temporary file, then rename). Secrets never leave this module except towards the registry: no
 * message or log line quotes them.
 */
export interface CredentialStoreOptions {
  configDir: string;
  /** Read-only fallback; `~/.docker/config.json` by default, null for none. */
  dockerConfig?: string | null;
}

export class CredentialStore {
  readonly #file: string;
  readonly #fallback: string | null;

  constructor(opts: CredentialStoreOptions) {
    this.#file = path.join(opts.configDir, 'config.json');
    this.#fallback =
      opts.dockerConfig === undefined ? path.join(os.homedir(), '.docker', 'config.json') : opts.dockerConfig;
  }

  get file(): string {
    return this.#file;
  }

  /** Credentials for a registry name (`host:5000`, `docker.io`), ours first, then docker's. */
  async get(registry: string): Promise<Credentials | undefined> {
    for (const file of [this.#file, this.#fallback]) {
      if (file === null) continue;
      const config = await readConfig(file);
      if (config === undefined) continue;
      for (const key of authKeys(registry)) {
        const entry = config.auths[key];
        if (entry === undefined) continue;
        const creds = decodeAuth(entry, `${file}: auths[${JSON.stringify(key)}]`);
        if (creds) return creds;
      }
    }
    return undefined;
  }

  async set(registry: string, creds: Credentials): Promise<void> {
    const config = (await readConfig(this.#file)) ?? { auths: {} };
    for (const key of authKeys(registry)) delete config.auths[key];
    config.auths[authKey(registry)] = { auth: encodeAuth(creds) };
    await writeConfig(this.#file, config);
  }

  /** Removes the registry's entry; false when there was none. */
  async remove(registry: string): Promise<boolean> {
    const config = await readConfig(this.#file);
    if (config === undefined) return false;
    const keys = authKeys(registry).filter((k) => k in config.auths);
    if (keys.length === 0) return false;
    for (const key of keys) delete config.auths[key];
    await writeConfig(this.#file, config);
    return true;
  }
}

async function readConfig(file: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (text.trim() === '') return { auths: {} };
  return parseDockerConfig(j.parseJson(text, file), file);
}

async function writeConfig(file: string, config: DockerConfig): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await fsp.writeFile(tmp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600, flag: 'w' });
    await fsp.chmod(tmp, 0o600); // the umask may have taken bits away; never added, but be explicit
    await fsp.rename(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
