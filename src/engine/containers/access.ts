import os from 'node:os';
import type { AttachSession, ExecSession, ExitRecord } from '../../core/container/process-io.ts';
import { isActive } from '../../core/container/state.ts';
import { stateClause } from '../../core/container/status-text.ts';
import { ConflictError } from '../../core/errors.ts';
import type { LogConfig } from '../../core/logs/log-config.ts';
import type { Layout } from '../../core/paths.ts';
import type { OciRuntime } from '../../drivers/runtime/oci-runtime.ts';
import type { Database } from '../../drivers/store/database.ts';
import type {
  ContainerArchive,
  ContainerRecord,
  ContainerStatsSample,
  ExecRequest,
  LogChunk,
  LogsRequest,
} from '../api/containers.ts';
import type { ImageService } from '../images/service.ts';
import type { NetworkService } from '../networks/service.ts';
import type { ArchiveContext } from './archive.ts';
import { busyAlive } from './busy.ts';
import { type DetailsContext, inspectContainer, topOf } from './details.ts';
import { execInContainer } from './exec.ts';
import { type ContainerPaths, containerPaths } from './files.ts';
import { logWritten, readContainerLog } from './logs.ts';
import { sampleStats } from './stats.ts';
import type { ContainerStore } from './store.ts';

/** What reading containers and reaching into running ones needs. */
export interface ContainerAccessDeps {
  layout: Layout;
  db: Database;
  images: ImageService;
  networks: NetworkService;
  runtime: OciRuntime;
  /** The engine-wide log driver and options (engine.json), filled into each container at create. */
  logDefaults: () => LogConfig;
}

/**
 * Reading containers and reaching into running ones, without changing their life cycle: records, docker's
 * detailed views, logs, stats, attach, exec and files. The life cycle (ContainerService) builds on it.
 */
export class ContainerAccess {
  readonly store: ContainerStore;
  protected readonly deps: ContainerAccessDeps;

  constructor(deps: ContainerAccessDeps, store: ContainerStore) {
    this.deps = deps;
    this.store = store;
  }

  get layout(): Layout {
    return this.deps.layout;
  }

  /** The engine-wide log driver and options new containers get when they ask for none (engine.json). */
  logDefaults(): LogConfig {
    return this.deps.logDefaults();
  }

  paths(id: string): ContainerPaths {
    return containerPaths(this.deps.layout, id);
  }

  /** Every container, newest first. */
  list(): ContainerRecord[] {
    return this.store.all();
  }

  get(ref: string): ContainerRecord {
    return this.store.get(ref);
  }

  /** Whether a container may hold a network namespace now: running, or being started by a live process. */
  holdsNetwork(id: string): boolean {
    const rec = this.store.find(id);
    if (!rec) return false;
    return isActive(rec.state.status) || busyAlive(rec.state);
  }

  async resize(ref: string, size: { rows: number; cols: number }): Promise<void> {
    const rec = this.store.get(ref);
    if (!rec.config.tty) return;
    await this.deps.runtime.resize(this.paths(rec.id).bundle, size);
  }

  async attach(
    ref: string,
    opts: { stdin: boolean },
  ): Promise<{ record: ContainerRecord; session: AttachSession }> {
    const rec = this.requireRunning(ref);
    const session = await this.deps.runtime.attach(this.paths(rec.id).bundle, {
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
        (await this.readExit(rec)) !== undefined ||
        !isActive(this.store.find(rec.id)?.state.status ?? 'exited');
      if (over) await logWritten(p);
      return over;
    };
    yield* readContainerLog(rec, p, { ...req, follow }, stopped);
  }

  inspect(ref: string): Promise<Record<string, unknown>> {
    return inspectContainer(this.#details(), this.store.get(ref));
  }

  top(ref: string, psArgs: string[]): Promise<{ titles: string[]; processes: string[][] }> {
    return topOf(this.#details(), this.requireRunning(ref), psArgs);
  }

  #details(): DetailsContext {
    const { layout, images, networks, runtime } = this.deps;
    return { layout, images, networks, runtime, paths: (id) => this.paths(id) };
  }

  /** Resource usage now (`stats --no-stream`): one sample per running container, zeros for stopped ones. */
  stats(ids: string[]): Promise<ContainerStatsSample[]> {
    return sampleStats(
      ids.map((id) => this.store.get(id)),
      os.totalmem(),
    );
  }

  async exec(ref: string, req: ExecRequest): Promise<ExecSession> {
    this.deps.db.space.requireRoom(`cannot exec in container ${ref}`);
    const ctx = {
      requireRunning: (r: string) => this.requireRunning(r),
      paths: (id: string) => this.paths(id),
    };
    return execInContainer({ ...ctx, runtime: this.deps.runtime }, ref, req);
  }

  /** What the archive satellite needs (it is loaded on demand: tar stays out of every other command's start-up). */
  #archiveContext(): ArchiveContext {
    return {
      get: (ref) => this.store.get(ref),
      paths: (id) => this.paths(id),
      lowerDirs: (imageId) => this.deps.images.lowerDirs(imageId),
    };
  }

  /** docker's archive API on one container, in-process (HEAD, GET and PUT /containers/{id}/archive). */
  async archive(): Promise<ContainerArchive> {
    const { localArchive } = await import('./archive.ts');
    return localArchive(this.#archiveContext());
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

  /** The exit record the monitor wrote; undefined while the container runs. */
  protected readExit(rec: ContainerRecord): Promise<ExitRecord | undefined> {
    const exitDir = this.deps.layout.exits;
    return this.deps.runtime.readExit({ id: rec.id, exitDir, bundle: this.paths(rec.id).bundle });
  }
}
