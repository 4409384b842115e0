import fs from 'node:fs';
import path from 'node:path';
import type { ContainerState } from '../../core/container/config.ts';
import type { ExitRecord } from '../../core/container/process-io.ts';
import { isActive, transition } from '../../core/container/state.ts';
import { mountPoints, unmount } from '../../drivers/mounts/overlay.ts';
import { pidRuns } from '../../drivers/proc/process.ts';
import type { OciRuntime } from '../../drivers/runtime/oci-runtime.ts';
import type { ContainerRecord } from '../api/containers.ts';
import type { EventLog } from '../events/service.ts';
import { monitorPidOf } from './bundle.ts';
import { busyAlive, NOT_BUSY } from './busy.ts';
import type { ExitReport } from './exits.ts';
import type { ContainerStore } from './store.ts';

/** What a reconcile needs: the records, the runtime's view, and the service's own finalize, remove and teardown. */
export interface ReconcileContext {
  store: ContainerStore;
  events: EventLog;
  runtime: Pick<OciRuntime, 'kill' | 'state'>;
  /** The directory holding one directory per container (layout.containers). */
  containersDir: string;
  bundle(id: string): string;
  readExit(rec: ContainerRecord): Promise<ExitRecord | undefined>;
  finalize(id: string, exit: ExitReport): Promise<void>;
  remove(id: string, opts: { force: boolean; volumes?: boolean }): Promise<void>;
  teardown(rec: ContainerRecord): Promise<void>;
}

/**
 * Brings records in line with reality after anything may have died: exits nobody recorded, monitors that died,
 * removals and starts cut short, root file systems left mounted. Cheap when all is well: two queries and one
 * mountinfo read. The daemon runs the same steps one container at a time behind its reconcile gate.
 */
export class ContainerReconciler {
  readonly #c: ReconcileContext;

  constructor(ctx: ReconcileContext) {
    this.#c = ctx;
  }

  async all(): Promise<void> {
    for (const rec of this.targets()) await this.one(rec.id);
    await this.strays();
  }

  /** Whether a running container's monitor died without leaving an exit (cheap: a /proc read per container). */
  hasDeadMonitor(): boolean {
    return this.#c.store
      .unsettled()
      .some(
        (r) =>
          isActive(r.state.status) &&
          r.state.monitorPid !== 0 &&
          !busyAlive(r.state) &&
          !pidRuns(r.state.monitorPid, { comm: 'conmon' }),
      );
  }

  /**
   * The records a reconcile must look at: those whose state says they may have processes or unfinished work, those
   * a dead process left marked busy, and those whose root file system is mounted while they do not run. Busy in a
   * live process, this one included, they are left to it: in the daemon, another request of ours is starting,
   * stopping or removing it right now (a CLI reconciles before it marks anything busy, so its own pid is never
   * stale here). With `restore` (a daemon starting, as dockerd's restore): --rm containers that do not run, too.
   */
  targets(opts: { restore?: boolean } = {}): ContainerRecord[] {
    const store = this.#c.store;
    const targets = new Map<string, ContainerRecord>();
    for (const rec of [...store.unsettled(), ...store.markedBusy()]) targets.set(rec.id, rec);
    if (opts.restore) {
      for (const rec of store.all())
        if (rec.config.autoRemove && !isActive(rec.state.status)) targets.set(rec.id, rec);
    }
    for (const id of this.#mountedRootfs().keys()) {
      const rec = targets.has(id) ? undefined : store.find(id);
      if (rec && !isActive(rec.state.status)) targets.set(id, rec);
    }
    return [...targets.values()].filter((r) => !busyAlive(r.state));
  }

