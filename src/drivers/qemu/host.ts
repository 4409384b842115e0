import fs from 'node:fs';
import { UnavailableError } from '../../core/errors.ts';

/** Where QEMU is installed; a clear error naming the package when it is not. */
export function findQemu(name = 'qemu-system-x86_64'): string {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/bin', '/usr/local/bin'])) {
    const file = `${dir}/${name}`;
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {}
  }
  throw new UnavailableError(
    `${name} not found: VMs need QEMU (apt-get install -y qemu-system-x86 qemu-utils)`,
  );
}

/**
 * The host's TSC frequency in kHz, for `tsc_early_khz=` (TCG guests on microvm hang calibrating it otherwise).
 * /proc/cpuinfo's "cpu MHz" is what this kind of host reports (no cpufreq under a hypervisor).
 */
export function hostTscKhz(cpuinfo = '/proc/cpuinfo'): number | undefined {
  try {
    const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(fs.readFileSync(cpuinfo, 'utf8'));
    return m ? Math.round(Number(m[1]) * 1000) : undefined;
  } catch {
    return undefined;
  }
}
