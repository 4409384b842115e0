import fs from 'node:fs';
import path from 'node:path';
import { objectAt, parseEngineConfig } from '../../core/ledger/policy.ts';
import { DEFAULT_POLICY, type LedgerPolicy } from '../../core/ledger/types.ts';
import { logDefaultsFrom } from '../../core/logs/engine-defaults.ts';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../core/logs/log-config.ts';
import type { Layout } from '../../core/paths.ts';

/**
 * `<root>/engine.json`: the engine's own settings: the ledger policy (core/ledger/policy.ts) and the default log driver
 * (core/logs/engine-defaults.ts).
 */
export function engineConfigPath(layout: Layout): string {
  return path.join(layout.root, 'engine.json');
}

/** The ledger policy from engine.json, defaults when the file does not exist; a malformed file is an error. */
export function readLedgerPolicy(layout: Layout): LedgerPolicy {
  const file = engineConfigPath(layout);
  const text = readConfigText(file);
  return text === undefined ? DEFAULT_POLICY : parseEngineConfig(text, file);
}

/** The engine-wide log driver and options (engine.json's "log-driver", "log-opts"), checked as strictly. */
export function readLogDefaults(layout: Layout): LogConfig {
  const file = engineConfigPath(layout);
  const text = readConfigText(file);
  if (text === undefined) return DEFAULT_LOG_CONFIG;
  parseEngineConfig(text, file); // the whole file is checked, whichever part is asked for
  return logDefaultsFrom(objectAt(JSON.parse(text), file), file);
}

function readConfigText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
