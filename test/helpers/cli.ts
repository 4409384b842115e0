// First: re-runs this test file inside a private network namespace (see the module).
import './private-netns.ts';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HYPERBOX = path.join(REPO, 'bin', 'hyperbox');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Whether the privileged black-box tests can run here; the reason when not. */
export function privilegedSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (runc, overlayfs, cgroups)';
  for (const tool of ['runc', 'conmon', 'busybox']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed (bash scripts/setup.sh)`;
  }
  return undefined;
}

/**
 * Which transport the CLI under test uses: `local` (in-process engine, the default) or `daemon` (env
 * HYPERBOX_TEST_TRANSPORT=daemon: each TestRoot runs `hyperbox serve` on its socket, and every command is pointed
 * at it with HYPERBOX_HOST, so that a daemon that is down fails the test instead of falling back in-process).
 */
export const TEST_TRANSPORT: 'local' | 'daemon' =
  process.env.HYPERBOX_TEST_TRANSPORT === 'daemon' ? 'daemon' : 'local';

/** A private state root with the busybox test image imported as busybox:1; `cleanup` checks for litter. */
export class TestRoot {
  readonly root: string;
  /** The daemon serving this root in daemon mode. */
  readonly daemon: ChildProcess | undefined;
  readonly #env: Record<string, string> = {};
  /** `daemonEnv`: what the daemon sees beside the test's environment (e.g. HYPERBOX_CONFIG: registries are the engine's). */
  constructor(opts: { transport?: 'local' | 'daemon'; daemonEnv?: Record<string, string> } = {}) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-test-'));
    if ((opts.transport ?? TEST_TRANSPORT) === 'daemon') {
      const socket = path.join(this.root, 'run', 'hyperbox.sock');
      this.daemon = startDaemon(this.root, socket, opts.daemonEnv ?? {});
      this.#env.HYPERBOX_HOST = `unix://${socket}`;
    }
  }

  run(
    args: string[],
    opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {},
  ): CliResult {
    const r = spawnSync(HYPERBOX, ['--root', this.root, ...args], {
      input: opts.input ?? '',
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 60_000,
      env: { ...process.env, ...this.#env, ...opts.env },
    });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** As `run`, with stdin and stdout as bytes (a tar through `cp -`). */
  runBytes(
    args: string[],
    opts: { input?: Buffer } = {},
  ): { status: number; stdout: Buffer; stderr: string } {
    const r = spawnSync(HYPERBOX, ['--root', this.root, ...args], {
      input: opts.input ?? Buffer.alloc(0),
      timeout: 60_000,
      env: { ...process.env, ...this.#env },
    });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
  }

  /** Runs and insists on success, returning stdout. */
  ok(args: string[], opts: { input?: string } = {}): string {
    const r = this.run(args, opts);
    if (r.status !== 0)
      throw new Error(`hyperbox ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  spawn(args: string[]) {
    return spawn(HYPERBOX, ['--root', this.root, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...this.#env },
    });
  }

  importBusybox(ref = 'busybox:1'): void {
    this.ok(['image', 'import', busyboxRootfs(), ref]);
  }

  /** Removes every container, then asserts that nothing of this root is left on the host. */
  cleanup(): string[] {
    const ids = this.run(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
    if (ids.length) this.run(['rm', '-f', '-v', ...ids]);
    if (this.daemon) stopDaemon(this.daemon);
    // A monitor's exit command may still be finishing for a moment after `rm`: allow it two seconds.
    let litter = litterOf(this.root);
    for (let i = 0; i < 20 && litter.length > 0; i++) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      litter = litterOf(this.root);
    }
    fs.rmSync(this.root, { recursive: true, force: true });
    return litter;
  }
}

/** Starts `hyperbox serve` on a root and waits (up to 15 s) until its socket answers. */
export function startDaemon(root: string, socket: string, env: Record<string, string>): ChildProcess {
  const log = path.join(root, 'serve.log');
  const out = fs.openSync(log, 'a');
  const child = spawn(HYPERBOX, ['--root', root, 'serve'], {
    stdio: ['ignore', out, out],
    env: { ...process.env, ...env },
  });
  fs.closeSync(out);
  const deadline = Date.now() + 15_000;
  while (!fs.existsSync(socket)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`hyperbox serve did not come up on ${socket}: ${fs.readFileSync(log, 'utf8')}`);
    }
    spawnSync('sleep', ['0.05']);
  }
  // A test that dies before cleanup must not leave its daemon behind (nor wait for it: unref).
  child.unref();
  process.once('exit', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** SIGTERM to the daemon (by its pid) and a wait of up to 10 s for it to be gone. */
export function stopDaemon(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  process.kill(child.pid, 'SIGTERM');
  for (let i = 0; i < 200; i++) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    } catch {
      break; // gone
    }
    if (/^\d+ \(.*\) Z/.test(stat)) break; // exited, not yet reaped by us
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

/** What a root leaves on the host: mounts below it, monitor processes naming it, runc state, cgroups. */
export function litterOf(root: string): string[] {
  const litter: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp?.startsWith(`${root}/`)) litter.push(`mount ${mp}`);
  }
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(root) && Number(pid) !== process.pid)
        litter.push(`process ${pid} ${cmd.replace(/\0/g, ' ').slice(0, 120)}`);
    } catch {
      // gone meanwhile
    }
  }
  const runcState = path.join(root, 'run', 'runc');
  if (fs.existsSync(runcState) && fs.readdirSync(runcState).length > 0)
    litter.push(`runc state in ${runcState}`);
  for (const controller of ['memory', 'pids', 'cpu', 'cpuset', 'freezer', 'unified', '']) {
    const dir = path.join('/sys/fs/cgroup', controller, 'hyperbox');
    try {
      for (const id of fs.readdirSync(dir, { withFileTypes: true })) {
        if (id.isDirectory() && fs.existsSync(path.join(root, 'containers', id.name)))
          litter.push(`cgroup ${dir}/${id.name}`);
      }
    } catch {
      // no such hierarchy
    }
  }
  return litter;
}

let rootfsCache: string | undefined;

/** A busybox root file system built once per test process from Debian's busybox-static. */
export function busyboxRootfs(): string {
  if (rootfsCache) return rootfsCache;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-rootfs-'));
  execFileSync('bash', [path.join(REPO, 'scripts', 'make-busybox-rootfs.sh'), dir], { stdio: 'ignore' });
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  rootfsCache = dir;
  return dir;
}
