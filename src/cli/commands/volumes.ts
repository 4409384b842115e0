import type { Command } from 'commander';
import { parseLabels } from '../../core/container/parse.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import { humanSize } from '../../core/human.ts';
import { type VolumeView, volumeView } from '../../core/volume/views.ts';
import type { CliContext } from '../context.ts';
import { ExitStatus } from '../exit-codes.ts';
import { type ListSpec, printInspect, printList } from '../output.ts';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerVolumeCommands(program: Command, ctx: CliContext): void {
  const volume = program.command('volume').description('Manage volumes');
  volume
    .command('create')
    .description('Create a volume')
    .argument('[name]')
    .option('-d, --driver <driver>', 'volume driver name', 'local')
    .option('--label <key=value>', 'set metadata for a volume', collect, [])
    .option('-o, --opt <key=value>', 'set driver specific options', collect, [])
    .action(async (name: string | undefined, flags: { driver: string; label: string[]; opt: string[] }) => {
      const engine = await ctx.engine();
      const v = await engine.volumes.create({
        ...(name ? { name } : {}),
        driver: flags.driver,
        labels: parseLabels(flags.label),
        options: parseLabels(flags.opt),
      });
      ctx.stdout.write(`${v.name}\n`);
    });
  volume
    .command('ls')
    .alias('list')
    .description('List volumes')
    .option('-q, --quiet', 'only display volume names', false)
    .option('-f, --filter <filter>', 'provide filter values (dangling=true, name=, label=)', collect, [])
    .option('--format <format>', "format output: 'table', 'json' or a Go template")
    .action(async (flags: { quiet: boolean; filter: string[]; format?: string }) => {
      const engine = await ctx.engine();
      const filters: { dangling?: boolean; name?: string[]; label?: string[] } = {};
      for (const f of flags.filter) {
        const [key, value = ''] = f.split(/=(.*)/s);
        if (key === 'dangling') filters.dangling = value === 'true' || value === '1';
        else if (key === 'name') filters.name = [...(filters.name ?? []), value];
        else if (key === 'label') filters.label = [...(filters.label ?? []), value];
        else throw new InvalidArgumentError(`invalid filter '${key}'`);
      }
      const volumes = await engine.volumes.list(filters);
      printList(ctx.stdout, volumes.map(volumeView), VOLUME_LIST, flags);
    });
  volume
    .command('inspect')
    .description('Display detailed information on one or more volumes')
    .argument('<names...>')
    .option('-f, --format <template>', 'format output using a Go template')
    .action(async (names: string[], flags: { format?: string }) => {
      const engine = await ctx.engine();
      const volumes = await Promise.all(names.map(async (n) => volumeView(await engine.volumes.inspect(n))));
      printInspect(ctx.stdout, volumes, flags.format);
    });
  volume
    .command('rm')
    .alias('remove')
    .description('Remove one or more volumes')
    .argument('<names...>')
    .option('-f, --force', 'force the removal of one or more volumes', false)
    .action(async (names: string[], flags: { force: boolean }) => {
      const engine = await ctx.engine();
      let failed = false;
      for (const n of names) {
        try {
          await engine.volumes.remove(n, { force: flags.force });
          ctx.stdout.write(`${n}\n`);
        } catch (err) {
          if (names.length === 1) throw err;
          ctx.stderr.write(`Error response from daemon: ${(err as Error).message}\n`);
          failed = true;
        }
      }
      if (failed) throw new ExitStatus(1);
    });
  volume
    .command('prune')
    .description('Remove unused local volumes')
    .option('-a, --all', 'remove all unused volumes, not just anonymous ones', false)
    .option('-f, --force', 'do not prompt for confirmation', false)
    .action(async (flags: { all: boolean }) => {
      const engine = await ctx.engine();
      const { deleted, spaceReclaimed } = await engine.volumes.prune({ all: flags.all });
      ctx.stdout.write(
        `${deleted.length ? `Deleted Volumes:\n${deleted.map((d) => `${d}\n`).join('')}\n` : ''}Total reclaimed space: ${humanSize(spaceReclaimed)}\n`,
      );
    });
}

const VOLUME_LIST: ListSpec<VolumeView> = {
  columns: [
    { header: 'DRIVER', cell: (v) => v.Driver },
    { header: 'VOLUME NAME', cell: (v) => v.Name },
  ],
  id: (v) => v.Name,
  headers: { Name: 'VOLUME NAME' },
};
