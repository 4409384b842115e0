import { isActive } from '../../core/container/state.ts';
import { InvalidArgumentError, NotFoundError } from '../../core/errors.ts';
import type { LocalEngine } from '../../engine/engine.ts';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** How often a wait for a container that is not running yet looks again (a start may come from any process). */
const POLL_MS = 50;

export function parseWaitCondition(v: string | null): WaitCondition {
  if (v === null || v === '') return 'not-running';
  if (v === 'not-running' || v === 'next-exit' || v === 'removed') return v;
  throw new InvalidArgumentError(`invalid condition: "${v}" (want not-running, next-exit or removed)`);
}

/**
 * docker's wait. `not-running` returns at once for a stopped container; `next-exit` and `removed` wait for a run
 * that has not begun yet (docker run sends wait before start). The engine waits on a running container; here we
 * only wait for it to begin. A run that starts and ends between two looks is seen through its start time, and a
 * container removed meanwhile (`--rm`) reports the exit code of its last `die` event.
 */
export async function waitForExit(
  engine: LocalEngine,
  id: string,
  condition: WaitCondition,
  signal: AbortSignal,
): Promise<number> {
  const first = engine.containers.store.find(id);
  if (!first) throw new NotFoundError(`No such container: ${id}`);
  const startedBefore = first.state.startedAt;
  let lastSeen = first.state.exitCode;
  for (;;) {
    if (signal.aborted) throw signal.reason;
    const rec = engine.containers.store.find(id);
    if (!rec) return lastExitCode(engine, id, lastSeen);
    lastSeen = rec.state.exitCode;
    if (isActive(rec.state.status)) {
      try {
        return await engine.containers.wait(id, condition);
      } catch (err) {
        if (err instanceof NotFoundError) return lastExitCode(engine, id, lastSeen);
        throw err;
      }
    }
    const ranMeanwhile = rec.state.startedAt !== startedBefore;
    if (condition === 'not-running' || (condition === 'next-exit' && ranMeanwhile)) return rec.state.exitCode;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** A removed container's exit code: its last `die` event, else (it never ran: a failed start) its record's. */
function lastExitCode(engine: LocalEngine, id: string, lastSeen: number): number {
  const { events } = engine.events.list({ type: ['container'], action: ['die'], container: [id] });
  const code = Number(events.at(-1)?.attributes.exitCode);
  return Number.isInteger(code) ? code : lastSeen;
}

/**
 * The exit code of a container already removed, from its `die` event; undefined when there is none. docker's CLI
 * sends wait alongside start: with `--rm` a container that lives a millisecond may be gone when the wait arrives.
 * Only a full id counts (a name may since belong to another container).
 */
export function exitCodeOfRemoved(engine: LocalEngine, id: string): number | undefined {
  if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
  const { events } = engine.events.list({ type: ['container'], action: ['die'], container: [id] });
  const code = Number(events.filter((e) => e.actorId === id).at(-1)?.attributes.exitCode);
  return Number.isInteger(code) ? code : undefined;
}
