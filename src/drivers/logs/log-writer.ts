import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { FailedPreconditionError, InternalError } from '../../core/errors.ts';
import { pidRuns } from '../proc/process.ts';

/**
 * The native log writer (native/log-writer, built into dist/native/hbx-logwriter): one process per running
 * container, between conmon and the log files. Started before conmon, detached in its own session like conmon, so
 * it outlives every hyperbox process; it creates `fifo`, opens it, says "ready", then converts conmon's k8s-file
 * records into `format` in `file`, rotating by `maxSize` x `maxFile`, and exits once conmon has closed the FIFO.
 */
export interface LogWriterOptions {
  fifo: string;
  file: string;
  format: 'json-file' | 'local';
  /** 0: never rotate. */
  maxSize: number;
  maxFile: number;
  compress: boolean;
  /** json-file: the `attrs` object every record carries (JSON), when there is one. */
  attrs?: string;
  /** Where the writer reports what it could not do (a full disk), since nobody reads its stderr. */
  errorFile: string;
  pidFile: string;
}

/** The writer's name in /proc/<pid>/comm: how a recycled pid is told apart. */
const COMM = 'hbx-logwriter';

export async function startLogWriter(binary: string, opts: LogWriterOptions): Promise<number> {
  // biome-ignore format: one flag and its value per line
  const args = [
    '--fifo', opts.fifo,
    '--file', opts.file,
    '--format', opts.format,
    '--max-size', String(opts.maxSize),
    '--max-file', String(opts.maxFile),
    '--error-file', opts.errorFile,
    // The writer writes its own pid file before anything else: a starter killed right after spawning it
    // (kill -9 of `run`) leaves a writer the teardown still finds.
    '--pid-file', opts.pidFile,
  ];
  if (opts.compress) args.push('--compress');
  if (opts.attrs) args.push('--attrs', opts.attrs);
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('ready\n')) resolve();
      });
      child.once('error', (err) => {
        reject(
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? new FailedPreconditionError(
                `the log writer is not built (${binary}): run bash scripts/build.sh (needs gcc, libc6-dev, zlib1g-dev)`,
              )
            : err,
        );
      });
      child.once('close', (code, signal) =>
        reject(
          new InternalError(
            `the log writer exited (${signal ?? code}) before it was ready: ${Buffer.concat(stderr).toString().trim()}`,
          ),
        ),
      );
    });
  } finally {
    child.stdout.destroy();
    child.stderr.destroy();
    child.unref();
  }
  return child.pid!;
}

/** The writer's pid from its pid file, while that process is still the writer; 0 otherwise. */
export function livingWriter(pidFile: string): number {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return 0;
  }
  return pidRuns(pid, { comm: COMM }) && pid !== process.pid ? pid : 0;
}

/** Ends a writer whose conmon never came (a failed create): it would otherwise wait for it a minute. */
export function stopLogWriter(pidFile: string): void {
  const pid = livingWriter(pidFile);
  if (pid) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {}
  }
}

/**
 * Waits until the writer has exited (it does once conmon is gone and it has written what conmon handed it), so that
 * the log is complete when a container's exit is reported. At most `ms`.
 */
export async function waitLogWriterGone(pidFile: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; livingWriter(pidFile) && Date.now() < deadline; i++) {
    await new Promise((r) => setTimeout(r, i < 40 ? 5 : 20));
  }
}
