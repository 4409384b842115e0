import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from '../core/errors.ts';
import * as j from '../core/image/json-check.ts';
import type { RegistryOptions } from '../engine/images/registries.ts';

/**
 * The user's registry settings, read once when the engine is built:
 *
 * - the config directory: `$HYPERBOX_CONFIG`, else `~/.hyperbox` (credentials in config.json, CAs in certs.d/);
 * - `$HYPERBOX_TLS_VERIFY=false`: plain HTTP and unverified TLS for every registry (what `--tls-verify=false` on
 *   pull, push and login sets for its own run);
 * - `<config>/registries.json`, optional, with docker's daemon.json keys:
 *   `{"insecure-registries": ["host:5000"], "max-concurrent-downloads": 3}`. Other keys are refused.
 */
export function registryOptionsFrom(env: NodeJS.ProcessEnv): RegistryOptions {
  const configDir = env.HYPERBOX_CONFIG || path.join(os.homedir(), '.hyperbox');
  const options: RegistryOptions = { configDir };
  if (env.HYPERBOX_TLS_VERIFY === 'false') options.tlsVerify = false;
  const file = path.join(configDir, 'registries.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return options;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`${file}: not valid JSON`, { cause: err });
  }
  const o = j.object(doc, file);
  for (const key of Object.keys(o)) {
    if (key !== 'insecure-registries' && key !== 'max-concurrent-downloads') {
      throw new InvalidArgumentError(
        `${file}: unknown key ${JSON.stringify(key)} (known: insecure-registries, max-concurrent-downloads)`,
      );
    }
  }
  if (o['insecure-registries'] !== undefined) {
    options.insecure = j.stringArray(o['insecure-registries'], `${file}: insecure-registries`);
  }
  const max = o['max-concurrent-downloads'];
  if (max !== undefined) {
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
      j.fail(`${file}: max-concurrent-downloads`, 'must be a positive integer', max);
    }
    options.maxConcurrentDownloads = max;
  }
  return options;
}
