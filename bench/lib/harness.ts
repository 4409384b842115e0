import { spawn, spawnSync } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { layoutFor } from '../../src/core/paths.ts';
import { leftovers, type Ownership, ownedCgroups, ownedMounts, ownedProcesses } from './ownership.ts';

/**
 * What every benchmark gets: the options, a scratch directory that disappears at the end, shared fixtures built on
 * first use (the busybox root file system, a hyperbox root with busybox imported), and a place to report figures.
 * Everything a benchmark starts lives below the scratch directory, so cleanup finds it there and only there.
 */
export interface BenchContext {
  readonly options: BenchOptions;
  /** A fresh directory below the run's scratch directory. */
  tempDir(name: string): Promise<string>;
  /** A fresh directory with a short path, /tmp/hbp-XXXXXX (podman refuses longer run roots); removed at the end. */
  shortTempDir(): Promise<string>;
  /** A busybox root file system (scripts/make-busybox-rootfs.sh), built once per run. */
  busyboxRootfs(): Promise<string>;
  /** A hyperbox state root with busybox imported as BUSYBOX_IMAGE, made once per run. */
  hyperboxRoot(): Promise<string>;
  /** Runs bin/hyperbox against the run's state root; rejects when it exits non-zero, or once cleanup began. */
  hyperbox(args: string[]): Promise<CommandResult>;
  /** `hyperbox rm -f IDS`: for deferred steps, which run during cleanup. */
  removeContainers(ids: string[]): Promise<void>;
  /** Runs to be undone at the end, last registered first, even when the benchmark failed. */
  defer(what: string, fn: () => Promise<void>): void;
  log(line: string): void;
  report(figure: Figure): void;
}

export interface BenchOptions {
  runs: number; // timed repetitions per measurement
  containers: number; // idle containers for the memory benchmark
}

/** One result line of the final summary. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The figure must be at most this. */
  target?: number;
}

