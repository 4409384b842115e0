import path from 'node:path';
import { FakeVmRuntime } from './fake-vm-runtime.ts';
import { vmRuntimeSuite } from './vm-runtime.suite.ts';

// The fake keeps the contract QEMU keeps (test/vm-runtime.test.ts runs the same suite on QEMU).
vmRuntimeSuite('fake', () => ({
  runtime: new FakeVmRuntime(),
  cpu: 0,
  request: (dir) => ({
    qemu: 'qemu-system-x86_64',
    argv: ['-machine', 'microvm', '-smp', '1', '-m', '64M', '-S'],
    logFile: path.join(dir, 'qemu.log'),
    exitFile: path.join(dir, 'exit'),
    pidFile: path.join(dir, 'qemu.pid'),
    qmpSocket: path.join(dir, 'qmp.sock'),
  }),
}));
