import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { layoutFor } from '../../src/core/paths.ts';

/**
 * What every benchmark gets: the options, a scratch directory that disappears at the end, shared fixtures built on
 * first use (the busybox root file system, a hyperbox root with busybox imported), and a place to report figures.
 * Everything a benchmark starts lives below the scratch directory, so cleanup finds it there and only there.
 */
export interface BenchContext {
  readonly options: BenchOptions;
  /** A fresh directory below the run's scratch directory. */
  tempDir(name: string): Promise<string>;
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
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${process.env.PATH ?? ''}:${SBIN_PATH}`, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
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

/** The scratch directory, fixtures and cleanup of one `npm run bench`. */
export class BenchRun implements BenchContext {
  readonly options: BenchOptions;
  readonly figures: Figure[] = [];
  readonly #base: string;
  readonly #deferred: { what: string; fn: () => Promise<void> }[] = [];
  #rootfs?: Promise<string>;
  #root?: Promise<string>;
  #cleaned?: Promise<void>;

  private constructor(base: string, options: BenchOptions) {
    this.#base = base;
    this.options = options;
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

  /** Undoes everything, once: deferred steps, then any container still there, then mounts, then the files. */
  cleanup(): Promise<void> {
    this.#cleaned ??= this.#cleanup();
    return this.#cleaned;
  }

  async #cleanup(): Promise<void> {
    const warn = (what: string, err: unknown) =>
      process.stderr.write(`bench: cleanup: ${what}: ${err instanceof Error ? err.message : String(err)}\n`);
    for (const { what, fn } of this.#deferred.reverse()) {
      await fn().catch((err) => warn(what, err));
    }
    if (this.#root) {
      // Containers a failed benchmark left behind: remove them the way a user would.
      const ids = await timed(HYPERBOX, ['ps', '-aq'], {
        env: { HYPERBOX_ROOT: this.#hyperboxRootPath() },
      }).then((r) => (r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean) : []));
      if (ids.length > 0) {
        await this.#hyperbox(['rm', '-f', ...ids]).catch((err) => warn('hyperbox rm -f', err));
      }
    }
    await this.#deleteRuncContainers().catch((err) => warn('runc delete', err));
    await this.#killMonitors().catch((err) => warn('monitors', err));
    await this.#unmountAll().catch((err) => warn('umount', err));
    await fs.rm(this.#base, { recursive: true, force: true }).catch((err) => warn(`rm ${this.#base}`, err));
  }

  /** Every runc state root below the scratch directory: the raw runc benchmark's and hyperbox's. */
  async #runcRoots(): Promise<string[]> {
    const roots = [layoutFor(this.#hyperboxRootPath()).runcRoot];
    for (const entry of await fs.readdir(this.#base).catch(() => [])) {
      if (entry.startsWith('runc-')) roots.push(path.join(this.#base, entry, 'state'));
    }
    return roots;
  }

  async #deleteRuncContainers(): Promise<void> {
    if (!(await haveCommand('runc'))) return;
    for (const root of await this.#runcRoots()) {
      const exists = await fs.stat(root).then(
        () => true,
        () => false,
      );
      if (!exists) continue;
      const list = await timed('runc', ['--root', root, 'list', '-q']);
      for (const id of list.stdout.split('\n').filter(Boolean)) {
        await timed('runc', ['--root', root, 'delete', '-f', id]);
      }
    }
  }

  /** Container monitors started for this run: conmon processes whose arguments name the scratch directory. */
  async #killMonitors(): Promise<void> {
    for (const pid of await processesMentioning(this.#base, 'conmon')) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }

  async #unmountAll(): Promise<void> {
    const mountinfo = await fs.readFile('/proc/self/mountinfo', 'utf8');
    const points = mountinfo
      .split('\n')
      .map((line) => line.split(' ')[4])
      .filter((p): p is string => p !== undefined && (p === this.#base || p.startsWith(`${this.#base}/`)))
      .sort((a, b) => b.length - a.length);
    for (const p of points) await timed('umount', ['-l', p]);
  }
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
