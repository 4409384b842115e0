import type { Command } from 'commander';
import { parseContainerFilters, selectContainers } from '../../../core/container/list-filter.ts';
import { parseInteger } from '../../../core/container/parse.ts';
import { statusText } from '../../../core/container/status-text.ts';
import { commandLine, networkModeView } from '../../../core/container/views.ts';
import { humanDuration } from '../../../core/human.ts';
import { shortId } from '../../../core/ids.ts';
import type { ContainerRecord } from '../../../engine/api/containers.ts';
import type { Engine } from '../../../engine/api/engine.ts';
import type { CliContext } from '../../context.ts';
import { type ListSpec, printList } from '../../output.ts';
import { formatTable } from '../../table.ts';
import { collect } from './each-ref.ts';

interface PsFlags {
  all: boolean;
  quiet: boolean;
  filter: string[];
  format?: string;
  last?: string;
  latest: boolean;
  trunc: boolean;
}

/** `ps`, then `container` with its `ls`: the same listing under two names. Returns `container`. */
export function registerListCommands(program: Command, ctx: CliContext): Command {
  const ps = (cmd: Command) =>
    cmd
      .option('-a, --all', 'show all containers (default shows just running)', false)
      .option('-q, --quiet', 'only display container IDs', false)
      .option('-f, --filter <filter>', 'filter output based on conditions provided', collect, [])
      .option('--format <format>', "format output: 'table', 'json' or a Go template")
      .option('-n, --last <n>', 'show n last created containers (includes all states)')
      .option('-l, --latest', 'show the latest created container (includes all states)', false)
      .option('--no-trunc', "don't truncate output")
      .action(async (flags: PsFlags) => listContainers(ctx, await ctx.engine(), flags));
  ps(program.command('ps').description('List containers'));
  const container = program.command('container').description('Manage containers');
  ps(container.command('ls').alias('list').description('List containers'));
  return container;
}

/** `top` and `stats`: what a container's processes are doing. */
export function registerProcessCommands(program: Command, ctx: CliContext): void {
  program
    .command('top')
    .description('Display the running processes of a container')
    .argument('<container>')
    .argument('[ps-options...]')
    .passThroughOptions()
    .action(async (ref: string, psArgs: string[]) => {
      const engine = await ctx.engine();
      const { titles, processes } = await engine.containers.top(ref, psArgs);
      ctx.stdout.write(formatTable(titles, processes));
    });

  program
    .command('stats')
    .description('Display a live stream of container(s) resource usage statistics')
    .argument('[containers...]')
    .option('-a, --all', 'show all containers (default shows just running)', false)
    .option('--no-stream', 'disable streaming stats and only pull the first result')
    .option('--format <format>', "format output: 'table', 'json' or a Go template")
    .action(async (refs: string[], flags: { all: boolean; stream: boolean; format?: string }) => {
      const engine = await ctx.engine();
      const { printStats } = await import('../../stats-view.ts');
      await printStats(ctx, engine, refs, flags);
    });
}

/** A row of `ps` as docker's templates and `--format json` see it. */
type PsRow = ReturnType<typeof psRow>;

const PS_LIST: ListSpec<PsRow> = {
  columns: [
    { header: 'CONTAINER ID', cell: (r) => r.ID },
    { header: 'IMAGE', cell: (r) => r.Image },
    { header: 'COMMAND', cell: (r) => r.Command },
    { header: 'CREATED', cell: (r) => r.RunningFor },
    { header: 'STATUS', cell: (r) => r.Status },
    { header: 'PORTS', cell: (r) => r.Ports },
    { header: 'NAMES', cell: (r) => r.Names },
  ],
  id: (r) => r.ID,
  headers: { ID: 'CONTAINER ID', RunningFor: 'CREATED' },
};

async function listContainers(ctx: CliContext, engine: Engine, flags: PsFlags): Promise<void> {
  const now = Date.now();
  const filters = parseContainerFilters(flags.filter);
  const last = flags.last === undefined ? undefined : parseInteger(flags.last, '--last', { min: 0 });
  const limit = flags.latest ? Math.min(1, last ?? 1) : last;
  const records = selectContainers(await engine.containers.list(), {
    all: flags.all,
    filters,
    ...(limit !== undefined ? { limit } : {}),
  });
  const id = (r: ContainerRecord) => (flags.trunc ? shortId(r.id) : r.id);
  // Only the ids: no image or port to look up.
  if (flags.quiet) return printList(ctx.stdout, records, { columns: [], id }, flags);
  const rows = await Promise.all(
    records.map(async (r) => {
      const image = await engine.images.resolve(r.imageId).catch(() => undefined);
      const ports = await engine.networks.ports(r.id);
      const cmd = commandLine(r.config, image?.config ?? {}).join(' ');
      return psRow(r, { id: id(r), cmd, ports, trunc: flags.trunc, now });
    }),
  );
  printList(ctx.stdout, rows, PS_LIST, flags);
}

function psRow(
  r: ContainerRecord,
  o: {
    id: string;
    cmd: string;
    ports: readonly { hostIp: string; hostPort: number; containerPort: number; proto: string }[];
    trunc: boolean;
    now: number;
  },
) {
  return {
    ID: o.id,
    Image: r.config.image,
    Command: o.trunc ? truncate(`"${o.cmd}"`, 22) : `"${o.cmd}"`,
    CreatedAt: new Date(r.createdAt)
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' +0000 UTC'),
    RunningFor: `${humanDuration(o.now - r.createdAt)} ago`,
    Status: statusText(r.state, o.now),
    State: r.state.status,
    Ports: o.ports.map((b) => `${b.hostIp}:${b.hostPort}->${b.containerPort}/${b.proto}`).join(', '),
    Names: r.name,
    Labels: Object.entries(r.config.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    Mounts: r.config.mounts
      .map((m) => ('source' in m && m.type === 'volume' ? m.source : m.target))
      .join(','),
    Networks:
      r.config.networkMode === 'bridge'
        ? (r.config.networks?.map((n) => n.network) ?? ['bridge']).join(',')
        : networkModeView(r.config),
    Size: '',
    LocalVolumes: String(r.config.mounts.filter((m) => m.type === 'volume').length),
  };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 2)}…"`;
}
