import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { collect } from './container/each-ref.ts';

/** `events`: the engine's journal, from --since on, followed until --until (or forever). */
export function registerEventsCommand(program: Command, ctx: CliContext): void {
  program
    .command('events')
    .description('Get real time events from the server')
    .option('--since <time>', 'show all events created since timestamp or relative (e.g. 10m)')
    .option('--until <time>', 'stream events until this timestamp')
    .option(
      '-f, --filter <filter>',
      'filter output based on conditions provided (type=, event=, container=, image=)',
      collect,
      [],
    )
    .option('--format <format>', "format output: 'json' or a Go template")
    .action(async (flags: { since?: string; until?: string; filter: string[]; format?: string }) => {
      const { streamEvents } = await import('../events-view.ts');
      await streamEvents(ctx, await ctx.engine(), flags);
    });
}
