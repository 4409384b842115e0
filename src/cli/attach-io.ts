import type { AttachSession } from '../core/container/process-io.ts';
import { mark } from '../core/trace.ts';
import type { ContainerRecord } from '../engine/api/containers.ts';
import type { Engine } from '../engine/api/engine.ts';
import type { CliContext } from './context.ts';
import { DEFAULT_DETACH_KEYS, DetachMatcher } from './detach-keys.ts';

/**
 * Connects the terminal to an attached container until its process exits: output to stdout/stderr, stdin to the
 * container (half-closing when ours ends, while output keeps flowing), window size with a tty, signals forwarded
 * without one. Returns the exit code, or undefined when the user detached.
 */
export async function pumpAttached(
  ctx: CliContext,
  engine: Engine,
  record: ContainerRecord,
  session: AttachSession,
  opts: { stdin: boolean; tty: boolean; sigProxy: boolean },
): Promise<number | undefined> {
  const cleanups: Array<() => void> = [];
  let detach!: () => void;
  const detached = new Promise<void>((resolve) => {
    detach = resolve;
  });
  const outputDone = new Promise<void>((resolve) => {
    session.stdout.once('end', resolve);
    session.stdout.once('close', resolve);
  });
  session.stdout.pipe(ctx.stdout, { end: false });
  if (session.stderr !== session.stdout) session.stderr.pipe(ctx.stderr, { end: false });

  if (opts.tty && ctx.stdout.isTTY) {
    const resize = () => {
      void engine.containers
        .resize(record.id, { rows: ctx.stdout.rows, cols: ctx.stdout.columns })
        .catch(() => {});
    };
    resize();
    process.on('SIGWINCH', resize);
    cleanups.push(() => process.off('SIGWINCH', resize));
  }
  if (opts.stdin && session.stdin) {
    const input = ctx.stdin;
    if (opts.tty && input.isTTY) {
      input.setRawMode(true);
      cleanups.push(() => input.setRawMode(false));
    }
    const matcher = new DetachMatcher(DEFAULT_DETACH_KEYS);
    const onData = (chunk: Buffer) => {
      if (!opts.tty) {
        session.stdin!.write(chunk);
        return;
      }
      const { forward, detach: done } = matcher.feed(chunk);
      if (forward.length) session.stdin!.write(forward);
      if (done) detach();
    };
    const onEnd = () => session.stdin!.end();
    input.on('data', onData);
    input.once('end', onEnd);
    cleanups.push(() => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.pause();
    });
  }
  if (opts.sigProxy && !opts.tty) {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) {
      const forward = () => {
        void engine.containers.kill(record.id, sig).catch(() => {});
      };
      process.on(sig, forward);
      cleanups.push(() => process.off(sig, forward));
    }
  }
  try {
    const outcome = await Promise.race([
      engine.containers.wait(record.id).then((code) => ({ code })),
      detached.then(() => ({ code: undefined })),
    ]);
    mark('attach: exited');
    if (outcome.code !== undefined) {
      // The process is gone; its last output may still be on its way through the monitor.
      await Promise.race([outputDone, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      mark('attach: output drained');
    } else {
      ctx.stderr.write('\nread escape sequence\n');
    }
    return outcome.code;
  } finally {
    for (const c of cleanups) c();
    session.stdout.unpipe(ctx.stdout);
    session.close();
  }
}
