// The VmRuntime contract on the real QEMU (TCG, the cached test guest, paused: nothing boots but for a moment):
// the same suite the fake passes in src/drivers/qemu/testing/fake-vm-runtime.test.ts.
import path from 'node:path';
import { qemuArgv } from '../src/core/vm/qemu-plan.ts';
import { QemuRuntime } from '../src/drivers/qemu/qemu-runtime.ts';
import { vmRuntimeSuite } from '../src/drivers/qemu/testing/vm-runtime.suite.ts';
import { guestImage, vmSkipReason } from './helpers/guest.ts';

const skip = vmSkipReason();

vmRuntimeSuite(
  'QEMU',
  () => {
    const guest = guestImage();
    return {
      runtime: new QemuRuntime(),
      cpu: 0,
      request: (dir) => ({
        qemu: '/usr/bin/qemu-system-x86_64',
        argv: qemuArgv({
          name: 'hbx-runtime-suite',
          accel: 'tcg',
          machine: 'microvm',
          cpus: 1,
          memoryBytes: 128 * 1024 * 1024,
          memoryPrealloc: false,
          kernel: { path: guest.kernel, initrd: guest.initrd, cmdline: 'console=ttyS0 quiet' },
          nics: [],
          qmpSocket: path.join(dir, 'qmp.sock'),
          consoleSocket: path.join(dir, 'console.sock'),
          serialLog: path.join(dir, 'serial.log'),
          pidFile: path.join(dir, 'qemu.pid'),
          paused: true,
        }),
        logFile: path.join(dir, 'qemu.log'),
        exitFile: path.join(dir, 'exit'),
        pidFile: path.join(dir, 'qemu.pid'),
        qmpSocket: path.join(dir, 'qmp.sock'),
      }),
    };
  },
  skip ? { skip } : {},
);
