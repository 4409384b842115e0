import { writeAll } from '../drivers/io/write-all.ts';
import type { LogChunk } from '../engine/api/containers.ts';
import type { CliContext } from './context.ts';

/**
 * Copies a log to the terminal or pipe at its pace: the next chunk is asked for only once the last one is taken
 * (a slow `| wc` slows the reading; memory stays flat). A reader that went away (`| head`) ends it quietly.
 */
export async function copyLogOut(
  ctx: Pick<CliContext, 'stdout' | 'stderr'>,
  chunks: AsyncIterable<LogChunk>,
): Promise<void> {
  let broken = false;
  const onError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') broken = true;
  };
  ctx.stdout.on('error', onError);
  ctx.stderr.on('error', onError);
  try {
    for await (const { stream, data } of chunks) {
      if (broken) break;
      await writeAll(stream === 'stderr' ? ctx.stderr : ctx.stdout, data);
    }
  } finally {
    ctx.stdout.off('error', onError);
    ctx.stderr.off('error', onError);
  }
}
