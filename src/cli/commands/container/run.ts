import type { Command } from 'commander';
import type { ContainerConfig } from '../../../core/container/config.ts';
import { InvalidArgumentError } from '../../../core/errors.ts';
import type { Engine } from '../../../engine/api/engine.ts';
import { pumpAttached } from '../../attach-io.ts';
import type { CliContext } from '../../context.ts';
import { ExitStatus } from '../../exit-codes.ts';
import { ensureImage } from '../../pull-policy.ts';
import { addCreateFlags, type CreateFlags, configFromFlags } from '../../run-flags.ts';
import { eachRef } from './each-ref.ts';

/** `run`, `create` and `start`: a container made from an image, and set going (attached or not). */
export function registerRunCommands(program: Command, ctx: CliContext): void {
  addCreateFlags(
    program
      .command('run')
      .description('Create and run a new container from an image')
      .argument('<image>')
      .argument('[command...]')
      .passThroughOptions()
      .option('-d, --detach', 'run container in background and print container ID', false)
      .option('--sig-proxy <bool>', 'proxy received signals to the process', 'true'),
  ).action(
    async (image: string, args: string[], flags: CreateFlags & { detach: boolean; sigProxy: string }) => {
      const engine = await ctx.engine();
      const config = configFromFlags(flags, image, args);
      const id = await createContainer(ctx, engine, { flags, config });
      if (flags.detach) {
        // An --rm container whose start fails is removed by the engine.
        await engine.containers.start(id, { detached: true });
        ctx.stdout.write(`${id}\n`);
        return;
      }
      const code = await runAttached(ctx, engine, id, {
        stdin: config.openStdin,
        tty: config.tty,
        sigProxy: flags.sigProxy !== 'false',
        autoRemove: config.autoRemove,
      });
      throw new ExitStatus(code);
    },
  );

  addCreateFlags(
    program
      .command('create')
      .description('Create a new container')
      .argument('<image>')
      .argument('[command...]')
      .passThroughOptions(),
  ).action(async (image: string, args: string[], flags: CreateFlags) => {
    const engine = await ctx.engine();
    const config = configFromFlags(flags, image, args);
    const id = await createContainer(ctx, engine, { flags, config });
    ctx.stdout.write(`${id}\n`);
  });

  program
    .command('start')
    .description('Start one or more stopped containers')
    .argument('<containers...>')
    .option('-a, --attach', 'attach STDOUT/STDERR and forward signals', false)
    .option('-i, --interactive', "attach container's STDIN", false)
    .action(async (refs: string[], flags: { attach: boolean; interactive: boolean }) => {
      const engine = await ctx.engine();
      if (flags.attach || flags.interactive) {
        if (refs.length > 1)
          throw new InvalidArgumentError('you cannot start and attach multiple containers at once');
        const rec = await engine.containers.get(refs[0]!);
        const code = await runAttached(ctx, engine, rec.id, {
          stdin: flags.interactive && rec.config.openStdin,
          tty: rec.config.tty,
          sigProxy: true,
          autoRemove: rec.config.autoRemove,
        });
        throw new ExitStatus(code);
      }
      await eachRef(ctx, refs, async (ref) => {
        await engine.containers.start(ref, { detached: true });
      });
    });
}

/**
 * create's half of `run` and `create`: the image pulled as --pull says (of --platform), then the container made;
 * the engine's warnings go to stderr, as docker prints the daemon's.
 */
async function createContainer(
  ctx: CliContext,
  engine: Engine,
  opts: { flags: CreateFlags; config: Omit<ContainerConfig, 'imageId'> },
): Promise<string> {
  const { flags, config } = opts;
  const platform = flags.platform !== undefined ? { platform: flags.platform } : {};
  await ensureImage(ctx, { ref: config.image, policy: flags.pull, ...platform });
  const { id, warnings } = await engine.containers.create({
    ...(flags.name ? { name: flags.name } : {}),
    ...platform,
    config,
  });
  for (const w of warnings) ctx.stderr.write(`WARNING: ${w}\n`);
  return id;
}

/** `run` without -d and `start -a`: attach before start, stream until the process exits, return its exit code. */
async function runAttached(
  ctx: CliContext,
  engine: Engine,
  id: string,
  opts: { stdin: boolean; tty: boolean; sigProxy: boolean; autoRemove: boolean },
): Promise<number> {
  const { record, session } = await engine.containers.start(id, {
    attach: { stdin: opts.stdin },
    detached: false,
  });
  // undefined: the user detached (Ctrl-P Ctrl-Q) and the container goes on.
  return (await pumpAttached(ctx, engine, record, session!, opts)) ?? 0;
}
