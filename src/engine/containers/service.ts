import fs from 'node:fs';
import type { AttachSession } from '../../core/container/process-io.ts';
import { canTransition, isActive, transition } from '../../core/container/state.ts';
import { stateClause } from '../../core/container/status-text.ts';
import { ConflictError, HyperboxError, NotFoundError } from '../../core/errors.ts';
import { validateName } from '../../core/ids.ts';
import { mark } from '../../core/trace.ts';
import type { OverlayPlan } from '../../drivers/mounts/overlay.ts';
import type { ExitRecord } from '../../drivers/runtime/oci-runtime.ts';
import type { ContainerRecord, CreateRequest, StartOptions, WaitCondition } from '../api/containers.ts';
import type { EventLog } from '../events/service.ts';
import type { ContainerCpuPool } from '../host/ledger.ts';
import { ANONYMOUS_LABEL, type VolumeService } from '../volumes/service.ts';
import { ContainerAccess, type ContainerAccessDeps } from './access.ts';
import { RunBundles } from './bundle.ts';
import { busyAlive, busyMark, NOT_BUSY } from './busy.ts';
import { checkCpuset, confineToSharedCpus } from './cpus.ts';
import { newContainerRecord } from './create.ts';
import { ContainerExits, type ExitReport, ExitTimeoutError } from './exits.ts';
import { abortLog, prepareLog } from './logs.ts';
import { ContainerReconciler, runningNow } from './reconcile.ts';
import { ContainerStore } from './store.ts';
import { exitCodeOfRemoved, waitForCondition } from './wait.ts';

export interface ContainerServiceDeps extends ContainerAccessDeps {
  events: EventLog;
  volumes: VolumeService;
  /** argv prefix that runs this CLI (node + main.ts), for the monitor's exit command. */
  selfCommand: string[];
  /** Keeps containers off VMs' dedicated CPUs (the ledger); absent, containers may use every CPU. */
  cpuPool?: ContainerCpuPool;
  /** The native log writer's executable (dist/native/hbx-logwriter). */
  logWriter: string;
  /** Mounts a run's root file system (default: the overlay driver); unit tests without root pass a directory maker. */
  mountRootfs?: (plan: OverlayPlan) => Promise<void>;
}

/**
 * The container life cycle: create, start, stop, kill, remove, wait, and the clean-up that follows every exit.
 * The record in the store is the engine's memory; the runtime (monitor + runc) is the truth about processes, and
 * `reconcile` brings the first in line with the second at the start of every command.
 */
export class ContainerService extends ContainerAccess {
  readonly #d: ContainerServiceDeps;
  readonly #bundles: RunBundles;
  readonly #exits: ContainerExits;
  readonly #reconciler: ContainerReconciler;

