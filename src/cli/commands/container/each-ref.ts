import { HyperboxError } from '../../../core/errors.ts';
import type { CliContext } from '../../context.ts';
import { ExitStatus } from '../../exit-codes.ts';

/** Applies `fn` to each container, printing each name as docker does, reporting failures and going on. */
export async function eachRef(
  ctx: CliContext,
  refs: string[],
  fn: (ref: string) => Promise<unknown>,
  opts: { ignoreNotFound?: boolean; quiet?: boolean } = {},
): Promise<void> {
  let failed = false;
  for (const ref of refs) {
    try {
      await fn(ref);
      if (!opts.quiet) ctx.stdout.write(`${ref}\n`);
    } catch (err) {
      if (opts.ignoreNotFound && err instanceof HyperboxError && err.code === 'NotFound') continue;
      if (refs.length === 1) throw err;
      ctx.stderr.write(`Error response from daemon: ${err instanceof Error ? err.message : String(err)}\n`);
      failed = true;
    }
  }
  if (failed) throw new ExitStatus(1);
}

/** A repeatable option's values, in order (`-f a -f b`). */
export const collect = (value: string, previous: string[]) => [...previous, value];
