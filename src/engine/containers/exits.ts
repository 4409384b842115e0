import fs from 'node:fs';
import type { ContainerConfig, ContainerState } from '../../core/container/config.ts';
import type { ExitRecord } from '../../core/container/process-io.ts';
import { isActive, transition } from '../../core/container/state.ts';
import { mark } from '../../core/trace.ts';
import { pidRuns } from '../../drivers/proc/process.ts';
import type { ContainerRecord } from '../api/containers.ts';
import { EventWakeup } from '../event-wakeup.ts';
import type { EventLog } from '../events/service.ts';
import { busyAlive, busyMark, NOT_BUSY } from './busy.ts';
import type { ContainerStore } from './store.ts';

/** What exit handling needs: the records, the event log, where exit files are, and a run's teardown. */
export interface ExitContext {
  store: ContainerStore;
  events: EventLog;
  readExit(rec: ContainerRecord): Promise<ExitRecord | undefined>;
  /** The runtime's exit waiter (OciRuntime.waitExit) on this run's exit file. */
  waitExit(rec: ContainerRecord, signal: AbortSignal): Promise<ExitRecord>;
  exitDir: string;
  teardown(rec: ContainerRecord): Promise<void>;
}

/** What must follow an exit, decided once it is recorded; the service carries it out (it owns remove and start). */
export type AfterExit =
  | { action: 'none' }
  | { action: 'remove' }
  | { action: 'restart'; delayMs: number }
  /** Another process recorded this exit: what follows is its to do. */
  | { action: 'not-ours' };

/** A run's exit and its error, when the engine rather than the process ended it (a dead monitor). */
export type ExitReport = ExitRecord & { error?: string };

export class ExitTimeoutError extends Error {}

/**
 * The end of a run: the exit file the monitor writes, waited for and read; the exit recorded once whoever sees it
 * first (the waiting CLI, the monitor's exit command, the daemon's watcher, a reconcile); and the decision of what
 * follows it, --rm or a restart policy.
 */
export class ContainerExits {
  readonly #c: ExitContext;

  constructor(ctx: ExitContext) {
    this.#c = ctx;
  }

