import { parseEnv } from '../core/container/parse.ts';
import type { Engine } from '../engine/api/engine.ts';
import type { CliContext } from './context.ts';

/** `exec`'s flags, as commander hands them over. */
export interface ExecFlags {
  detach: boolean;
  interactive: boolean;
  tty: boolean;
  user?: string;
  env: string[];
  workdir?: string;
  privileged: boolean;
}

/** `exec`: runs the process and connects the terminal to it; returns its exit code (0 when detached). */
export async function runExecSession(
  ctx: CliContext,
  engine: Engine,
  ref: string,
  args: string[],
  flags: {
    detach: boolean;
    interactive: boolean;
    tty: boolean;
    user?: string;
    env: string[];
    workdir?: string;
    privileged: boolean;
  },
): Promise<number> {
  const tty = flags.tty;
  const session = await engine.containers.exec(ref, {
    args,
    env: parseEnv(flags.env, process.env),
    ...(flags.workdir !== undefined ? { workdir: flags.workdir } : {}),
    ...(flags.user !== undefined ? { user: flags.user } : {}),
    tty,
    stdin: flags.interactive && !flags.detach,
    detach: flags.detach,
    privileged: flags.privileged,
    ...(tty && ctx.stdout.isTTY ? { consoleSize: { rows: ctx.stdout.rows, cols: ctx.stdout.columns } } : {}),
  });
  if (flags.detach || !session.exitCode) return 0;
  const cleanups: Array<() => void> = [];
  const outputDone = Promise.all(
    [session.stdout, session.stderr].map(
      (s) =>
        new Promise<void>((resolve) => {
          s.once('end', resolve);
          s.once('close', resolve);
        }),
    ),
  );
  session.stdout.pipe(ctx.stdout, { end: false });
  session.stderr.pipe(ctx.stderr, { end: false });
  if (tty && ctx.stdout.isTTY) {
    const resize = () =>
      void session.resize({ rows: ctx.stdout.rows, cols: ctx.stdout.columns }).catch(() => {});
    process.on('SIGWINCH', resize);
    cleanups.push(() => process.off('SIGWINCH', resize));
  }
  if (flags.interactive && session.stdin) {
    const input = ctx.stdin;
    if (tty && input.isTTY) {
      input.setRawMode(true);
      cleanups.push(() => input.setRawMode(false));
    }
    input.pipe(session.stdin);
    cleanups.push(() => {
      input.unpipe(session.stdin!);
      input.pause();
    });
  }
  try {
    const code = await session.exitCode;
    await Promise.race([outputDone, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    return code;
  } finally {
    for (const c of cleanups) c();
  }
}
