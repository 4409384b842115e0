import { isVmActive } from '../../core/vm/state.ts';
import { pidRuns } from '../../drivers/proc/process.ts';
import type { VmRecord } from '../api/vms.ts';
import { finalizeVm, type PowerContext } from './power.ts';

/**
 * The VMs a reconcile must look at: those that may have a QEMU. Busy in a live process, this one included, they
 * are left to it: in the daemon, another request of ours is starting or stopping it right now (a CLI reconciles
 * before it marks anything busy, so its own pid is never found here).
 */
export function reconcileTargets(ctx: Pick<PowerContext, 'store'>): VmRecord[] {
  return ctx.store.all().filter((r) => isVmActive(r.state.status) && !busyElsewhere(r));
}

/**
 * One VM of `reconcileTargets`: one whose QEMU is gone (crashed, killed, the host rebooted) is finalized with its
 * exit reason; a start or stop cut short by a dead command is finished (whatever QEMU it left is killed).
 */
export async function reconcileOne(ctx: PowerContext, id: string): Promise<void> {
  const rec = ctx.store.find(id);
  if (!rec || !isVmActive(rec.state.status) || busyElsewhere(rec)) return;
  if (rec.state.status === 'starting' || rec.state.status === 'stopping') {
    if (rec.state.qemu) ctx.runtime.kill(rec.state.qemu);
    await finalizeVm(ctx, rec);
    return;
  }
  if (!ctx.runtime.isAlive(rec.state.qemu)) await finalizeVm(ctx, rec);
}

/** For a long-running engine: whether a running VM's QEMU is gone (killed, crashed, powered off by its guest). */
export function hasDeadQemu(ctx: Pick<PowerContext, 'store' | 'runtime'>): boolean {
  return ctx.store
    .all()
    .some(
      (r) =>
        r.state.status === 'running' && r.state.busyPid === undefined && !ctx.runtime.isAlive(r.state.qemu),
    );
}

function busyElsewhere(r: VmRecord): boolean {
  return r.state.busyPid !== undefined && pidRuns(r.state.busyPid);
}
