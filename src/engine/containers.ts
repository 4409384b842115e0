import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ContainerConfig, ContainerState, MountRequest } from '../core/container/config.ts';
import { canTransition, initialState, isActive, transition } from '../core/container/state.ts';
import { stateClause } from '../core/container/status-text.ts';
import { validateContainerConfig } from '../core/container/validate.ts';
import { inspectView } from '../core/container/views.ts';
import { ConflictError, HyperboxError, InvalidArgumentError, NotFoundError } from '../core/errors.ts';
import { generateName, newId, shortId, validateName } from '../core/ids.ts';
import {
  checkImagePlatform,
  checkRunnableOs,
  foreignArchitectureWarning,
  hostPlatform,
} from '../core/image/platform.ts';
import { formatCpuList, parseCpuList } from '../core/ledger/cpu-list.ts';
import { type LogConfig, mergeLogConfig } from '../core/logs/log-config.ts';
import { portMapView, publishAllRequests } from '../core/network/ports.ts';
import { DEFAULT_NETWORK } from '../core/network/types.ts';
import type { Layout } from '../core/paths.ts';
import { parsePlatformSpec } from '../core/registry/platform-select.ts';
import { mark } from '../core/trace.ts';
import { mountOverlay, mountPoints, unmount } from '../drivers/mounts/overlay.ts';
import { pidRuns } from '../drivers/proc/process.ts';
import { runCommand } from '../drivers/proc/run.ts';
import type { AttachSession, ExecSession, ExitRecord, OciRuntime } from '../drivers/runtime/oci-runtime.ts';
import type { Database } from '../drivers/store/database.ts';
import type { CopyStreams } from './container-copy.ts';
import { type ExecRequest, execInContainer } from './container-exec.ts';
import { type ContainerPaths, containerPaths, writeEtcFiles } from './container-files.ts';
import {
  abortLog,
  finishLog,
  type LogChunk,
  type LogsRequest,
  logFileOf,
  logWritten,
  prepareLog,
  readContainerLog,
} from './container-logs.ts';
import { prepareSpec } from './container-spec.ts';
import { type ContainerStatsSample, sampleStats } from './container-stats.ts';
import { type ContainerRecord, ContainerStore } from './container-store.ts';
import { EventWakeup, OTHER_PROCESS_RECHECK_MS } from './event-wakeup.ts';
import type { EventLog } from './events/service.ts';
import type { ImageService } from './images.ts';
import type { ContainerCpuPool } from './ledger.ts';
import type { NetworkService } from './networks.ts';
import { ANONYMOUS_LABEL, type VolumeService } from './volumes.ts';

export interface CreateRequest {
  name?: string;
  /** docker's `--platform os/arch[/variant]`: the image must be of it (else NotFound, as dockerd answers). */
  platform?: string;
  /** The user's request; `imageId` is filled in by create from `image`. */
  config: Omit<ContainerConfig, 'imageId'>;
}

export interface StartOptions {
  /** Connect to the container's output (and stdin when `stdin`) before its process starts: nothing is missed. */
  attach?: { stdin: boolean };
  /**
   * No hyperbox process will wait for this container: the monitor runs `hyperbox container cleanup` when it exits
   * so that exit codes, --rm and restart policies are handled with nobody watching.
   */
  detached: boolean;
  /** Started again by its restart policy: counts in RestartCount. */
  restart?: boolean;
  /** With a tty: its size from the first byte (docker's ConsoleSize), before any resize can arrive. */
  consoleSize?: { rows: number; cols: number };
}

export interface ContainerServiceDeps {
  layout: Layout;
  db: Database;
  events: EventLog;
  images: ImageService;
  volumes: VolumeService;
  networks: NetworkService;
  runtime: OciRuntime;
  /** argv prefix that runs this CLI (node + main.ts), for the monitor's exit command. */
  selfCommand: string[];
  /** Keeps containers off VMs' dedicated CPUs (the ledger); absent, containers may use every CPU. */
  cpuPool?: ContainerCpuPool;
  /** The native log writer's executable (dist/native/hbx-logwriter). */
  logWriter: string;
  /** The engine-wide log driver and options (engine.json), filled into each container at create. */
  logDefaults: () => LogConfig;
}

/**
 * The container life cycle: create, start, stop, kill, remove, wait, and the clean-up that follows every exit.
 * The record in the store is the engine's memory; the runtime (monitor + runc) is the truth about processes, and
 * `reconcile` brings the first in line with the second at the start of every command.
 */
export class ContainerService {
  readonly store: ContainerStore;
  readonly #d: ContainerServiceDeps;

  constructor(deps: ContainerServiceDeps) {
    this.#d = deps;
    this.store = new ContainerStore(deps.db);
  }

