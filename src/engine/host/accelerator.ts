import fs from 'node:fs';
import path from 'node:path';
import type { Layout } from '../../core/paths.ts';
import { LocalHostProbe } from '../../drivers/host/host-probe.ts';
import { type AcceleratorInfo, probeAccelerator } from '../../drivers/host/kvm-probe.ts';

export type { AcceleratorInfo } from '../../drivers/host/kvm-probe.ts';

/** Where the last probe's verdict is kept: probing boots a guest (up to 3 s), so it is done once and cached. */
export function acceleratorCachePath(layout: Layout): string {
  return path.join(layout.root, 'host', 'accelerator.json');
}

/**
 * The accelerator VMs on this host get. Read from the cache under the root; probed (a real boot, see
 * drivers/host/kvm-probe.ts) when there is no valid cache or when `reprobe` is asked for (`hyperbox host --probe`).
 */
export async function acceleratorFor(
  layout: Layout,
  opts: { reprobe?: boolean } = {},
): Promise<AcceleratorInfo> {
  const file = acceleratorCachePath(layout);
  if (!opts.reprobe) {
    const cached = readCache(file);
    if (cached) return cached;
  }
  const info = await probeAccelerator({
    qemu: await new LocalHostProbe().which('qemu-system-x86_64'),
    kvmDevice: '/dev/kvm',
    tmpDir: layout.tmp,
  });
  writeCache(file, info);
  return info;
}

/** The cached verdict, or undefined when there is none or it is not one we wrote (then the host is probed again). */
function readCache(file: string): AcceleratorInfo | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  return isAcceleratorInfo(doc) ? doc : undefined;
}

export function isAcceleratorInfo(doc: unknown): doc is AcceleratorInfo {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return false;
  const d = doc as Record<string, unknown>;
  return (
    (d.accel === 'kvm' || d.accel === 'tcg') &&
    typeof d.kvmUsable === 'boolean' &&
    d.kvmUsable === (d.accel === 'kvm') &&
    typeof d.reason === 'string' &&
    typeof d.probedAt === 'string' &&
    !Number.isNaN(Date.parse(d.probedAt))
  );
}

/** Written to a temporary name and renamed: a concurrent reader sees the old verdict or the new, never half. */
function writeCache(file: string, info: AcceleratorInfo): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o711 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`);
  fs.renameSync(tmp, file);
}