  /**
   * Records an exit once: the first process to see it moves the container to exited and tears the run down; the
   * others wait until that is done (so that a restart's start does not race it) and get `not-ours`.
   */
  async record(id: string, exit: ExitReport): Promise<AfterExit> {
    let claimed = false;
    const rec = this.#c.store.updateState(id, (r) => {
      if (!isActive(r.state.status)) return undefined;
      claimed = true;
      return transition(r.name, r.state, 'exited', {
        exitCode: exit.exitCode,
        oomKilled: exit.oomKilled,
        finishedAt: exit.finishedAt,
        error: exit.error ?? '',
        pid: 0,
        monitorPid: 0,
        ...busyMark(),
      });
    });
    if (!rec || !claimed) {
      await this.#untilSettled(id);
      return { action: 'not-ours' };
    }
    mark('finalize: claimed');
    try {
      await this.#c.teardown(rec);
      mark('finalize: torn down');
    } finally {
      this.#c.store.updateState(id, (r) => ({ ...r.state, ...NOT_BUSY }));
    }
    const actor = { name: rec.name, image: rec.config.image };
    if (exit.oomKilled) this.#c.events.record('container', 'oom', id, actor);
    this.#c.events.record('container', 'die', id, { ...actor, exitCode: String(exit.exitCode) });
    return afterExit(rec.config, rec.state);
  }

  /** Until no live process is busy with the container (at most 10 s: a stuck one must not block forever). */
  async #untilSettled(id: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    // This process's own finalize records `die` as soon as it lets go, which wakes us at once (the daemon's exit
    // watcher and a waiter racing for one exit); another process's is seen by looking again every 25 ms.
    const wakeup = new EventWakeup(this.#c.events, {
      accept: (e) => e.type === 'container' && e.actorId === id,
      fallbackMs: 25,
    });
    try {
      while (Date.now() < deadline) {
        const state = this.#c.store.find(id)?.state;
        if (state?.busyPid === undefined || (state.busyPid !== process.pid && !busyAlive(state))) return;
        await wakeup.next();
      }
    } finally {
      wakeup.close();
    }
  }

  /**
   * Resolves when the monitor has written the exit file (the runtime's exit waiter), when another process has
   * recorded this run's exit, or when the monitor died without writing it (255); rejects after `timeoutMs`
   * (ExitTimeoutError) or when `signal` aborts (a client that went away).
   */
  async wait(
    rec: ContainerRecord,
    opts: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<ExitRecord> {
    const { timeoutMs, signal } = opts;
    fs.mkdirSync(this.#c.exitDir, { recursive: true });
    const first = await this.#c.readExit(rec);
    if (first) return first;
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      let done = false;
      let checking = false;
      const stop = new AbortController();
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        stop.abort();
        clearInterval(poll);
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => finish(() => reject(signal!.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#c.waitExit(rec, stop.signal).then(
        (exit) => finish(() => resolve(exit)),
        (err) => finish(() => reject(err)),
      );
      // What the exit file cannot tell: another process recorded the exit (and removed the file), or the monitor
      // that would write it is gone.
      const recheck = () => {
        if (checking || done) return;
        const settled = this.#settledExit(rec);
        if (settled) return finish(() => resolve(settled));
        if (this.#monitorAlive(rec)) return;
        checking = true;
        // The monitor writes the exit file, then exits: look once more before calling it lost.
        this.#c.readExit(rec).then(
          (late) =>
            finish(() => resolve(late ?? { exitCode: 255, finishedAt: Date.now(), oomKilled: false })),
          (err) => finish(() => reject(err)),
        );
      };
      const poll = setInterval(recheck, 1000);
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () =>
                finish(() =>
                  reject(
                    new ExitTimeoutError(`container ${rec.name} did not exit within ${timeoutMs / 1000} s`),
                  ),
                ),
              timeoutMs,
            );
      recheck();
    });
  }

  /**
   * The exit another process already recorded (the daemon's exit watcher, the monitor's clean-up command): it
   * removes the exit file when it finalizes, so a waiter must also look at the record.
   */
  #settledExit(rec: ContainerRecord): ExitRecord | undefined {
    const now = this.#c.store.find(rec.id);
    if (!now) return undefined;
    const finishedThisRun = (now.state.finishedAt ?? 0) >= (rec.state.startedAt ?? Number.POSITIVE_INFINITY);
    if (!(now.state.status === 'exited' || now.state.status === 'dead') || !finishedThisRun) return undefined;
    return {
      exitCode: now.state.exitCode,
      finishedAt: now.state.finishedAt ?? Date.now(),
      oomKilled: now.state.oomKilled,
    };
  }

  #monitorAlive(rec: ContainerRecord): boolean {
    const current = this.#c.store.find(rec.id);
    const pid = current?.state.monitorPid ?? rec.state.monitorPid;
    if (!pid) return true; // not known yet (start in progress): assume alive, the exit file will tell
    return pidRuns(pid, { comm: 'conmon' });
  }
}

/** docker's rules for what follows an exit: --rm removes; else the restart policy, with its back-off. */
export function afterExit(config: ContainerConfig, state: ContainerState): AfterExit {
  if (config.autoRemove) return { action: 'remove' };
  if (shouldRestart(config, state)) return { action: 'restart', delayMs: restartDelayMs(state.restartCount) };
  return { action: 'none' };
}

function shouldRestart(config: ContainerConfig, state: ContainerState): boolean {
  if (state.stoppedByUser) return false;
  switch (config.restart.name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return (
        state.exitCode !== 0 &&
        (config.restart.maximumRetryCount === 0 || state.restartCount < config.restart.maximumRetryCount)
      );
    default:
      return false;
  }
}

/** docker's back-off: 100 ms doubling per restart, at most a minute. */
function restartDelayMs(restartCount: number): number {
  return Math.min(100 * 2 ** restartCount, 60_000);
}
