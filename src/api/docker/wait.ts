import { isActive } from '../../core/container/state.ts';
import { InvalidArgumentError, NotFoundError } from '../../core/errors.ts';
import { EventWakeup, OTHER_PROCESS_RECHECK_MS } from '../../engine/event-wakeup.ts';
import type { LocalEngine } from '../../engine/local-engine.ts';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export function parseWaitCondition(v: string | null): WaitCondition {
  if (v === null || v === '') return 'not-running';
  if (v === 'not-running' || v === 'next-exit' || v === 'removed') return v;
  throw new InvalidArgumentError(`invalid condition: "${v}" (want not-running, next-exit or removed)`);
}

/**
 * docker's wait. `not-running` returns at once for a stopped container; `next-exit` and `removed` wait for a run
 * that has not begun yet (docker run sends wait before start). The engine waits on a running container; here we
 * only wait for it to begin: the container's own events (start, die, destroy) wake us at once when this process
 * records them, and a slow re-check catches a start made by another process sharing the store. A run that starts
 * and ends between two looks is seen through its start time, and a container removed meanwhile (`--rm`) reports
 * the exit code of its last `die` event.
 */
export async function waitForExit(
  engine: LocalEngine,
  id: string,
  condition: WaitCondition,
  signal: AbortSignal,
): Promise<number> {
  const wakeup = new EventWakeup(engine.events, {
    accept: (e) => e.type === 'container' && e.actorId === id,
    fallbackMs: OTHER_PROCESS_RECHECK_MS,
  });
  try {
    const first = engine.containers.store.find(id);
    if (!first) throw new NotFoundError(`No such container: ${id}`);
    const startedBefore = first.state.startedAt;
    let lastSeen = first.state.exitCode;
    for (;;) {
      signal.throwIfAborted();
      const rec = engine.containers.store.find(id);
      if (!rec) return engine.events.lastExitCode(id) ?? lastSeen;
      lastSeen = rec.state.exitCode;
      if (isActive(rec.state.status)) {
        try {
          return await engine.containers.wait(id, condition, { signal });
        } catch (err) {
          if (err instanceof NotFoundError) return engine.events.lastExitCode(id) ?? lastSeen;
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
 * The exit code of a container already removed, from its `die` event; undefined when there is none. docker's CLI
 * sends wait alongside start: with `--rm` a container that lives a millisecond may be gone when the wait arrives.
 * Only a full id counts (a name may since belong to another container).
 */
export function exitCodeOfRemoved(engine: LocalEngine, id: string): number | undefined {
  if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
  return engine.events.lastExitCode(id);
}
