import { isAlive, signalIfSame, waitGone } from '../proc/process.ts';
import { lastComplaint, launchQemu, readExitFile } from './launcher.ts';
import { pinVcpus } from './pinning.ts';
import { parseCpusFast, QmpClient } from './qmp-client.ts';
import type { VmControl, VmRuntime } from './vm-runtime.ts';

/** VmRuntime on the real QEMU: the launcher's waiter, QMP over its unix socket, taskset for pinning, /proc. */
export class QemuRuntime implements VmRuntime {
  launch = launchQemu;

  async control(qmpSocket: string, opts: { timeoutMs?: number } = {}): Promise<VmControl> {
    const qmp = await QmpClient.connect(qmpSocket, opts);
    return {
      vcpuThreads: async () => parseCpusFast(await qmp.execute('query-cpus-fast')),
      resume: async () => {
        await qmp.execute('cont');
      },
      powerDown: async () => {
        await qmp.execute('system_powerdown');
      },
      quit: async () => {
        await qmp.execute('quit');
      },
      close: () => qmp.close(),
    };
  }

  pin = pinVcpus;
  isAlive = isAlive;
  kill = (p: Parameters<typeof signalIfSame>[0]) => signalIfSame(p);
  waitExit = waitGone;
  exitStatus = readExitFile;
  complaint = lastComplaint;
}
