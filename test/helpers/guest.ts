import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './cli.ts';

export interface GuestImage {
  kernel: string;
  initrd: string;
}

let cached: GuestImage | undefined;

/** The test guest (Debian cloud kernel + busybox initramfs), built once by scripts/make-guest.sh (cached). */
export function guestImage(): GuestImage {
  if (cached) return cached;
  const out = path.join(REPO, '.cache', 'guest');
  execFileSync('bash', [path.join(REPO, 'scripts', 'make-guest.sh'), out], { stdio: 'ignore' });
  cached = { kernel: path.join(out, 'vmlinuz'), initrd: path.join(out, 'initrd.img') };
  return cached;
}

/** Why the VM tests cannot run here, if they cannot. */
export function vmSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (taps, QEMU)';
  for (const f of ['/usr/bin/qemu-system-x86_64', '/usr/bin/qemu-img'])
    if (!fs.existsSync(f)) return `${f} is missing (bash scripts/setup.sh)`;
  return undefined;
}
