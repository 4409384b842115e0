import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { FailedPreconditionError } from '../../core/errors.ts';
import { pidRuns } from '../proc/process.ts';
import { exitHeadroom } from './exit-headroom.ts';
import { SyncPipeReader } from './sync-pipe.ts';

/**
 * Starting conmon: it forks once (its first process exits at once) and the daemon child, in a new session, runs
 * runc and lives on with the container. We hand it pipes as extra fds, named by environment variables:
 * _OCI_SYNCPIPE (fd 3, conmon -> us: pid / failure / exec exit status), and for attached exec sessions
 * _OCI_STARTPIPE (fd 4, us -> conmon: "go") and _OCI_ATTACHPIPE (fd 5, conmon -> us: attach socket ready).
 */
export interface MonitorLaunch {
  child: ChildProcess;
  sync: SyncPipeReader;
  startPipe?: Writable;
  attachPipe?: SyncPipeReader;
  /** Resolves with what the first conmon process wrote to stderr once it exited. */
  exited: Promise<{ code: number | null; stderr: string }>;
  /** Drops our ends of the pipes so that this process can exit while the monitor runs on. */
  release(): void;
}

export function launchMonitor(
  conmon: string,
  args: string[],
  opts: {
    cwd: string;
    attachPipes?: boolean;
    /** Where conmon writes the exit file: the monitor holds room for it there (exit-headroom.ts). */
    exitDir: string;
  },
): MonitorLaunch {
  const extra = opts.attachPipes ? 3 : 1;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    _OCI_SYNCPIPE: '3',
  };
  if (opts.attachPipes) {
    env._OCI_STARTPIPE = '4';
    env._OCI_ATTACHPIPE = '5';
  }
  const stdio: ('ignore' | 'pipe' | number)[] = [
    'ignore',
    'ignore',
    'pipe',
    ...Array<'pipe'>(extra).fill('pipe'),
  ];
  const headroom = exitHeadroom(opts.exitDir);
  if (headroom !== undefined) stdio.push(headroom);
  let child: ChildProcess;
  try {
    child = spawn(conmon, args, {
      cwd: opts.cwd,
      detached: true, // its own process group: a ^C at our terminal must not reach the container's monitor
      env,
      stdio,
    });
  } finally {
    // The monitor has its own copy now (or none: it could not be started).
    if (headroom !== undefined) closeSync(headroom);
  }
  const stderrChunks: Buffer[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderrChunks.push(chunk));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    child.once('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      reject(
        code === 'ENOENT'
          ? new FailedPreconditionError(`conmon not found at ${conmon}: install conmon`)
          : err,
      );
    });
    child.once('exit', (code) => resolve({ code, stderr: Buffer.concat(stderrChunks).toString() }));
  });
  exited.catch(() => {}); // observed by the caller; never an unhandled rejection
  const sync = new SyncPipeReader(child.stdio[3] as unknown as Readable);
  const launch: MonitorLaunch = {
    child,
    sync,
    exited,
    release() {
      for (const stream of child.stdio) stream?.destroy();
      child.unref();
    },
  };
  if (opts.attachPipes) {
    const fds = child.stdio as unknown as (Readable & Writable)[];
    launch.startPipe = fds[4];
    launch.attachPipe = new SyncPipeReader(fds[5]!);
  }
  return launch;
}

/** conmon's pid file (-P), written by its first process before it exits. */
export async function readPidFile(file: string): Promise<number> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
}

/** Waits up to `ms` for a process to disappear, then kills it: the clean-up after a failed create. */
export async function reapStray(pid: number, ms = 2000): Promise<void> {
  if (pid <= 0) return;
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    // Gone or a zombie (the monitor is reparented to an init that may reap it late).
    if (!pidRuns(pid)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}
