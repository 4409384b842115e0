import { NotFoundError } from '../core/errors.ts';
import {
  familiarRepository,
  formatReference,
  normalizeReference,
  parseReference,
} from '../core/image/reference.ts';
import type { ProgressEvent } from '../core/registry/progress.ts';
import type { CliContext } from './context.ts';
import { progressView } from './progress.ts';

type Out = NodeJS.WriteStream;

export interface PullRequest {
  ref: string;
  /** Where progress and the closing lines go: stdout for `pull`, stderr for run's implicit pull. */
  out: Out;
  platform?: string;
  allTags?: boolean;
  quiet?: boolean;
  /** Print the pulled reference as the last line (`pull` does, run's implicit pull does not). */
  printRef?: boolean;
  /** false: `--tls-verify=false`. */
  tlsVerify?: boolean;
}

/**
 * A pull as docker shows it: `1: Pulling from library/busybox`, the layer lines, `Digest: sha256:...`,
 * `Status: Downloaded newer image for busybox:1` (or `Image is up to date for ...`), then the full reference.
 * Ctrl-C aborts the transfer; what was half downloaded is never visible.
 */
export async function pullImage(ctx: CliContext, req: PullRequest): Promise<{ ref: string }> {
  const parsed = parseReference(req.ref);
  const engine = await ctx.engine();
  const target = req.allTags ? parsed : normalizeReference(req.ref);
  const before = req.allTags ? undefined : await currentId(ctx, req.ref);
  const view = progressView(req.out, { quiet: req.quiet === true });
  const label = req.allTags ? undefined : (target.digest ?? target.tag);
  view.note(label ? `${label}: Pulling from ${target.path}` : `Pulling from ${target.path}`);
  const abort = new AbortController();
  const onSigint = () => abort.abort(new Error('pull interrupted'));
  process.once('SIGINT', onSigint);
  try {
    const result = await engine.images.pull(req.ref, {
      ...(req.platform !== undefined ? { platform: req.platform } : {}),
      ...(req.allTags ? { allTags: true } : {}),
      ...(req.tlsVerify === false ? { tlsVerify: false } : {}),
      onProgress: (e: ProgressEvent) => {
        // The client may announce the repository itself: the header above already did.
        if (!e.status.startsWith('Pulling from')) view.event(e);
      },
      signal: abort.signal,
    });
    view.done();
    // result.ref is familiar (busybox:1); docker's last line is the full name (docker.io/library/busybox:1).
    const shown = req.allTags ? familiarRepository(target) : result.ref;
    if (!req.quiet) {
      req.out.write(`Digest: ${result.digest}\n`);
      req.out.write(
        before === result.id
          ? `Status: Image is up to date for ${shown}\n`
          : `Status: Downloaded newer image for ${shown}\n`,
      );
    }
    if (req.printRef || req.quiet) {
      req.out.write(`${req.allTags ? `${target.domain}/${target.path}` : formatReference(target)}\n`);
    }
    return { ref: result.ref };
  } finally {
    view.done();
    process.removeListener('SIGINT', onSigint);
  }
}

async function currentId(ctx: CliContext, ref: string): Promise<string | undefined> {
  try {
    return (await (await ctx.engine()).images.resolve(ref)).id;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

export interface PushRequest {
  ref: string;
  out: Out;
  quiet?: boolean;
  /** false: `--tls-verify=false`. */
  tlsVerify?: boolean;
}

/**
 * A push as docker shows it: `The push refers to repository [host:5000/app]`, the layer lines, then
 * `1: digest: sha256:... size: 527`. With quiet only the reference.
 */
export async function pushImage(ctx: CliContext, req: PushRequest): Promise<void> {
  const target = normalizeReference(req.ref);
  const engine = await ctx.engine();
  const view = progressView(req.out, { quiet: req.quiet === true });
  view.note(`The push refers to repository [${target.domain}/${target.path}]`);
  try {
    const result = await engine.images.push(req.ref, {
      ...(req.tlsVerify === false ? { tlsVerify: false } : {}),
      onProgress: (e: ProgressEvent) => view.event(e),
    });
    view.done();
    if (req.quiet) {
      req.out.write(
        `${target.domain}/${target.path}${target.tag ? `:${target.tag}` : `@${target.digest}`}\n`,
      );
    } else {
      req.out.write(`${target.tag ?? target.digest}: digest: ${result.digest} size: ${result.size}\n`);
    }
  } finally {
    view.done();
  }
}
