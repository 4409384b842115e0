import path from 'node:path';
import type { Layout } from '../paths.ts';

/** Where one VM's files are: data under the root, sockets and the exit file under the run root. */
export interface VmPaths {
  readonly dir: string;
  readonly disk: string;
  readonly serialLog: string;
  readonly qemuLog: string;
  readonly seedDir: string;
  readonly runDir: string;
  readonly qmpSocket: string;
  readonly consoleSocket: string;
  readonly pidFile: string;
  readonly exitFile: string;
}

export function vmPaths(layout: Layout, id: string): VmPaths {
  const dir = path.join(layout.root, 'vms', id);
  // Sockets live under a short directory: sun_path holds 107 bytes, and test roots are long temp paths.
  const runDir = path.join(layout.runRoot, 'vms', id.slice(0, 12));
  return {
    dir,
    disk: path.join(dir, 'disk.qcow2'),
    serialLog: path.join(dir, 'serial.log'),
    qemuLog: path.join(dir, 'qemu.log'),
    seedDir: path.join(dir, 'cloud-init'),
    runDir,
    qmpSocket: path.join(runDir, 'qmp.sock'),
    consoleSocket: path.join(runDir, 'console.sock'),
    pidFile: path.join(runDir, 'qemu.pid'),
    exitFile: path.join(runDir, 'exit'),
  };
}
