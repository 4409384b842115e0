import { type Command, Option } from 'commander';
import { HyperboxError } from '../../../core/errors.ts';
import { imageInspectView } from '../../../core/image/views.ts';
import { volumeView } from '../../../core/volume/views.ts';
import type { Engine } from '../../../engine/api/engine.ts';
import type { CliContext } from '../../context.ts';
import { ExitStatus } from '../../exit-codes.ts';
import { printInspect } from '../../output.ts';

/** `inspect` (a container, an image or a volume, whichever the name finds first) and `container inspect`. */
export function registerInspectCommands(program: Command, container: Command, ctx: CliContext): void {
  program
    .command('inspect')
    .description('Return low-level information on hyperbox objects')
    .argument('<names...>')
    .option('-f, --format <template>', 'format output using a Go template')
    .addOption(
      new Option('--type <type>', 'only inspect objects of the given type').choices([
        'container',
        'image',
        'volume',
      ]),
    )
    .action(async (refs: string[], flags: { format?: string; type?: string }) => {
      const engine = await ctx.engine();
      const found: unknown[] = [];
      let failed = false;
      for (const ref of refs) {
        try {
          found.push(await inspectAny(engine, ref, flags.type));
        } catch (err) {
          if (!(err instanceof HyperboxError) || err.code !== 'NotFound') throw err;
          ctx.stderr.write(`Error: No such object: ${ref}\n`);
          failed = true;
        }
      }
      printInspect(ctx.stdout, found, flags.format);
      if (failed) throw new ExitStatus(1);
    });
  container
    .command('inspect')
    .description('Display detailed information on one or more containers')
    .argument('<containers...>')
    .option('-f, --format <template>', 'format output using a Go template')
    .action(async (refs: string[], flags: { format?: string }) => {
      const engine = await ctx.engine();
      printInspect(
        ctx.stdout,
        await Promise.all(refs.map((r) => engine.containers.inspect(r))),
        flags.format,
      );
    });
}

async function inspectAny(engine: Engine, ref: string, type: string | undefined): Promise<unknown> {
  const tryIt = async (fn: () => unknown) => {
    try {
      return { ok: true as const, value: await fn() };
    } catch (err) {
      if (err instanceof HyperboxError && err.code === 'NotFound') return { ok: false as const, err };
      throw err;
    }
  };
  const order: Array<[string, () => unknown]> = [
    ['container', () => engine.containers.inspect(ref)],
    ['image', async () => imageInspectView(await engine.images.inspect(ref))],
    ['volume', async () => volumeView(await engine.volumes.inspect(ref))],
  ];
  let last: unknown;
  for (const [kind, fn] of order) {
    if (type && type !== kind) continue;
    const r = await tryIt(fn);
    if (r.ok) return r.value;
    last = r.err;
  }
  throw last;
}
