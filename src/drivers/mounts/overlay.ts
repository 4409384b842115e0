import fs from 'node:fs';
import { runCommand } from '../proc/run.ts';

/**
 * The container's root file system: the image's unpacked layers, read-only and shared, under the container's own
 * writable layer, joined by overlayfs. Mounting goes through mount(8) because Node has no mount(2).
 */
export interface OverlayPlan {
  lowerDirs: string[]; // topmost first
  upperDir: string;
  workDir: string;
  target: string;
}

export function overlayOptions(plan: OverlayPlan): string {
  // Commas and colons would split the option string: our own paths never contain them, refuse if one does.
  for (const p of [...plan.lowerDirs, plan.upperDir, plan.workDir]) {
    if (/[,:]/.test(p)) throw new Error(`overlay path ${p} contains ',' or ':'`);
  }
  return `lowerdir=${plan.lowerDirs.join(':')},upperdir=${plan.upperDir},workdir=${plan.workDir}`;
}

export async function mountOverlay(plan: OverlayPlan): Promise<void> {
  for (const d of [plan.upperDir, plan.workDir, plan.target]) fs.mkdirSync(d, { recursive: true });
  await runCommand('mount', ['-t', 'overlay', 'overlay', '-o', overlayOptions(plan), plan.target]);
}

/** Unmounts when mounted; a target that is not a mount point is fine (clean-up is idempotent). */
export async function unmount(target: string): Promise<void> {
  if (!mountPoints().has(target)) return;
  try {
    await runCommand('umount', [target]);
  } catch (err) {
    // Busy (a process still holds it): detach it lazily so that nothing stays visible in the mount table.
    if (!mountPoints().has(target)) return;
    await runCommand('umount', ['-l', target]).catch(() => {
      throw err;
    });
  }
}

/** Every mount point of this mount namespace (decoded from /proc/self/mountinfo). */
export function mountPoints(): Set<string> {
  const set = new Set<string>();
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const field = line.split(' ')[4];
    if (field)
      set.add(field.replace(/\\(\d{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8))));
  }
  return set;
}
