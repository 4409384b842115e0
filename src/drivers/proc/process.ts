import fs from 'node:fs';
import type { ProcessIdentity } from '../../core/process.ts';

/**
 * The one way hyperbox asks whether a process lives. A pid names a process only until it is reused, and a zombie
 * has exited although its pid still answers signals: both are read from /proc/<pid>/stat, once.
 */

interface StatFields {
  comm: string;
  state: string;
  startTime: number;
}

function readStat(pid: number): StatFields | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: it runs from the first '(' to the last ')'.
  const close = stat.lastIndexOf(')');
  const rest = stat.slice(close + 2).split(' ');
  const startTime = Number(rest[19]);
  if (!Number.isFinite(startTime)) return undefined;
  return { comm: stat.slice(stat.indexOf('(') + 1, close), state: rest[0] ?? '', startTime };
}

/** The identity of a live process (not a zombie); undefined when there is none with that pid. */
export function identify(pid: number): ProcessIdentity | undefined {
  const s = readStat(pid);
  return s && s.state !== 'Z' ? { pid, startTime: s.startTime } : undefined;
}

/** Field 22 of /proc/<pid>/stat for a live process; undefined when it is gone or a zombie. */
export function processStartTime(pid: number): number | undefined {
  return identify(pid)?.startTime;
}

/** Whether this very process (not a later one that got its pid) still runs. */
export function isAlive(p: ProcessIdentity | undefined): boolean {
  return p !== undefined && processStartTime(p.pid) === p.startTime;
}

/**
 * Whether a process with this pid runs (not a zombie), and, with `comm`, runs that program: for pids recorded
 * without a start time (a monitor's pid file), the name is what tells a reused pid apart.
 */
export function pidRuns(pid: number, opts: { comm?: string } = {}): boolean {
  if (pid === process.pid) return true;
  const s = readStat(pid);
  if (!s || s.state === 'Z') return false;
  return opts.comm === undefined || s.comm === opts.comm;
}

/** Sends `signal` only while the identity still names the process we mean. */
export function signalIfSame(p: ProcessIdentity, signal: NodeJS.Signals = 'SIGKILL'): boolean {
  if (!isAlive(p)) return false;
  try {
    process.kill(p.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the process is gone; false at the deadline. */
export async function waitGone(p: ProcessIdentity | undefined, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; isAlive(p); i++) {
    if (Date.now() > deadline) return false;
    // Often gone at once: look often at first.
    await new Promise((r) => setTimeout(r, i < 20 ? 5 : 20));
  }
  return true;
}