  get layout(): Layout {
    return this.#d.layout;
  }

  get images(): ImageService {
    return this.#d.images;
  }

  get runtime(): OciRuntime {
    return this.#d.runtime;
  }

  /** The engine-wide log driver and options new containers get when they ask for none (engine.json). */
  logDefaults(): LogConfig {
    return this.#d.logDefaults();
  }

  paths(id: string): ContainerPaths {
    return containerPaths(this.#d.layout, id);
  }

  /** Every container, newest first. */
  list(): ContainerRecord[] {
    return this.store.all();
  }

  get(ref: string): ContainerRecord {
    return this.store.get(ref);
  }

  async create(req: CreateRequest): Promise<{ id: string; warnings: string[] }> {
    // Every transport reaches this: a bad value is refused before an image is looked for, as dockerd does.
    validateContainerConfig(req.config, { hostCpus: os.availableParallelism() });
    const want = req.platform ? parsePlatformSpec(req.platform) : undefined;
    const image = await this.#d.images.resolve(req.config.image);
    const host = hostPlatform();
    if (want) checkImagePlatform({ ref: req.config.image, want, actual: image.platform });
    checkRunnableOs(image.platform.os, host);
    const warning = want ? undefined : foreignArchitectureWarning(image.platform, host);
    const name = req.name
      ? validateName(req.name, 'container')
      : generateName((n) => this.store.nameTaken(n));
    this.#d.db.space.requireRoom(`cannot create container ${name}`);
    const id = newId();
    const mounts = this.#withAnonymousVolumes(req.config.mounts, Object.keys(image.config.Volumes ?? {}));
    const config: ContainerConfig = {
      ...req.config,
      imageId: image.id,
      mounts,
      ...this.#resolveNetworkRefs(req.config),
      // docker's mergeAndVerifyLogConfig: the default driver (and its options) when none is asked for, checked.
      logConfig: mergeLogConfig(req.config.logConfig, this.#d.logDefaults()),
    };
    this.#checkCpuset(config);
    const rec: ContainerRecord = {
      id,
      name,
      imageId: image.id,
      createdAt: Date.now(),
      config,
      state: initialState(),
    };
    this.store.insert(rec);
    fs.mkdirSync(this.paths(id).dir, { recursive: true, mode: 0o700 });
    this.#d.events.record('container', 'create', id, { name, image: config.image });
    return { id, warnings: warning ? [warning] : [] };
  }

  /**
   * Networks named at create must exist (docker refuses `--network nosuch` before anything is made), and a joined
   * container is pinned by id, so that a later rename or a new container with the old name changes nothing.
   */
  #resolveNetworkRefs(c: Omit<ContainerConfig, 'imageId'>): Pick<ContainerConfig, 'networkContainer'> {
    if (c.networkMode === 'bridge') {
      for (const n of c.networks ?? []) if (n.network !== DEFAULT_NETWORK) this.#d.networks.record(n.network);
    }
    if (c.networkMode !== 'container' || !c.networkContainer) return {};
    return { networkContainer: this.store.get(c.networkContainer).id };
  }

  /** Unnamed volumes (`-v /data`, the image's VOLUMEs) get a generated name and the anonymous label. */
  #withAnonymousVolumes(mounts: MountRequest[], imageVolumes: string[]): MountRequest[] {
    const out: MountRequest[] = [];
    const targets = new Set<string>();
    for (const m of mounts) {
      const target = path.posix.normalize(m.target);
      if (targets.has(target)) throw new InvalidArgumentError(`duplicate mount point: ${target}`);
      targets.add(target);
      out.push(m.type === 'volume' && m.source === '' ? { ...m, source: newId() } : m);
    }
    for (const v of imageVolumes) {
      const target = path.posix.normalize(v);
      if (!targets.has(target)) out.push({ type: 'volume', source: newId(), target, readOnly: false });
    }
    return out;
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
    this.#setBusy(rec.id, process.pid);
    const p = this.paths(rec.id);
    try {
      await this.#teardown(rec);
      mark('start: teardown done');
      await this.#prepareRootfs(rec, p, opts.consoleSize);
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
      await this.#teardown(rec).catch(() => {});
      const e = err instanceof HyperboxError ? err : undefined;
      const exitCode = e?.code === 'CommandNotFound' ? 127 : e?.code === 'CannotExecute' ? 126 : 128;
      try {
        this.store.updateState(rec.id, (r) => ({
          ...r.state,
          exitCode,
          error: err instanceof Error ? err.message : String(err),
          busyPid: undefined,
        }));
      } catch {
        // Not recorded (the disk is full too): the start's own error is the one that counts.
      }
      throw err;
    }
  }

