import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { OciProcess } from '../../core/container/oci-types.ts';
import { InternalError } from '../../core/errors.ts';
import { attachSocket } from './attach.ts';
import { type ConmonPaths, conmonExecArgs } from './conmon-args.ts';
import { sendResize } from './control-fifo.ts';
import { launchMonitor, reapStray } from './monitor-process.ts';
import type { ExecOptions, ExecSession } from './oci-runtime.ts';
import { classifyStartFailure } from './runc-errors.ts';

/**
 * An exec session runs under a conmon of its own (`conmon --exec`), in `<execRoot>/<id>/<session>/`: like the
 * container's init it then survives the caller, and attach, resize and exit status work the same way for both.
 *
 * Attached: conmon signals on the attach pipe once its attach socket listens, we connect, then tell it on the
 * start pipe to run `runc exec`; no output is lost. The exit status comes on the sync pipe after the output.
 */
export async function startExec(
  paths: ConmonPaths,
  opts: { execRoot: string; id: string; exec: ExecOptions },
): Promise<ExecSession> {
  const { exec } = opts;
  const sessionId = randomBytes(8).toString('hex');
  const dir = path.join(opts.execRoot, opts.id, sessionId);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'process.json'), JSON.stringify(processSpec(exec)));

  const attach = !exec.detach;
  const monitor = launchMonitor(
    paths.conmon,
    conmonExecArgs(paths, {
      id: opts.id,
      sessionId,
      dir,
      terminal: exec.tty,
      stdin: exec.stdin && attach,
      attach,
    }),
    { cwd: dir, attachPipes: attach, exitDir: dir },
  );
  const fail = async (err: unknown): Promise<never> => {
    monitor.release();
    await reapStray(monitor.child.pid ?? 0, 500);
    await rm(dir, { recursive: true, force: true });
    throw err;
  };

  try {
    let session: Awaited<ReturnType<typeof attachSocket>> | undefined;
    let exitCode: Promise<number> | undefined;
    if (attach) {
      monitor.startPipe!.write('0'); // conmon's first read: "parent is ready"
      const ready = await monitor.attachPipe!.next();
      if (!ready) {
        const { stderr } = await monitor.exited;
        throw new InternalError(
          `exec in ${opts.id}: conmon failed before its attach socket was ready: ${stderr}`,
        );
      }
      let settle!: (code: Promise<number>) => void;
      exitCode = new Promise<number>((resolve) => {
        settle = resolve;
      });
      session = await attachSocket(path.join(dir, 'attach'), { stdin: exec.stdin, endAfter: exitCode });
      monitor.startPipe!.write('0'); // second read, in the child about to run runc exec: "go"
      const started = await monitor.sync.next();
      if (!started || started.data < 0) {
        session.close();
        throw classifyStartFailure(started?.message ?? 'conmon exited', `exec in ${opts.id}`);
      }
      settle(exitStatus(monitor, opts.id, dir));
      return {
        pid: started.data,
        ...(session.stdin ? { stdin: session.stdin } : {}),
        stdout: session.stdout,
        stderr: session.stderr,
        resize: (size) => sendResize(path.join(dir, 'ctl'), size),
        exitCode,
      };
    }
    const started = await monitor.sync.next();
    if (!started || started.data < 0) {
      throw classifyStartFailure(started?.message ?? 'conmon exited', `exec in ${opts.id}`);
    }
    monitor.release();
    return {
      pid: started.data,
      stdout: emptyStream(),
      stderr: emptyStream(),
      resize: (size) => sendResize(path.join(dir, 'ctl'), size),
    };
  } catch (err) {
    return fail(err);
  }
}

/** The second sync message: the exit status. Then the session's files go. */
async function exitStatus(
  monitor: ReturnType<typeof launchMonitor>,
  id: string,
  dir: string,
): Promise<number> {
  const message = await monitor.sync.next();
  monitor.release();
  await rm(dir, { recursive: true, force: true });
  if (!message || message.data < 0) {
    throw new InternalError(
      `exec in ${id}: the monitor ended without an exit status (${message?.message ?? 'EOF'})`,
    );
  }
  return message.data;
}

function processSpec(exec: ExecOptions): OciProcess {
  return {
    terminal: exec.tty,
    ...(exec.tty && exec.consoleSize
      ? { consoleSize: { height: exec.consoleSize.rows, width: exec.consoleSize.cols } }
      : {}),
    user: {
      uid: exec.user.uid,
      gid: exec.user.gid,
      ...(exec.user.additionalGids.length ? { additionalGids: exec.user.additionalGids } : {}),
    },
    args: exec.args,
    env: exec.env,
    cwd: exec.cwd,
    ...(exec.capabilities
      ? {
          capabilities: {
            bounding: exec.capabilities,
            effective: exec.capabilities,
            permitted: exec.capabilities,
          },
        }
      : {}),
    noNewPrivileges: exec.noNewPrivileges ?? false,
  };
}

function emptyStream(): PassThrough {
  const stream = new PassThrough();
  stream.end();
  return stream;
}
