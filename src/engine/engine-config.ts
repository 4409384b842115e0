import fs from 'node:fs';
import path from 'node:path';
import { parseEngineConfig } from '../core/ledger/policy.ts';
import { DEFAULT_POLICY, type LedgerPolicy } from '../core/ledger/types.ts';
import type { Layout } from '../core/paths.ts';

/** `<root>/engine.json`: the engine's own settings (today the ledger policy; see core/ledger/policy.ts). */
export function engineConfigPath(layout: Layout): string {
  return path.join(layout.root, 'engine.json');
}

/** The ledger policy from engine.json, defaults when the file does not exist; a malformed file is an error. */
export function readLedgerPolicy(layout: Layout): LedgerPolicy {
  const file = engineConfigPath(layout);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_POLICY;
    throw err;
  }
  return parseEngineConfig(text, file);
}
