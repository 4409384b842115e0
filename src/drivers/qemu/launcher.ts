import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { UnavailableError } from '../../core/errors.ts';
import { socketAnswers } from '../io/socket-answers.ts';
import { processStartTime, signalIfSame } from '../proc/process.ts';
import type { Launched, LaunchRequest } from './vm-runtime.ts';

/**
 * Starts QEMU detached from the CLI: in a new session (setsid), stdio to a log file, under a waiter — a POSIX shell
 * that stays QEMU's parent only to write its exit status to `exitFile` when it ends (a shell costs ~1 MiB, and a
 * QEMU with no parent of ours would leave a crash without a reason). Neither process is a child the CLI waits for:
 * the VM outlives every hyperbox process, and the next command reads the exit file.
 */
const WAITER = 'f=$1; shift; "$@"; s=$?; echo "$s" > "$f.tmp" && mv "$f.tmp" "$f"';

export async function launchQemu(req: LaunchRequest): Promise<Launched> {
  for (const f of [req.exitFile, req.pidFile, req.qmpSocket]) fs.rmSync(f, { force: true });
  const log = fs.openSync(req.logFile, 'a', 0o600);
  const logStart = fs.fstatSync(log).size;
  let waiterPid: number | undefined;
  try {
    const child = spawn(
      '/bin/sh',
      ['-c', WAITER, 'hyperbox-vm-waiter', req.exitFile, req.qemu, ...req.argv],
      {
        detached: true,
        stdio: ['ignore', log, log],
      },
    );
    child.unref();
    waiterPid = child.pid;
    if (waiterPid === undefined) throw new UnavailableError(`cannot start ${req.qemu}`);
  } finally {
    fs.closeSync(log);
  }
  const waiterStart = processStartTime(waiterPid);
  const deadline = Date.now() + (req.timeoutMs ?? 10_000);
  for (;;) {
    const pid = readPidFile(req.pidFile);
    // The QMP socket file appears at bind(), a moment before QEMU listens: a session opened in between is refused.
    if (pid !== undefined && fs.existsSync(req.qmpSocket) && (await socketAnswers(req.qmpSocket))) {
      const startTime = processStartTime(pid);
      if (startTime !== undefined && waiterStart !== undefined)
        return {
          qemu: { pid, startTime },
          waiter: { pid: waiterPid, startTime: waiterStart },
          logOffset: logStart,
        };
    }
    if (fs.existsSync(req.exitFile)) {
      throw new UnavailableError(
        `QEMU failed to start: ${lastComplaint(req.logFile, logStart) ?? 'no message'}`,
      );
    }
    if (Date.now() > deadline) {
      if (pid !== undefined) signalIfSame({ pid, startTime: processStartTime(pid) ?? -1 });
      throw new UnavailableError(`QEMU did not create its QMP socket within ${req.timeoutMs ?? 10_000} ms`);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

function readPidFile(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The last error QEMU reported in its log, without its program-name prefix (`qemu-system-x86_64: ` from
 * error_report, `qemu: ` from the loaders). The waiter's shell writes a line of its own when QEMU dies of a signal
 * ("Killed" after our SIGKILL): that is no complaint, and would hide the error that made us kill it.
 */
export function lastComplaint(logFile: string, fromOffset = 0): string | undefined {
  let text = '';
  try {
    text = fs.readFileSync(logFile).subarray(fromOffset).toString('utf8');
  } catch {
    return undefined;
  }
  return complaintIn(text);
}

/** What dash prints for a foreground job a signal ended (strsignal's words), alone on its line. */
const SHELL_SIGNAL_LINE =
  /^(Killed|Terminated|Aborted|Hangup|Quit|Alarm clock|Bus error|Segmentation fault|Illegal instruction|Floating point exception|Trace\/breakpoint trap|User defined signal [12])( \(core dumped\))?$/;

export function complaintIn(log: string): string | undefined {
  const lines = log
    .split('\n')
    .map((l) => l.replace(/^qemu(-system-\w+)?: /, '').trim())
    .filter((l) => l !== '' && !l.startsWith('warning:') && !SHELL_SIGNAL_LINE.test(l));
  return lines.at(-1);
}

/** The exit status the waiter recorded, if it did. */
export function readExitFile(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}
