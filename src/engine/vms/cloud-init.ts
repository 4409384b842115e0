import fs from 'node:fs';
import path from 'node:path';
import { type CloudInitInput, cloudInitSeed } from '../../core/vm/cloud-init.ts';

/** Writes the NoCloud seed files into `dir` (rewritten at every start: addresses may change) and returns `dir`. */
export function writeCloudInitSeed(dir: string, input: CloudInitInput): string {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const seed = cloudInitSeed(input);
  fs.writeFileSync(path.join(dir, 'meta-data'), seed.metaData, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'user-data'), seed.userData, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'network-config'), seed.networkConfig, { mode: 0o600 });
  return dir;
}
