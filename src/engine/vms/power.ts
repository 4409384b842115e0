import fs from 'node:fs';
import { ConflictError, FailedPreconditionError } from '../../core/errors.ts';
import { exitReasonOf, type VmState } from '../../core/vm/state.ts';
import { pidRuns } from '../../drivers/proc/process.ts';
import type { VmControl } from '../../drivers/qemu/vm-runtime.ts';
import type { VmRecord } from '../api/vms.ts';
import type { VmContext } from './context.ts';

/** The parts of the context that stopping, killing and finalizing use. */
export type PowerContext = Pick<VmContext, 'db' | 'store' | 'runtime' | 'networks' | 'events' | 'paths'>;

/**
 * `vm stop`: ACPI power-down through QMP, then a hard stop (QMP `quit`, then SIGKILL) once `timeSeconds` pass.
 * Returns when QEMU is gone and its network and sockets are cleaned up.
 */
export async function stopVm(
  ctx: PowerContext,
  ref: string,
  opts: { timeSeconds?: number } = {},
): Promise<VmRecord> {
  const rec = markStopping(ctx, ref, 'stop');
  if (!rec) return ctx.store.get(ref);
  const { runtime } = ctx;
  const grace = (opts.timeSeconds ?? 10) * 1000;
  let control: VmControl | undefined;
  try {
    control = await runtime.control(ctx.paths(rec.id).qmpSocket, { timeoutMs: 2000 });
    await control.powerDown();
  } catch {
    // No QMP (QEMU hung or gone): the deadline below decides.
  }
  let gone = grace > 0 ? await runtime.waitExit(rec.state.qemu, grace) : !runtime.isAlive(rec.state.qemu);
  const poweredOff = gone;
  if (!gone && control) {
    await control.quit().catch(() => {});
    gone = await runtime.waitExit(rec.state.qemu, 2000);
  }
  control?.close();
  if (!gone) {
    if (rec.state.qemu) runtime.kill(rec.state.qemu);
    await runtime.waitExit(rec.state.qemu, 5000);
  }
  return finalizeVm(
    ctx,
    rec,
    poweredOff ? undefined : `the guest did not power off within ${grace / 1000} s`,
  );
}

/** `vm kill`: SIGKILL to QEMU (the very process started, checked by its start time). */
export async function killVm(ctx: PowerContext, ref: string): Promise<VmRecord> {
  const rec = markStopping(ctx, ref, 'kill');
  if (!rec) return ctx.store.get(ref);
  if (rec.state.qemu) ctx.runtime.kill(rec.state.qemu);
  await ctx.runtime.waitExit(rec.state.qemu, 5000);
  return finalizeVm(ctx, rec);
}

/** Marks a running VM as stopping (busy by this process); undefined when it is not running (nothing to do). */
function markStopping(ctx: PowerContext, ref: string, requested: 'stop' | 'kill'): VmRecord | undefined {
  return ctx.db.transaction(() => {
    const r = ctx.store.get(ref);
    if (r.state.status === 'created' || r.state.status === 'stopped') {
      throw new FailedPreconditionError(`VM ${r.name} is not running (state: ${r.state.status})`);
    }
    if (r.state.busyPid && r.state.busyPid !== process.pid && pidRuns(r.state.busyPid)) {
      throw new ConflictError(
        `VM ${r.name} is ${r.state.status} by another command (pid ${r.state.busyPid})`,
      );
    }
    const state: VmState = { ...r.state, status: 'stopping', requested, busyPid: process.pid };
    ctx.store.setState(r.id, state);
    return { ...r, state };
  });
}

/** QEMU is gone: records why, removes the taps, sockets and exit file, frees the record for the next start. */
export async function finalizeVm(ctx: PowerContext, rec: VmRecord, hardStop?: string): Promise<VmRecord> {
  const p = ctx.paths(rec.id);
  // The waiter writes the exit status a moment after QEMU exits.
  await ctx.runtime.waitExit(rec.state.waiter, 2000);
  const status = ctx.runtime.exitStatus(p.exitFile);
  const reason =
    exitReasonOf({
      status,
      requested: rec.state.requested,
      qemuComplaint: status !== undefined && status !== 0 ? ctx.runtime.complaint(p.qemuLog) : undefined,
    }) + (hardStop ? `, hard stop: ${hardStop}` : '');
  await ctx.networks.detachTaps(rec.id);
  fs.rmSync(p.runDir, { recursive: true, force: true });
  const { busyPid: _b, requested: _r, qemu: _q, waiter: _w, ...kept } = rec.state;
  const state: VmState = {
    ...kept,
    status: 'stopped',
    finishedAt: Date.now(),
    exitReason: reason,
    ...(status !== undefined ? { exitStatus: status } : {}),
  };
  ctx.store.setState(rec.id, state);
  ctx.events?.record('vm', 'die', rec.id, { name: rec.name, reason });
  return { ...rec, state };
}
