import { NotFoundError } from '../core/errors.ts';
import { familiarName, normalizeReference } from '../core/image/reference.ts';
import type { CliContext } from './context.ts';
import { pullImage } from './image-transfer.ts';

export type PullPolicy = 'missing' | 'always' | 'never';

/** An image id or id prefix is never pulled: only names are. */
const ID_LIKE = /^(?:sha256:[a-f0-9]{1,64}|[a-f0-9]{12,64})$/;

/**
 * `run`/`create --pull`: makes sure the image is there before the container is created. `missing` pulls only when
 * the name finds nothing locally (docker first says `Unable to find image 'x:tag' locally`), `always` pulls every
 * time, `never` leaves it to create's "No such image". Progress goes to stderr, as docker's does, so that the
 * container's own output on stdout stays clean.
 */
export async function ensureImage(
  ctx: CliContext,
  opts: { ref: string; policy: string; platform?: string },
): Promise<void> {
  const policy = opts.policy as PullPolicy;
  if (policy === 'never' || ID_LIKE.test(opts.ref)) return;
  const engine = await ctx.engine();
  if (policy === 'missing') {
    try {
      await engine.images.resolve(opts.ref);
      return;
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    ctx.stderr.write(`Unable to find image '${familiarName(normalizeReference(opts.ref))}' locally\n`);
  }
  await pullImage(ctx, {
    ref: opts.ref,
    out: ctx.stderr,
    ...(opts.platform !== undefined ? { platform: opts.platform } : {}),
  });
}
