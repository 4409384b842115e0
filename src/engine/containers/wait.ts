import type { ExitRecord } from '../../core/container/process-io.ts';
import { isActive } from '../../core/container/state.ts';
import { NotFoundError } from '../../core/errors.ts';
import type { ContainerRecord, WaitCondition } from '../api/containers.ts';
import { EventWakeup, OTHER_PROCESS_RECHECK_MS } from '../event-wakeup.ts';
import type { EventLog } from '../events/service.ts';
import type { ExitReport } from './exits.ts';
import type { ContainerStore } from './store.ts';

/** What a waiter needs: the records, the event log (wake-ups, the exit code of a removed container), the exits. */
export interface WaitContext {
  store: ContainerStore;
  events: EventLog;
  waitExit(rec: ContainerRecord, opts: { signal?: AbortSignal }): Promise<ExitRecord>;
  finalize(id: string, exit: ExitReport): Promise<void>;
}

/**
 * docker's wait, for every transport. `not-running` returns at once for a stopped container; `next-exit` and
 * `removed` wait for a run that has not begun yet (docker run sends wait before start). A running container's exit
 * is waited for on its exit file and recorded here. Until a run begins, the container's own events (start, die,
 * destroy) wake us at once when this process records them, and a slow re-check catches a start made by another
 * process sharing the store. A run that starts and ends between two looks is seen through its start time, and a
 * container removed meanwhile (`--rm`) reports the exit code of its last `die` event.
 */
export async function waitForCondition(
  ctx: WaitContext,
  ref: string,
  condition: WaitCondition,
  signal?: AbortSignal,
): Promise<number> {
  const first = ctx.store.get(ref);
  const id = first.id;
  const wakeup = new EventWakeup(ctx.events, {
    accept: (e) => e.type === 'container' && e.actorId === id,
    fallbackMs: OTHER_PROCESS_RECHECK_MS,
  });
  try {
    const startedBefore = first.state.startedAt;
    let lastSeen = first.state.exitCode;
    for (;;) {
      signal?.throwIfAborted();
      const rec = ctx.store.find(id);
      if (!rec) return ctx.events.lastExitCode(id) ?? lastSeen;
      lastSeen = rec.state.exitCode;
      if (isActive(rec.state.status)) {
        try {
          return await waitRun(ctx, rec, condition, signal);
        } catch (err) {
          if (err instanceof NotFoundError) return ctx.events.lastExitCode(id) ?? lastSeen;
          throw err;
        }
      }
      const ranMeanwhile = rec.state.startedAt !== startedBefore;
      if (condition === 'not-running' || (condition === 'next-exit' && ranMeanwhile))
        return rec.state.exitCode;
      await wakeup.next(signal);
    }
  } finally {
    wakeup.close();
  }
}

/**
 * A running container: waits for its exit and records it (with --rm and restart policies), then, for `removed`,
 * for the record to go.
 */
async function waitRun(
  ctx: WaitContext,
  rec: ContainerRecord,
  condition: WaitCondition,
  signal: AbortSignal | undefined,
): Promise<number> {
  // Subscribed before the exit is finalized: the removal (--rm) usually follows in this very process.
  const removal =
    condition === 'removed'
      ? new EventWakeup(ctx.events, {
          accept: (e) => e.type === 'container' && e.action === 'destroy' && e.actorId === rec.id,
          fallbackMs: OTHER_PROCESS_RECHECK_MS,
        })
      : undefined;
  try {
    const exit = await ctx.waitExit(rec, signal ? { signal } : {});
    await ctx.finalize(rec.id, exit);
    if (removal) while (ctx.store.find(rec.id)) await removal.next(signal);
    return exit.exitCode;
  } finally {
    removal?.close();
  }
}

/**
 * The exit code of a container already removed, from its `die` event; undefined when there is none. docker's CLI
 * sends wait alongside start: with `--rm` a container that lives a millisecond may be gone when the wait arrives.
 * Only a full id counts (a name may since belong to another container).
 */
export function exitCodeOfRemoved(
  ctx: Pick<WaitContext, 'store' | 'events'>,
  ref: string,
): number | undefined {
  if (!/^[0-9a-f]{64}$/.test(ref) || ctx.store.find(ref)) return undefined;
  return ctx.events.lastExitCode(ref);
}