  /** A --cpuset-cpus onto a VM's dedicated CPU is refused (at create, and again at start: a VM may have come since). */
  #checkCpuset(config: Pick<ContainerConfig, 'resources'>): void {
    const cpuset = config.resources.cpusetCpus;
    if (cpuset && this.#d.cpuPool) this.#d.cpuPool.checkCpuset(parseCpuList(cpuset, '--cpuset-cpus'));
  }

  /**
   * Moves running containers that have no cpuset of their own onto the shared pool (after a VM reserved CPUs, so
   * that its CPUs become its own at once, not only for containers started later). Returns the containers moved.
   */
  async confineToSharedCpus(): Promise<string[]> {
    const toMove = this.store
      .all()
      .filter(
        (r) =>
          (r.state.status === 'running' || r.state.status === 'paused') && !r.config.resources.cpusetCpus,
      );
    // Asked only when some container must move: with none running, VMs may hold every CPU (a zero host reserve).
    if (toMove.length === 0) return [];
    const shared = this.#d.cpuPool?.containerCpus();
    if (!shared) return [];
    for (const rec of toMove) await this.#d.runtime.updateCpuset(rec.id, formatCpuList(shared));
    return toMove.map((r) => r.id);
  }

  #rootArgs(): string[] {
    return this.#d.layout.rootOption ? ['--root', this.#d.layout.rootOption] : [];
  }

  /** Mounts the root file system, writes /etc files and the OCI bundle's config.json. */
  async #prepareRootfs(
    rec: ContainerRecord,
    p: ContainerPaths,
    consoleSize?: { rows: number; cols: number },
  ): Promise<void> {
    const lowerDirs = await this.#d.images.lowerDirs(rec.imageId);
    await mountOverlay({ lowerDirs, upperDir: p.upper, workDir: p.work, target: p.rootfs });
    const joined = this.#joinedNamespace(rec);
    const hostname =
      joined?.hostname ??
      rec.config.hostname ??
      (rec.config.networkMode === 'host' ? osHostname() : shortId(rec.id));
    writeEtcFiles(p, { hostname, networkMode: rec.config.networkMode });
    if (joined) {
      // docker shares the joined container's name files too: same hosts, resolvers and host name.
      fs.copyFileSync(joined.paths.hosts, p.hosts);
      fs.copyFileSync(joined.paths.resolvConf, p.resolvConf);
    }
    const volumeDirs = new Map<string, string>();
    for (const m of rec.config.mounts) {
      if (m.type === 'volume') {
        const labels: Record<string, string> = /^[0-9a-f]{64}$/.test(m.source)
          ? { [ANONYMOUS_LABEL]: '' }
          : {};
        volumeDirs.set(m.source, this.#d.volumes.ensure(m.source, labels));
      } else if (m.type === 'bind' && !fs.existsSync(m.source)) {
        if (!m.createHostPath) {
          throw new InvalidArgumentError(
            `invalid mount config for type "bind": bind source path does not exist: ${m.source}`,
          );
        }
        fs.mkdirSync(m.source, { recursive: true });
      }
    }
    const image = await this.#d.images.resolve(rec.imageId);
    const netnsPath =
      joined?.netnsPath ??
      (await this.#setUpNetwork(rec, p, hostname, Object.keys(image.config.ExposedPorts ?? {})));
    this.#checkCpuset(rec.config);
    const shared = rec.config.resources.cpusetCpus ? undefined : this.#d.cpuPool?.containerCpus();
    const spec = await prepareSpec({
      rec,
      paths: p,
      imageConfig: image.config,
      hostname,
      volumeDirs,
      ...(netnsPath ? { netnsPath } : {}),
      ...(shared ? { sharedCpuset: formatCpuList(shared) } : {}),
      ...(consoleSize ? { consoleSize } : {}),
    });
    fs.writeFileSync(path.join(p.bundle, 'config.json'), JSON.stringify(spec));
  }

  /**
   * `--network container:X`: the namespace X runs in — the network layer's sandbox when X is on hyperbox networks,
   * else its init process's — plus its name files. X must be running, as docker insists.
   */
  #joinedNamespace(
    rec: ContainerRecord,
  ): { netnsPath: string; hostname: string; paths: ContainerPaths } | undefined {
    if (rec.config.networkMode !== 'container') return undefined;
    const targetId = rec.config.networkContainer ?? '';
    const target = this.store.find(targetId);
    if (!target)
      throw new NotFoundError(`No such container: ${targetId} (its network namespace was asked for)`);
    if (target.state.status !== 'running' || !target.state.pid) {
      throw new ConflictError(
        `cannot join network namespace of a non running container: ${target.name} (${shortId(target.id)}) is ${target.state.status}`,
      );
    }
    const tp = this.paths(target.id);
    const sandbox = this.#d.networks.sandboxPath(target.id);
    const netnsPath =
      target.config.networkMode === 'bridge' && fs.existsSync(sandbox)
        ? sandbox
        : target.config.networkMode === 'container' && target.config.networkContainer
          ? this.#joinedNamespace(target)!.netnsPath
          : `/proc/${target.state.pid}/ns/net`;
    let hostname = shortId(target.id);
    try {
      hostname = fs.readFileSync(tp.hostname, 'utf8').trim() || hostname;
    } catch {}
    return { netnsPath, hostname, paths: tp };
  }

  /**
   * Bridge mode: the network layer prepares the namespace (veth, address, routes, published ports, DNS) and the
   * container's /etc/hosts and resolv.conf; returns the namespace's path for the spec. Nothing for other modes.
   */
  async #setUpNetwork(
    rec: ContainerRecord,
    p: ContainerPaths,
    hostname: string,
    exposed: string[],
  ): Promise<string | undefined> {
    const c = rec.config;
    if (c.networkMode !== 'bridge') return undefined;
    const result = await this.#d.networks.setUp({
      ownerId: rec.id,
      ownerName: rec.name,
      hostname,
      ...(c.networks?.length ? { networks: c.networks } : {}),
      publish: [...(c.publish ?? []), ...(c.publishAll ? publishAllRequests(exposed) : [])],
      ...(c.dns?.length ? { dns: c.dns } : {}),
      ...(c.extraHosts?.length ? { extraHosts: c.extraHosts } : {}),
    });
    fs.writeFileSync(p.hosts, result.hosts);
    fs.writeFileSync(p.resolvConf, result.resolvConf);
    return result.netnsPath;
  }

  /**
   * Removes every trace of a previous run: runtime state, monitor files, the exit file, the rootfs mount.
   * Idempotent and cheap when there is nothing to do.
   */
  async #teardown(rec: ContainerRecord): Promise<void> {
    const p = this.paths(rec.id);
    // Once runc has deleted the container its processes are dead: the network may go while the monitor lingers.
    const deleted = fs.existsSync(path.join(this.#d.layout.runcRoot, rec.id))
      ? this.#d.runtime.delete(rec.id, { force: true })
      : Promise.resolve();
    // Independent: the overlay is our mount in the host's namespace, runc's state is its own.
    await Promise.all([
      // The log writer goes after the monitor, once it has written all the monitor handed it.
      deleted.then(() => waitMonitorGone(p.bundle)).then(() => finishLog(p)),
      deleted.then(() =>
        rec.config.networkMode === 'bridge' ? this.#d.networks.tearDown(rec.id) : undefined,
      ),
      unmount(p.rootfs),
    ]);
    fs.rmSync(p.exitFile, { force: true });
  }

  #setBusy(id: string, pid: number | undefined): void {
    this.store.updateState(id, (r) => ({ ...r.state, busyPid: pid }));
  }

  /**
   * Records an exit once: the first process to see it (the waiting CLI, the monitor's exit command, or a later
   * reconcile) moves the container to exited and cleans up; the others see it done. Then --rm and restart policies.
   */
  async finalize(id: string, exit: ExitRecord & { error?: string }): Promise<void> {
    let claimed = false;
    const rec = this.store.updateState(id, (r) => {
      if (!isActive(r.state.status)) return undefined;
      claimed = true;
      return transition(r.name, r.state, 'exited', {
        exitCode: exit.exitCode,
        oomKilled: exit.oomKilled,
        finishedAt: exit.finishedAt,
        error: exit.error ?? '',
        pid: 0,
        monitorPid: 0,
        busyPid: process.pid,
      });
    });
    if (!rec || !claimed) {
      // Another hand records this exit (the monitor's exit command, a daemon's exit watcher): wait for its
      // teardown, so that whoever goes on from here (restart's start) does not race it.
      await this.#untilSettled(id);
      return;
    }
    mark('finalize: claimed');
    try {
      await this.#teardown(rec);
      mark('finalize: torn down');
    } finally {
      this.#setBusy(id, undefined);
    }
    if (exit.oomKilled)
      this.#d.events.record('container', 'oom', id, { name: rec.name, image: rec.config.image });
    this.#d.events.record('container', 'die', id, {
      name: rec.name,
      image: rec.config.image,
      exitCode: String(exit.exitCode),
    });
    if (rec.config.autoRemove) {
      await this.remove(id, { force: true, volumes: true }).catch(() => {});
      return;
    }
    if (shouldRestart(rec.config, rec.state)) {
      await sleep(restartDelayMs(rec.state.restartCount));
      const current = this.store.find(id);
      // A user may have stopped or removed it meanwhile.
      if (current?.state.status !== 'exited' || current.state.stoppedByUser) return;
      await this.start(id, { detached: true, restart: true }).catch(() => {});
      this.#d.events.record('container', 'restart', id, { name: rec.name, image: rec.config.image });
    }
  }

  /** Until no live process is busy with the container (at most 10 s: a stuck one must not block forever). */
  async #untilSettled(id: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    // This process's own finalize records `die` as soon as it lets go, which wakes us at once (the daemon's exit
    // watcher and a waiter racing for one exit); another process's is seen by looking again every 25 ms.
    const wakeup = new EventWakeup(this.#d.events, {
      accept: (e) => e.type === 'container' && e.actorId === id,
      fallbackMs: 25,
    });
    try {
      while (Date.now() < deadline) {
        const busy = this.store.find(id)?.state.busyPid;
        if (busy === undefined || (busy !== process.pid && !pidRuns(busy))) return;
        await wakeup.next();
      }
    } finally {
      wakeup.close();
    }
  }

  /** The monitor's exit command: record the exit of a container nobody was waiting for. */
  async onExit(id: string): Promise<void> {
    const rec = this.store.find(id);
    if (!rec) return;
    // Another live process (a daemon's exit watcher, a waiting CLI) is on it. Waiting for it here would hold up the
    // monitor, which waits for this exit command, while that process's teardown waits for the monitor to go.
    const busy = rec.state.busyPid;
    if (busy !== undefined && busy !== process.pid && pidRuns(busy)) return;
    const exit = await this.#readExit(rec);
    if (exit) await this.finalize(id, exit);
  }

  #readExit(rec: ContainerRecord): Promise<ExitRecord | undefined> {
    return this.#d.runtime.readExit({
      id: rec.id,
      exitDir: this.#d.layout.exits,
      bundle: this.paths(rec.id).bundle,
    });
  }

  /**
   * Waits for the container's process to exit and returns its exit code. condition (docker's): "not-running"
   * returns at once for a stopped container, "next-exit" too (we do not restart in-process), "removed" also waits
   * for the record to disappear.
   */
  async wait(
    ref: string,
    condition: 'not-running' | 'next-exit' | 'removed' = 'not-running',
    opts: { signal?: AbortSignal } = {},
  ): Promise<number> {
    const rec = this.store.get(ref);
    let exitCode = rec.state.exitCode;
    // Subscribed before the exit is finalized: the removal (--rm) usually follows in this very process.
    const removal =
      condition === 'removed'
        ? new EventWakeup(this.#d.events, {
            accept: (e) => e.type === 'container' && e.action === 'destroy' && e.actorId === rec.id,
            fallbackMs: OTHER_PROCESS_RECHECK_MS,
          })
        : undefined;
    try {
      if (isActive(rec.state.status)) {
        const exit = await this.#waitExitFile(rec, opts.signal ? { signal: opts.signal } : {});
        await this.finalize(rec.id, exit);
        exitCode = exit.exitCode;
      }
      if (removal) while (this.store.find(rec.id)) await removal.next(opts.signal);
    } finally {
      removal?.close();
    }
    return exitCode;
  }

  /**
   * Resolves when the monitor has written the exit file (inotify on the exits directory, plus a slow poll); rejects
   * after `timeoutMs` or when `signal` aborts (a client that went away).
   */
  async #waitExitFile(
    rec: ContainerRecord,
    opts: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<ExitRecord> {
    const { timeoutMs, signal } = opts;
    fs.mkdirSync(this.#d.layout.exits, { recursive: true });
    const check = () => this.#readExit(rec);
    const first = await check();
    if (first) return first;
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      let done = false;
      let checking = false;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        watcher.close();
        clearInterval(poll);
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => finish(() => reject(signal!.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      const recheck = () => {
        if (checking || done) return;
        checking = true;
        check()
          .then((exit) => {
            checking = false;
            const settled = exit ? undefined : this.#settledExit(rec);
            if (exit) finish(() => resolve(exit));
            else if (settled) finish(() => resolve(settled));
            else if (!this.#monitorAlive(rec)) {
              // The monitor writes the exit file, then exits: look once more before calling it lost.
              return check().then((late) =>
                finish(() => resolve(late ?? { exitCode: 255, finishedAt: Date.now(), oomKilled: false })),
              );
            }
          })
          .catch((err) => finish(() => reject(err)));
      };
      const watcher = fs.watch(this.#d.layout.exits, (_event, file) => {
        if (file === rec.id) recheck();
      });
      const poll = setInterval(recheck, 1000);
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () =>
                finish(() =>
                  reject(new TimeoutError(`container ${rec.name} did not exit within ${timeoutMs / 1000} s`)),
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
    const now = this.store.find(rec.id);
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
    const current = this.store.find(rec.id);
    const pid = current?.state.monitorPid ?? rec.state.monitorPid;
    if (!pid) return true; // not known yet (start in progress): assume alive, the exit file will tell
    return pidRuns(pid, { comm: 'conmon' });
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
      exit = await this.#waitExitFile(rec, timeout < 0 ? {} : { timeoutMs: timeout * 1000 }).catch((err) => {
        if (err instanceof TimeoutError) return undefined;
        throw err;
      });
    }
    if (!exit) {
      await this.#d.runtime.kill(rec.id, 'SIGKILL', { all: true }).catch(() => {});
      exit = await this.#waitExitFile(rec, { timeoutMs: 10_000 });
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
      r.state.status === 'removing' && r.state.busyPid && pidRuns(r.state.busyPid)
        ? undefined
        : { ...r.state, status: 'removing', busyPid: process.pid },
    );
    if (!claimed || claimed.state.busyPid !== process.pid) return; // another process is removing it
    await this.#teardown(rec);
    mark('remove: torn down');
    fs.rmSync(this.paths(rec.id).dir, { recursive: true, force: true });
    this.store.delete(rec.id);
    this.#d.db.space.settle();
    if (opts.volumes) {
      for (const m of rec.config.mounts) {
        if (m.type !== 'volume') continue;
        const v = this.#d.volumes.list({ name: [m.source] }).find((x) => x.Name === m.source);
        if (v && v.Labels[ANONYMOUS_LABEL] !== undefined) this.#d.volumes.remove(m.source, { force: true });
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
    return this.store
      .unsettled()
      .some(
        (r) =>
          isActive(r.state.status) &&
          r.state.monitorPid !== 0 &&
          !(r.state.busyPid && pidRuns(r.state.busyPid)) &&
          !pidRuns(r.state.monitorPid, { comm: 'conmon' }),
      );
  }

  /**
   * Brings records in line with reality after anything may have died: exits nobody recorded, monitors that died,
   * removals and starts cut short, root file systems left mounted. Cheap when all is well: two queries and one
   * mountinfo read. The daemon runs the same steps one container at a time behind its reconcile gate.
   */
  async reconcile(): Promise<void> {
    for (const rec of this.reconcileTargets()) await this.reconcileOne(rec.id);
    await this.reconcileStrays();
  }

  /**
   * The records a reconcile must look at: those whose state says they may have processes or unfinished work, those
   * a dead process left marked busy, and those whose root file system is mounted while they do not run. Busy in a
   * live process, this one included, they are left to it: in the daemon, another request of ours is starting,
   * stopping or removing it right now (a CLI reconciles before it marks anything busy, so its own pid is never
   * stale here). With `restore` (a daemon starting, as dockerd's restore): --rm containers that do not run, too.
   */
  reconcileTargets(opts: { restore?: boolean } = {}): ContainerRecord[] {
    const targets = new Map<string, ContainerRecord>();
    for (const rec of [...this.store.unsettled(), ...this.store.markedBusy()]) targets.set(rec.id, rec);
    if (opts.restore) {
      for (const rec of this.store.all())
        if (rec.config.autoRemove && !isActive(rec.state.status)) targets.set(rec.id, rec);
    }
    for (const id of this.#mountedRootfs().keys()) {
      const rec = targets.has(id) ? undefined : this.store.find(id);
      if (rec && !isActive(rec.state.status)) targets.set(id, rec);
    }
    return [...targets.values()].filter((r) => !(r.state.busyPid && pidRuns(r.state.busyPid)));
  }

  /** One container of `reconcileTargets`. */
  async reconcileOne(id: string, opts: { restore?: boolean } = {}): Promise<void> {
    const rec = this.store.find(id);
    if (!rec || (rec.state.busyPid && pidRuns(rec.state.busyPid))) return;
    if (rec.state.status === 'removing') {
      await this.remove(rec.id, { force: true }).catch(() => {});
      return;
    }
    if (isActive(rec.state.status)) {
      const monitorGone = rec.state.monitorPid !== 0 && !pidRuns(rec.state.monitorPid, { comm: 'conmon' });
      // Read after the liveness check: a monitor writes the exit file before it exits.
      const exit = await this.#readExit(rec);
      if (exit) {
        await this.finalize(rec.id, exit);
      } else if (monitorGone) {
        // The monitor died: nobody can report this container's exit any more. Stop it and say so.
        await this.#d.runtime.kill(rec.id, 'SIGKILL', { all: true }).catch(() => {});
        await this.finalize(rec.id, {
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
    await this.#teardown(rec).catch(() => {});
    this.store.updateState(rec.id, (r) => ({
      ...r.state,
      busyPid: undefined,
      ...(startCutShort ? { error: `the start was cut short: process ${rec.state.busyPid} died` } : {}),
    }));
    // As dockerd: an --rm container whose start failed goes (and one whose exit's clean-up was cut short); at a
    // daemon's start, every --rm container that does not run.
    if (rec.config.autoRemove && (rec.state.busyPid !== undefined || opts.restore)) {
      await this.remove(rec.id, { force: true, volumes: true }).catch(() => {});
    }
  }

  /**
   * A start cut short after its process began (runc started it, the record still says created): it is recorded
   * running, as docker would show it — and, when it already ended (its exit file is there), exited with its code.
   */
  async #adoptStarted(rec: ContainerRecord): Promise<boolean> {
    const exit = await this.#readExit(rec);
    const state = exit ? undefined : await this.#d.runtime.state(rec.id).catch(() => undefined);
    const monitorPid = monitorPidOf(this.paths(rec.id).bundle) ?? 0;
    if (!exit && (state?.status !== 'running' || !pidRuns(monitorPid, { comm: 'conmon' }))) return false;
    const adopted = this.store.updateState(rec.id, (r) =>
      r.state.status !== 'created'
        ? undefined
        : transition(r.name, r.state, 'running', runningNow(state?.pid ?? 0, monitorPid)),
    );
    if (adopted?.state.status !== 'running') return false;
    this.#d.events.record('container', 'start', rec.id, { name: rec.name, image: rec.config.image });
    if (exit) await this.finalize(rec.id, exit);
    return true;
  }

  /** Root file systems left mounted under the root by containers that have no record any more. */
  async reconcileStrays(): Promise<void> {
    for (const [id, mount] of this.#mountedRootfs()) {
      if (this.store.find(id)) continue;
      await unmount(mount).catch(() => {});
      fs.rmSync(path.dirname(mount), { recursive: true, force: true });
    }
  }

  /** Container id → its mounted root file system, from one mountinfo read. */
  #mountedRootfs(): Map<string, string> {
    const prefix = `${this.#d.layout.containers}/`;
    const out = new Map<string, string>();
    for (const mount of mountPoints()) {
      if (mount.startsWith(prefix) && mount.endsWith('/rootfs'))
        out.set(mount.slice(prefix.length, -'/rootfs'.length), mount);
    }
    return out;
  }

  /** Whether a container may hold a network namespace now: running, or being started by a live process. */
  holdsNetwork(id: string): boolean {
    const rec = this.store.find(id);
    if (!rec) return false;
    return isActive(rec.state.status) || (rec.state.busyPid !== undefined && pidRuns(rec.state.busyPid));
  }

  async resize(ref: string, size: { rows: number; cols: number }): Promise<void> {
    const rec = this.store.get(ref);
    if (!rec.config.tty) return;
    await this.#d.runtime.resize(this.paths(rec.id).bundle, size);
  }

  async attach(
    ref: string,
    opts: { stdin: boolean },
  ): Promise<{ record: ContainerRecord; session: AttachSession }> {
    const rec = this.requireRunning(ref);
    const session = await this.#d.runtime.attach(this.paths(rec.id).bundle, {
      stdin: opts.stdin && rec.config.openStdin,
    });
    return { record: rec, session };
  }

  /**
   * The container's output as its log driver kept it, formatted as asked; with `follow`, goes on until the container
   * has stopped and its log writer has written the last of it.
   */
  async *logs(ref: string, req: LogsRequest): AsyncGenerator<LogChunk> {
    const rec = this.store.get(ref);
    const p = this.paths(rec.id);
    const follow = req.follow && isActive(rec.state.status);
    const stopped = async () => {
      const over =
        (await this.#readExit(rec)) !== undefined ||
        !isActive(this.store.find(rec.id)?.state.status ?? 'exited');
      if (over) await logWritten(p);
      return over;
    };
    yield* readContainerLog(rec, p, { ...req, follow }, stopped);
  }

  async inspect(ref: string): Promise<Record<string, unknown>> {
    const rec = this.store.get(ref);
    const image = await this.#d.images.resolve(rec.imageId).catch(() => undefined);
    const lowerDirs = image ? await this.#d.images.lowerDirs(rec.imageId).catch(() => []) : [];
    const p = this.paths(rec.id);
    const view = inspectView(rec, {
      image: image?.config ?? {},
      logPath: logFileOf(rec.config, p)?.file ?? '',
      paths: p,
      lowerDirs,
      volumeDir: (name) => path.join(this.#d.layout.volumes, name, '_data'),
    });
    view.NetworkSettings = this.networkSettings(rec.id);
    return view;
  }

  /** docker's NetworkSettings: one entry per network joined, the published ports, the first address. */
  networkSettings(id: string): Record<string, unknown> {
    const endpoints = this.#d.networks.endpoints(id);
    const networks: Record<string, unknown> = {};
    for (const ep of endpoints) {
      const n = this.#d.networks.inspect(ep.networkId);
      const [subnet] = n.IPAM.Config;
      networks[n.Name] = {
        NetworkID: n.Id,
        EndpointID: ep.id,
        Gateway: subnet?.Gateway ?? '',
        IPAddress: ep.address,
        IPPrefixLen: Number(subnet?.Subnet.split('/')[1] ?? 0),
        MacAddress: ep.mac,
        Aliases: ep.aliases,
      };
    }
    return {
      Networks: networks,
      Ports: portMapView(this.#d.networks.ports(id)),
      IPAddress: endpoints[0]?.address ?? '',
      MacAddress: endpoints[0]?.mac ?? '',
    };
  }

  /** `top`: the host's `ps` output, keeping only the container's processes (docker's approach). */
  async top(ref: string, psArgs: string[]): Promise<{ titles: string[]; processes: string[][] }> {
    const rec = this.requireRunning(ref);
    const pids = new Set(await this.#d.runtime.pids(rec.id));
    const args = psArgs.length > 0 ? psArgs : ['-ef'];
    const { stdout } = await runCommand('ps', args);
    const [header = '', ...lines] = stdout.trimEnd().split('\n');
    const titles = header.trim().split(/\s+/);
    const pidCol = titles.indexOf('PID');
    if (pidCol < 0)
      throw new InvalidArgumentError(`couldn't find PID field in ps output for "ps ${args.join(' ')}"`);
    const processes = lines
      .map((line) => {
        const fields = line.trim().split(/\s+/);
        // The last column (the command) may contain spaces: keep it whole.
        return [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
      })
      .filter((fields) => pids.has(Number(fields[pidCol])));
    return { titles, processes };
  }

  /** Resource usage now (`stats --no-stream`): one sample per running container, zeros for stopped ones. */
  stats(ids: string[]): Promise<ContainerStatsSample[]> {
    return sampleStats(
      ids.map((id) => this.store.get(id)),
      os.totalmem(),
    );
  }

  async exec(ref: string, req: ExecRequest): Promise<ExecSession> {
    this.#d.db.space.requireRoom(`cannot exec in container ${ref}`);
    return execInContainer(this, ref, req);
  }

  /** `cp`; with `-` on one side the tar travels on `stdin` or `stdout`. */
  async copy(
    src: string,
    dest: string,
    opts: { archive: boolean; followLink: boolean } & CopyStreams,
  ): Promise<void> {
    const [{ copyFiles }, { localArchive }] = await Promise.all([
      import('./container-copy.ts'),
      import('./container-archive.ts'),
    ]);
    await copyFiles(localArchive(this), src, dest, opts);
  }

  requireRunning(ref: string): ContainerRecord {
    const rec = this.store.get(ref);
    if (rec.state.status === 'paused')
      throw new ConflictError(`container ${rec.name} is paused, unpause the container before exec`);
    if (rec.state.status !== 'running') {
      throw new ConflictError(`container ${rec.name} is not running (${stateClause(rec.state, Date.now())})`);
    }
    return rec;
  }
}

class TimeoutError extends Error {}

/** The state fields of a run that begins now: its pids, a clean slate for the exit, no busy mark. */
function runningNow(pid: number, monitorPid: number): Partial<ContainerState> {
  return {
    pid,
    monitorPid,
    startedAt: Date.now(),
    exitCode: 0,
    oomKilled: false,
    error: '',
    busyPid: undefined,
  };
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether `pid` is alive (and, when `comm` is given, still that program: pids are reused). */
/**
 * The monitor lingers for a moment after its container died (it drains output and records the exit): wait for it,
 * so that when `rm` or `stop` returns no process of the container is left.
 */
async function waitMonitorGone(bundle: string): Promise<void> {
  const pid = monitorPidOf(bundle);
  if (pid === undefined) return;
  // The monitor waits for its exit command to finish: when we are that command, it cannot go before we do.
  if (pid === process.ppid) return;
  // It is not our child (it double-forks), so there is no exit to wait on: look often at first, when it usually goes.
  for (let i = 0; i < 140 && pid > 0 && pidRuns(pid, { comm: 'conmon' }); i++) await sleep(i < 40 ? 5 : 20);
}

/** The monitor's pid from the file conmon wrote in the bundle (-P); undefined without one. */
function monitorPidOf(bundle: string): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(bundle, 'conmon.pid'), 'utf8').trim());
  } catch {
    return undefined;
  }
}

function osHostname(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
  } catch {
    return 'localhost';
  }
}