/** A benchmark module: bench/<name>.ts exports these two. */
export interface BenchmarkModule {
  description: string;
  run(ctx: BenchContext): Promise<void>;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export const TOP = path.resolve(import.meta.dirname, '..', '..');
export const HYPERBOX = path.join(TOP, 'bin', 'hyperbox');
export const BUSYBOX_IMAGE = 'busybox:1';
const SBIN_PATH = '/usr/local/sbin:/usr/sbin:/sbin';

/** Runs a command to its end, timing it from spawn to exit. Never rejects on a non-zero exit. */
export function timed(
  file: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${process.env.PATH ?? ''}:${SBIN_PATH}`, ...opts.env },
      // Aborting asks the command to stop (SIGTERM) and still resolves once it has exited.
      ...(opts.signal ? { signal: opts.signal, killSignal: 'SIGTERM' as const } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', (err) => {
      if (err.name !== 'AbortError') reject(err);
    });
    const limit = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('exit', (code, signal) => {
      clearTimeout(limit);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const done = () => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr, ms });
      // Output still in the pipes arrives before 'close'; a detached grandchild that kept the pipes open would
      // delay 'close' forever, so wait for it only briefly.
      const grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        done();
      }, 500);
      child.once('close', () => {
        clearTimeout(grace);
        done();
      });
    });
  });
}

/** Like `timed`, rejecting with the command's stderr when it exits non-zero. */
export async function must(
  file: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  const r = await timed(file, args, opts);
  if (r.code !== 0) {
    throw new Error(
      `${path.basename(file)} ${args.join(' ')}: exit ${r.code}: ${(r.stderr || r.stdout).trim()}`,
    );
  }
  return r;
}

export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Whether `command` is on the search path (sbin directories included). */
export async function haveCommand(command: string): Promise<boolean> {
  for (const dir of `${process.env.PATH ?? ''}:${SBIN_PATH}`.split(':').filter(Boolean)) {
    try {
      await fs.access(path.join(dir, command), fs.constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

/** Set in the environment of the run and so of every process it starts: how its end finds them all. */
export const RUN_MARKER_ENV = 'HYPERBOX_BENCH_RUN';
const DEFERRED_STEP_MS = 60_000;

/**
 * The scratch directory, fixtures and cleanup of one `npm run bench`. Cleanup runs once, on every way out: at the
 * end, after a failure, on SIGINT/SIGTERM (run.ts), and, when the process exits without it having finished
 * (process.exit from anywhere, an uncaught error), synchronously from the exit handler, without the deferred
 * steps but with everything else: runc containers, processes, mounts and directories.
 */
export class BenchRun implements BenchContext {
  readonly options: BenchOptions;
  readonly figures: Figure[] = [];
  readonly #base: string;
  readonly #shortDirs: string[] = [];
  readonly #deferred: { what: string; fn: () => Promise<void> }[] = [];
  readonly #bridges = new Set<string>();
  readonly #netTags = new Set<string>();
  readonly #containerIds = new Set<string>();
  #rootfs?: Promise<string>;
  #root?: Promise<string>;
  #cleaned?: Promise<void>;
  #swept = false;

  private constructor(base: string, options: BenchOptions) {
    this.#base = base;
    this.options = options;
    process.env[RUN_MARKER_ENV] = base;
    process.on('exit', () => {
      if (this.#swept) return;
      process.stderr.write('bench: exiting before cleanup finished: cleaning up what can be done now\n');
      this.#noteContainers(); // before the roots go
      for (const root of hyperboxRootsSync(this.#base)) {
        spawnSync(HYPERBOX, ['--root', root, 'system', 'reset', '--force'], {
          stdio: 'ignore',
          timeout: 60_000,
        });
      }
      this.#sweep();
      const left = this.leftovers();
      if (left.length > 0) process.stderr.write(`bench: LEFT BEHIND:\n  ${left.join('\n  ')}\n`);
    });
  }

  static async create(options: BenchOptions): Promise<BenchRun> {
    return new BenchRun(await fs.mkdtemp(path.join(os.tmpdir(), 'hyperbox-bench-')), options);
  }

  get base(): string {
    return this.#base;
  }

  async tempDir(name: string): Promise<string> {
    return fs.mkdtemp(path.join(this.#base, `${name}-`));
  }

  async shortTempDir(): Promise<string> {
    const dir = await fs.mkdtemp('/tmp/hbp-');
    this.#shortDirs.push(dir);
    return dir;
  }

  busyboxRootfs(): Promise<string> {
    this.#rootfs ??= (async () => {
      const dir = path.join(this.#base, 'busybox-rootfs');
      await must('bash', [path.join(TOP, 'scripts', 'make-busybox-rootfs.sh'), dir]);
      return dir;
    })();
    return this.#rootfs;
  }

  hyperboxRoot(): Promise<string> {
    this.#root ??= (async () => {
      const rootfs = await this.busyboxRootfs();
      this.log(`importing ${rootfs} as ${BUSYBOX_IMAGE} into ${this.#hyperboxRootPath()}`);
      await this.hyperbox(['image', 'import', rootfs, BUSYBOX_IMAGE]);
      return this.#hyperboxRootPath();
    })();
    return this.#root;
  }

  hyperbox(args: string[]): Promise<CommandResult> {
    // Once cleanup began (an interrupt), a benchmark still running must not start what cleanup would miss.
    if (this.#cleaned) return Promise.reject(new Error('interrupted'));
    return this.#hyperbox(args);
  }

  async removeContainers(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.#hyperbox(['rm', '-f', ...ids]);
  }

  #hyperbox(args: string[]): Promise<CommandResult> {
    return must(HYPERBOX, args, { env: { HYPERBOX_ROOT: this.#hyperboxRootPath() } });
  }

  #hyperboxRootPath(): string {
    return path.join(this.#base, 'hyperbox-root');
  }

  defer(what: string, fn: () => Promise<void>): void {
    this.#deferred.push({ what, fn });
  }

  log(line: string): void {
    process.stdout.write(`${line}\n`);
  }

  report(figure: Figure): void {
    this.figures.push(figure);
  }

  /** What this run owns on the host (see ownership.ts). */
  ownership(): Ownership {
    return {
      dirs: [this.#base, ...this.#shortDirs],
      marker: `${RUN_MARKER_ENV}=${this.#base}`,
      bridges: [...this.#bridges],
      netTags: [...this.#netTags],
      containerIds: this.#containerIds,
    };
  }

  /** Whatever of this run is still on the host: empty after a cleanup that did its job. */
  leftovers(): string[] {
    return leftovers(this.ownership());
  }

  /** Undoes everything, once: deferred steps, then each hyperbox root, then whatever is still there. */
  cleanup(): Promise<void> {
    this.#cleaned ??= this.#cleanup();
    return this.#cleaned;
  }

  async #cleanup(): Promise<void> {
    this.#noteContainers();
    for (const { what, fn } of this.#deferred.reverse()) {
      // A step that hangs (a daemon deaf to SIGTERM) must not keep the rest from running: the sweep kills it.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          warn(what, `no end after ${DEFERRED_STEP_MS / 1000} s, going on`);
          resolve();
        }, DEFERRED_STEP_MS);
      });
      await Promise.race([fn().catch((err) => warn(what, err)), late]);
      clearTimeout(timer);
    }
    for (const root of hyperboxRootsSync(this.#base)) {
      await this.#noteNetworks(root).catch((err) => warn(`networks of ${root}`, err));
      // Containers, VMs, networks (bridges, rules, DNS servers) and the root itself, the way a user would.
      const r = await timed(HYPERBOX, ['--root', root, 'system', 'reset', '--force'], { timeoutMs: 120_000 });
      if (r.code !== 0) warn(`hyperbox --root ${root} system reset`, r.stderr.trim());
    }
    this.#sweep();
  }

  /** The ids of every container in this run's hyperbox roots, so that their processes are found once they are gone. */
  #noteContainers(): void {
    for (const root of hyperboxRootsSync(this.#base)) {
      for (const id of entries(path.join(root, 'containers'))) {
        if (/^[0-9a-f]{64}$/.test(id)) this.#containerIds.add(id);
      }
    }
  }

  /** The bridges and rule tags of a root's networks, so that the final check knows them once the root is gone. */
  async #noteNetworks(root: string): Promise<void> {
    const ids = await must(HYPERBOX, ['--root', root, 'network', 'ls', '-q', '--no-trunc']);
    const list = ids.stdout.split('\n').filter(Boolean);
    if (list.length === 0) return;
    const r = await must(HYPERBOX, ['--root', root, 'network', 'inspect', ...list]);
    for (const n of JSON.parse(r.stdout) as { Id: string; Options: Record<string, string> }[]) {
      this.#netTags.add(`hbx-net:${n.Id.slice(0, 12)}`);
      const bridge = n.Options['com.docker.network.bridge.name'];
      if (bridge) this.#bridges.add(bridge);
    }
  }

  /**
   * Synchronous, so that the exit handler can run it too: deletes the runc containers below the scratch
   * directory, kills (by pid) every process of this run that is still there, unmounts, removes the directories.
   */
  #sweep(): void {
    this.#swept = true;
    this.#noteContainers(); // one an interrupted step was still creating
    const own = this.ownership();
    const step = (what: string, fn: () => void) => {
      try {
        fn();
      } catch (err) {
        warn(what, err);
      }
    };
    step('runc delete', () => {
      for (const root of runcRoots(this.#base)) {
        const list = spawnSync('runc', ['--root', root, 'list', '-q'], { encoding: 'utf8' });
        for (const id of (list.stdout ?? '').split('\n').filter(Boolean)) {
          spawnSync('runc', ['--root', root, 'delete', '-f', id]);
        }
      }
    });
    step('processes', () => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const left = ownedProcesses(own);
        if (left.length === 0) break;
        for (const p of left) {
          try {
            process.kill(p.pid, 'SIGKILL');
          } catch {}
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
    });
    step('umount', () => {
      for (const m of ownedMounts(own)) spawnSync('umount', ['-l', m]);
    });
    step('cgroups', () => {
      for (const dir of ownedCgroups(own)) fsSync.rmdirSync(dir); // empty once its processes are gone
    });
    for (const dir of own.dirs) step(`rm ${dir}`, () => fsSync.rmSync(dir, { recursive: true, force: true }));
  }
}

