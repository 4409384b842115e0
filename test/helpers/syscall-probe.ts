import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { busyboxRootfs, REPO, type TestRoot } from './cli.ts';

const SOURCE = path.join(REPO, 'test', 'helpers', 'syscall-probe.c');

/** Why the probe cannot be built here (no C compiler or static libc), or undefined. */
export function probeSkipReason(): string | undefined {
  if (process.arch !== 'x64')
    return `the probe's 32-bit checks are for x86_64 hosts (this is ${process.arch})`;
  if (spawnSync('sh', ['-c', 'command -v gcc && test -e /usr/lib/x86_64-linux-gnu/libc.a']).status !== 0)
    return 'gcc and a static libc are needed (apt-get install gcc libc6-dev; scripts/setup.sh installs them)';
  return undefined;
}

/**
 * Imports, as `ref` in the test root, the busybox image with test/helpers/syscall-probe.c built in as /probe:
 * static and without PIE (its 32-bit checks pass addresses below 4 GiB).
 */
export function importProbeImage(t: TestRoot, ref: string): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-probe-'));
  try {
    const rootfs = path.join(dir, 'rootfs');
    execFileSync('cp', ['-a', busyboxRootfs(), rootfs]);
    execFileSync('gcc', ['-static', '-no-pie', '-O2', '-Wall', '-o', path.join(rootfs, 'probe'), SOURCE]);
    t.ok(['image', 'import', rootfs, ref]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Each check's outcome ("ok" or an errno name such as EPERM), from the probe's output. */
export function probeResults(output: string): Record<string, string> {
  return Object.fromEntries(
    output
      .trim()
      .split('\n')
      .map((line) => line.split(' ') as [string, string]),
  );
}