  constructor(deps: ContainerServiceDeps) {
    const store = new ContainerStore(deps.db);
    super(deps, store);
    this.#d = deps;
    this.#bundles = new RunBundles({
      layout: deps.layout,
      find: (id) => store.find(id),
      images: deps.images,
      volumes: deps.volumes,
      networks: deps.networks,
      runtime: deps.runtime,
      ...(deps.cpuPool ? { cpuPool: deps.cpuPool } : {}),
      ...(deps.mountRootfs ? { mountRootfs: deps.mountRootfs } : {}),
      checkCpuset: (config) => checkCpuset(deps.cpuPool, config),
    });
    const teardown = (rec: ContainerRecord) => this.#bundles.teardown(rec);
    const bundle = (id: string) => this.paths(id).bundle;
    this.#exits = new ContainerExits({
      store,
      events: deps.events,
      readExit: (rec) => this.readExit(rec),
      waitExit: (rec, signal) =>
        deps.runtime.waitExit({ id: rec.id, exitDir: deps.layout.exits, bundle: bundle(rec.id), signal }),
      exitDir: deps.layout.exits,
      teardown,
    });
    this.#reconciler = new ContainerReconciler({
      store,
      events: deps.events,
      runtime: deps.runtime,
      containersDir: deps.layout.containers,
      bundle,
      readExit: (rec) => this.readExit(rec),
      finalize: (id, exit) => this.finalize(id, exit),
      remove: (id, opts) => this.remove(id, opts),
      teardown,
    });
  }

  async create(req: CreateRequest): Promise<{ id: string; warnings: string[] }> {
    const { rec, warnings } = await newContainerRecord(
      {
        store: this.store,
        images: this.#d.images,
        networks: this.#d.networks,
        logDefaults: this.#d.logDefaults,
        requireRoom: (what) => this.#d.db.space.requireRoom(what),
        checkCpuset: (config) => checkCpuset(this.#d.cpuPool, config),
      },
      req,
    );
    this.store.insert(rec);
    fs.mkdirSync(this.paths(rec.id).dir, { recursive: true, mode: 0o700 });
    this.#d.events.record('container', 'create', rec.id, { name: rec.name, image: rec.config.image });
    return { id: rec.id, warnings };
  }

  async start(
    ref: string,
    opts: StartOptions,
  ): Promise<{ record: ContainerRecord; session?: AttachSession }> {
    const rec = this.store.get(ref);
    const now = Date.now();
    if (rec.state.status === 'running' && !opts.attach) return { record: rec };
    if (rec.state.status === 'paused')
      throw new ConflictError(`cannot start a paused container ${rec.name}, try unpause instead`);
    if (isActive(rec.state.status))
      throw new ConflictError(`container ${rec.name} is already ${stateClause(rec.state, now)}`);
    if (!canTransition(rec.state.status, 'running')) {
      throw new ConflictError(`container ${rec.name} cannot be started: it is ${rec.state.status}`);
    }
    this.#d.db.space.requireRoom(`cannot start container ${rec.name}`);
    this.store.updateState(rec.id, (r) => ({ ...r.state, ...busyMark() }));
    const p = this.paths(rec.id);
    try {
      await this.#bundles.teardown(rec);
      mark('start: teardown done');
      await this.#bundles.prepare(rec, opts.consoleSize);
      mark('start: rootfs and spec ready');
      const exitCommand = opts.detached
        ? [...this.#d.selfCommand, ...this.#rootArgs(), 'container', 'cleanup', rec.id]
        : undefined;
      const log = await prepareLog(rec, p, this.#d.logWriter);
      mark('start: log ready');
      const { pid, monitorPid } = await this.#d.runtime.create({
        id: rec.id,
        name: rec.name,
        bundle: p.bundle,
        ...(log.path !== undefined ? { logPath: log.path } : {}),
        ...(log.sizeMax !== undefined ? { logSizeMax: log.sizeMax } : {}),
        exitDir: this.#d.layout.exits,
        terminal: rec.config.tty,
        stdin: rec.config.openStdin,
        ...(exitCommand ? { exitCommand } : {}),
      });
      const session = opts.attach
        ? await this.#d.runtime.attach(p.bundle, { stdin: opts.attach.stdin })
        : undefined;
      mark('start: attached');
      try {
        await this.#d.runtime.start(rec.id);
        mark('start: runtime started');
      } catch (err) {
        session?.close();
        throw err;
      }
      const record = this.store.updateState(rec.id, (r) =>
        transition(r.name, r.state, 'running', {
          ...runningNow(pid, monitorPid),
          restartCount: r.state.restartCount + (opts.restart ? 1 : 0),
        }),
      )!;
      this.#d.events.record('container', 'start', rec.id, { name: rec.name, image: rec.config.image });
      return { record, ...(session ? { session } : {}) };
    } catch (err) {
      abortLog(p);
      await this.#bundles.teardown(rec).catch(() => {});
      const e = err instanceof HyperboxError ? err : undefined;
      const exitCode = e?.code === 'CommandNotFound' ? 127 : e?.code === 'CannotExecute' ? 126 : 128;
      try {
        this.store.updateState(rec.id, (r) => ({
          ...r.state,
          exitCode,
          error: err instanceof Error ? err.message : String(err),
          ...NOT_BUSY,
        }));
      } catch {
        // Not recorded (the disk is full too): the start's own error is the one that counts.
      }
      // As dockerd: an --rm container whose start failed goes (its waiters then see it gone), for every caller.
      if (rec.config.autoRemove) await this.remove(rec.id, { force: true }).catch(() => {});
      throw err;
    }
  }

  /** Moves running containers without a cpuset of their own onto the shared CPUs (a VM reserved some). */
  confineToSharedCpus(): Promise<string[]> {
    return confineToSharedCpus(this.store.all(), this.#d.cpuPool, this.#d.runtime);
  }

  #rootArgs(): string[] {
    return this.#d.layout.rootOption ? ['--root', this.#d.layout.rootOption] : [];
  }

  /**
   * Records an exit once (ContainerExits.record: the first process to see it), then carries out what follows it:
   * --rm, or the restart policy after its back-off.
   */
  async finalize(id: string, exit: ExitReport): Promise<void> {
    const next = await this.#exits.record(id, exit);
    if (next.action === 'remove') {
      await this.remove(id, { force: true, volumes: true }).catch(() => {});
      return;
    }
    if (next.action !== 'restart') return;
    await sleep(next.delayMs);
    const current = this.store.find(id);
    // A user may have stopped or removed it meanwhile.
    if (current?.state.status !== 'exited' || current.state.stoppedByUser) return;
    await this.start(id, { detached: true, restart: true }).catch(() => {});
    this.#d.events.record('container', 'restart', id, { name: current.name, image: current.config.image });
  }

  /** The monitor's exit command: record the exit of a container nobody was waiting for. */
  async onExit(id: string): Promise<void> {
    const rec = this.store.find(id);
    if (!rec) return;
    // Another live process (a daemon's exit watcher, a waiting CLI) is on it. Waiting for it here would hold up the
    // monitor, which waits for this exit command, while that process's teardown waits for the monitor to go.
    if (rec.state.busyPid !== process.pid && busyAlive(rec.state)) return;
    const exit = await this.readExit(rec);
    if (exit) await this.finalize(id, exit);
  }

  /** docker's wait (engine/containers/wait.ts): the exit code once `condition` holds. */
  wait(
    ref: string,
    condition: WaitCondition = 'not-running',
    opts: { signal?: AbortSignal } = {},
  ): Promise<number> {
    return waitForCondition(
      {
        store: this.store,
        events: this.#d.events,
        waitExit: (rec, o) => this.#exits.wait(rec, o),
        finalize: (id, exit) => this.finalize(id, exit),
      },
      ref,
      condition,
      opts.signal,
    );
  }

  /** The exit code of a container already removed (by its full id), from its last `die`; else undefined. */
  exitCodeOfRemoved(id: string): number | undefined {
    return exitCodeOfRemoved({ store: this.store, events: this.#d.events }, id);
  }

  async stop(ref: string, opts: { timeoutSeconds?: number; signal?: string } = {}): Promise<boolean> {
    const rec = this.store.get(ref);
    if (!isActive(rec.state.status)) return false;
    this.store.updateState(rec.id, (r) => ({ ...r.state, stoppedByUser: true }));
    const signal = opts.signal ?? rec.config.stopSignal ?? 'SIGTERM';
    const timeout = opts.timeoutSeconds ?? rec.config.stopTimeout ?? 10;
    if (rec.state.status === 'paused') await this.#d.runtime.resume(rec.id).catch(() => {});
    let exit: ExitRecord | undefined;
    if (timeout !== 0) {
      await this.#d.runtime.kill(rec.id, signal).catch(() => {});
      exit = await this.#exits.wait(rec, timeout < 0 ? {} : { timeoutMs: timeout * 1000 }).catch((err) => {
        if (err instanceof ExitTimeoutError) return undefined;
        throw err;
      });
    }
    if (!exit) {
      await this.#d.runtime.kill(rec.id, 'SIGKILL', { all: true }).catch(() => {});
      exit = await this.#exits.wait(rec, { timeoutMs: 10_000 });
    }
    await this.finalize(rec.id, exit);
    this.#d.events.record('container', 'stop', rec.id, { name: rec.name, image: rec.config.image });
    return true;
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const rec = this.store.get(ref);
    if (!isActive(rec.state.status)) {
      throw new ConflictError(
        `cannot kill container: ${rec.name}: container is not running (${stateClause(rec.state, Date.now())})`,
      );
    }
    this.store.updateState(rec.id, (r) => ({ ...r.state, stoppedByUser: true }));
    await this.#d.runtime.kill(rec.id, signal);
    this.#d.events.record('container', 'kill', rec.id, { name: rec.name, image: rec.config.image, signal });
  }

  async restart(ref: string, opts: { timeoutSeconds?: number } = {}): Promise<void> {
    const rec = this.store.get(ref);
    await this.stop(rec.id, opts);
    this.store.updateState(rec.id, (r) => ({ ...r.state, stoppedByUser: false }));
    await this.start(rec.id, { detached: true });
    this.#d.events.record('container', 'restart', rec.id, { name: rec.name, image: rec.config.image });
  }

  async pause(ref: string): Promise<void> {
    const rec = this.store.get(ref);
    if (rec.state.status !== 'running') {
      throw new ConflictError(`container ${rec.name} is not running (${stateClause(rec.state, Date.now())})`);
    }
    await this.#d.runtime.pause(rec.id);
    this.store.updateState(rec.id, (r) => transition(r.name, r.state, 'paused'));
    this.#d.events.record('container', 'pause', rec.id, { name: rec.name, image: rec.config.image });
  }

  async unpause(ref: string): Promise<void> {
    const rec = this.store.get(ref);
    if (rec.state.status !== 'paused')
      throw new ConflictError(`container ${rec.name} is not paused (${rec.state.status})`);
    await this.#d.runtime.resume(rec.id);
    this.store.updateState(rec.id, (r) => transition(r.name, r.state, 'running'));
    this.#d.events.record('container', 'unpause', rec.id, { name: rec.name, image: rec.config.image });
  }

  rename(ref: string, newName: string): void {
    const rec = this.store.get(ref);
    const name = validateName(newName, 'container');
    if (this.store.nameTaken(name)) {
      throw new ConflictError(`the container name "/${name}" is already in use`);
    }
    this.store.rename(rec.id, name);
    this.#d.events.record('container', 'rename', rec.id, { name, oldName: `/${rec.name}` });
  }

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rec = this.store.find(ref);
    if (!rec) {
      throw new NotFoundError(`No such container: ${ref}`);
    }
    if (isActive(rec.state.status) && !opts.force) {
      throw new ConflictError(
        `cannot remove container "/${rec.name}": container is ${stateClause(rec.state, Date.now())}: stop the container before removing or force remove`,
      );
    }
    const claimed = this.store.updateState(rec.id, (r) =>
      r.state.status === 'removing' && busyAlive(r.state)
        ? undefined
        : { ...r.state, status: 'removing', ...busyMark() },
    );
    if (!claimed || claimed.state.busyPid !== process.pid) return; // another process is removing it
    await this.#bundles.teardown(rec);
    mark('remove: torn down');
    fs.rmSync(this.paths(rec.id).dir, { recursive: true, force: true });
    this.store.delete(rec.id);
    this.#d.db.space.settle();
    if (opts.volumes) {
      for (const m of rec.config.mounts) {
        if (m.type !== 'volume') continue;
        const v = this.#d.volumes.list({ name: [m.source] }).find((x) => x.name === m.source);
        if (v && v.labels[ANONYMOUS_LABEL] !== undefined) this.#d.volumes.remove(m.source, { force: true });
      }
    }
    this.#d.events.record('container', 'destroy', rec.id, { name: rec.name, image: rec.config.image });
    // An image removed with `rmi -f` while this container used it is only hidden: reclaim it now.
    await this.#d.images.gc();
  }

  /** Removes every container that is not running; returns their ids. */
  async prune(): Promise<string[]> {
    const removed: string[] = [];
    for (const rec of this.store.all()) {
      if (rec.state.status === 'exited' || rec.state.status === 'created' || rec.state.status === 'dead') {
        await this.remove(rec.id, { volumes: false });
        removed.push(rec.id);
      }
    }
    return removed;
  }

  /** Whether a running container's monitor died without leaving an exit (cheap: a /proc read per container). */
  hasDeadMonitor(): boolean {
    return this.#reconciler.hasDeadMonitor();
  }

  /** Brings records in line with reality after anything may have died (engine/containers/reconcile.ts). */
  reconcile(): Promise<void> {
    return this.#reconciler.all();
  }

  /** The records a reconcile must look at; with `restore` (a daemon starting), --rm containers that do not run. */
  reconcileTargets(opts: { restore?: boolean } = {}): ContainerRecord[] {
    return this.#reconciler.targets(opts);
  }

  /** One container of `reconcileTargets`. */
  reconcileOne(id: string, opts: { restore?: boolean } = {}): Promise<void> {
    return this.#reconciler.one(id, opts);
  }

  /** Root file systems left mounted under the root by containers that have no record any more. */
  reconcileStrays(): Promise<void> {
    return this.#reconciler.strays();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