  /** One container of `targets`. */
  async one(id: string, opts: { restore?: boolean } = {}): Promise<void> {
    const rec = this.#c.store.find(id);
    if (!rec || busyAlive(rec.state)) return;
    if (rec.state.status === 'removing') {
      await this.#c.remove(rec.id, { force: true }).catch(() => {});
      return;
    }
    if (isActive(rec.state.status)) {
      const monitorGone = rec.state.monitorPid !== 0 && !pidRuns(rec.state.monitorPid, { comm: 'conmon' });
      // Read after the liveness check: a monitor writes the exit file before it exits.
      const exit = await this.#c.readExit(rec);
      if (exit) {
        await this.#c.finalize(rec.id, exit);
      } else if (monitorGone) {
        // The monitor died: nobody can report this container's exit any more. Stop it and say so.
        await this.#c.runtime.kill(rec.id, 'SIGKILL', { all: true }).catch(() => {});
        await this.#c.finalize(rec.id, {
          exitCode: 255,
          finishedAt: Date.now(),
          oomKilled: false,
          error: 'the container monitor died',
        });
      }
      return;
    }
    // Not running, and a dead process's busy mark or a mounted root file system says some work was cut short.
    const startCutShort = rec.state.busyPid !== undefined && rec.state.status === 'created';
    if (startCutShort && (await this.#adoptStarted(rec))) return;
    await this.#c.teardown(rec).catch(() => {});
    this.#c.store.updateState(rec.id, (r) => ({
      ...r.state,
      ...NOT_BUSY,
      ...(startCutShort ? { error: `the start was cut short: process ${rec.state.busyPid} died` } : {}),
    }));
    // As dockerd: an --rm container whose start failed goes (and one whose exit's clean-up was cut short); at a
    // daemon's start, every --rm container that does not run.
    if (rec.config.autoRemove && (rec.state.busyPid !== undefined || opts.restore)) {
      await this.#c.remove(rec.id, { force: true, volumes: true }).catch(() => {});
    }
  }

  /**
   * A start cut short after its process began (runc started it, the record still says created): it is recorded
   * running, as docker would show it — and, when it already ended (its exit file is there), exited with its code.
   */
  async #adoptStarted(rec: ContainerRecord): Promise<boolean> {
    const exit = await this.#c.readExit(rec);
    const state = exit ? undefined : await this.#c.runtime.state(rec.id).catch(() => undefined);
    const monitorPid = monitorPidOf(this.#c.bundle(rec.id)) ?? 0;
    if (!exit && (state?.status !== 'running' || !pidRuns(monitorPid, { comm: 'conmon' }))) return false;
    const adopted = this.#c.store.updateState(rec.id, (r) =>
      r.state.status !== 'created'
        ? undefined
        : transition(r.name, r.state, 'running', runningNow(state?.pid ?? 0, monitorPid)),
    );
    if (adopted?.state.status !== 'running') return false;
    this.#c.events.record('container', 'start', rec.id, { name: rec.name, image: rec.config.image });
    if (exit) await this.#c.finalize(rec.id, exit);
    return true;
  }

  /** Root file systems left mounted under the root by containers that have no record any more. */
  async strays(): Promise<void> {
    for (const [id, mount] of this.#mountedRootfs()) {
      if (this.#c.store.find(id)) continue;
      await unmount(mount).catch(() => {});
      fs.rmSync(path.dirname(mount), { recursive: true, force: true });
    }
  }

  /** Container id → its mounted root file system, from one mountinfo read. */
  #mountedRootfs(): Map<string, string> {
    const prefix = `${this.#c.containersDir}/`;
    const out = new Map<string, string>();
    for (const mount of mountPoints()) {
      if (mount.startsWith(prefix) && mount.endsWith('/rootfs'))
        out.set(mount.slice(prefix.length, -'/rootfs'.length), mount);
    }
    return out;
  }
}

/** The state fields of a run that begins now: its pids, a clean slate for the exit, no busy mark. */
export function runningNow(pid: number, monitorPid: number): Partial<ContainerState> {
  return {
    pid,
    monitorPid,
    startedAt: Date.now(),
    exitCode: 0,
    oomKilled: false,
    error: '',
    ...NOT_BUSY,
  };
}
