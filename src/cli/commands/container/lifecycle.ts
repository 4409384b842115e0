import fs from 'node:fs';
import type { Command } from 'commander';
import { parseInteger } from '../../../core/container/parse.ts';
import type { CliContext } from '../../context.ts';
import { eachRef } from './each-ref.ts';

/** `stop`, `restart`, `kill`, `pause`, `unpause` and `rm`: one or more containers each, going on past failures. */
export function registerLifecycleCommands(program: Command, ctx: CliContext): void {
  program
    .command('stop')
    .description('Stop one or more running containers')
    .argument('<containers...>')
    .option('-t, --time <seconds>', 'seconds to wait before killing the container')
    .option('-s, --signal <signal>', 'signal to send to the container')
    .action(async (refs: string[], flags: { time?: string; signal?: string }) => {
      const engine = await ctx.engine();
      const timeoutSeconds =
        flags.time === undefined ? undefined : parseInteger(flags.time, '--time', { min: -1 });
      await eachRef(ctx, refs, (ref) =>
        engine.containers.stop(ref, {
          ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
          ...(flags.signal ? { signal: flags.signal } : {}),
        }),
      );
    });

  program
    .command('restart')
    .description('Restart one or more containers')
    .argument('<containers...>')
    .option('-t, --time <seconds>', 'seconds to wait before killing the container')
    .action(async (refs: string[], flags: { time?: string }) => {
      const engine = await ctx.engine();
      const timeoutSeconds =
        flags.time === undefined ? undefined : parseInteger(flags.time, '--time', { min: -1 });
      await eachRef(ctx, refs, (ref) =>
        engine.containers.restart(ref, timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
      );
    });

  program
    .command('kill')
    .description('Kill one or more running containers')
    .argument('<containers...>')
    .option('-s, --signal <signal>', 'signal to send to the container', 'KILL')
    .action(async (refs: string[], flags: { signal: string }) => {
      const engine = await ctx.engine();
      await eachRef(ctx, refs, (ref) => engine.containers.kill(ref, flags.signal));
    });

  for (const [name, verb] of [
    ['pause', 'Pause all processes within one or more containers'],
    ['unpause', 'Unpause all processes within one or more containers'],
  ] as const) {
    program
      .command(name)
      .description(verb)
      .argument('<containers...>')
      .action(async (refs: string[]) => {
        const engine = await ctx.engine();
        await eachRef(ctx, refs, (ref) =>
          name === 'pause' ? engine.containers.pause(ref) : engine.containers.unpause(ref),
        );
      });
  }

  program
    .command('rm')
    .description('Remove one or more containers')
    .argument('<containers...>')
    .option('-f, --force', 'force the removal of a running container (uses SIGKILL)', false)
    .option('-v, --volumes', 'remove anonymous volumes associated with the container', false)
    .action(async (refs: string[], flags: { force: boolean; volumes: boolean }) => {
      const engine = await ctx.engine();
      await eachRef(
        ctx,
        refs,
        (ref) => engine.containers.remove(ref, { force: flags.force, volumes: flags.volumes }),
        {
          ignoreNotFound: flags.force,
        },
      );
    });
}

/** `container prune`, and the hidden `container cleanup` that a container's monitor runs when it exits. */
export function registerHousekeepingCommands(container: Command, ctx: CliContext): void {
  container
    .command('prune')
    .description('Remove all stopped containers')
    .option('-f, --force', 'do not prompt for confirmation', false)
    .action(async () => {
      const engine = await ctx.engine();
      const removed = await engine.containers.prune();
      ctx.stdout.write(
        `Deleted Containers:\n${removed.map((id) => `${id}\n`).join('')}\nTotal reclaimed space: 0B\n`,
      );
    });
  container
    .command('cleanup', { hidden: true })
    .description('record the exit of a container (run by its monitor)')
    .argument('<id>')
    .action(async (id: string) => {
      // A root removed meanwhile (system reset, a test's clean-up) has nothing to record: building an engine
      // would create it again, empty.
      if (!fs.existsSync(ctx.layout().db)) return;
      // In-process always: the monitor runs this when the container exits, with or without a daemon.
      const engine = await ctx.localEngine();
      await engine.containers.onExit(id);
    });
}

/** `wait` (prints each exit code) and `rename`. */
export function registerWaitAndRename(program: Command, ctx: CliContext): void {
  program
    .command('wait')
    .description('Block until one or more containers stop, then print their exit codes')
    .argument('<containers...>')
    .action(async (refs: string[]) => {
      const engine = await ctx.engine();
      await eachRef(
        ctx,
        refs,
        async (ref) => {
          ctx.stdout.write(`${await engine.containers.wait(ref)}\n`);
        },
        { quiet: true },
      );
    });

  program
    .command('rename')
    .description('Rename a container')
    .argument('<container>')
    .argument('<new-name>')
    .action(async (ref: string, name: string) => {
      await (await ctx.engine()).containers.rename(ref, name);
    });
}