function warn(what: string, err: unknown): void {
  process.stderr.write(`bench: cleanup: ${what}: ${err instanceof Error ? err.message : String(err)}\n`);
}

function entries(dir: string): string[] {
  try {
    return fsSync.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Every hyperbox state root below the scratch directory: a db.sqlite one or two levels down. */
function hyperboxRootsSync(base: string): string[] {
  const roots: string[] = [];
  for (const entry of entries(base)) {
    const dir = path.join(base, entry);
    if (fsSync.existsSync(path.join(dir, 'db.sqlite'))) roots.push(dir);
    else {
      for (const sub of entries(dir)) {
        if (fsSync.existsSync(path.join(dir, sub, 'db.sqlite'))) roots.push(path.join(dir, sub));
      }
    }
  }
  return roots;
}

/** runc state roots below the scratch directory: each hyperbox root's, and the raw runc benchmark's. */
function runcRoots(base: string): string[] {
  const raw = entries(base)
    .filter((e) => e.startsWith('runc-'))
    .map((e) => path.join(base, e, 'state'));
  return [...raw, ...hyperboxRootsSync(base).map((root) => layoutFor(root).runcRoot)].filter((r) =>
    fsSync.existsSync(r),
  );
}

/** Pids of processes named `comm` whose command line mentions `text`. */
export async function processesMentioning(text: string, comm: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const name = (await fs.readFile(`/proc/${entry}/comm`, 'utf8')).trim();
      if (name !== comm) continue;
      const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(text)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
