import type { Command } from 'commander';
import { parseLabels } from '../../core/container/parse.ts';
import { HyperboxError, InvalidArgumentError } from '../../core/errors.ts';
import { shortId } from '../../core/ids.ts';
import { formatPortLines } from '../../core/network/ports.ts';
import { networkInspectView, networkListRow } from '../../core/network/views.ts';
import type { CliContext } from '../context.ts';
import { ExitStatus } from '../exit-codes.ts';
import { type ListSpec, printInspect, printList } from '../output.ts';

const collect = (value: string, previous: string[]) => [...previous, value];

/** `network ...` and `port`: docker's words and shapes over the engine's NetworkService. */
export function registerNetworkCommands(program: Command, ctx: CliContext): void {
  const network = program.command('network').description('Manage networks');
  network
    .command('create')
    .description('Create a network')
    .argument('<name>')
    .option('-d, --driver <driver>', 'driver to manage the network', 'bridge')
    .option('--subnet <cidr>', 'subnet in CIDR format')
    .option('--gateway <ip>', 'IPv4 gateway for the subnet')
    .option('--ip-range <cidr>', 'allocate container addresses from a sub-range')
    .option('--internal', 'restrict external access to the network', false)
    .option('-o, --opt <key=value>', 'set driver specific options', collect, [])
    .option('--label <key=value>', 'set metadata on a network', collect, [])
    .action(
      async (
        name: string,
        f: {
          driver: string;
          subnet?: string;
          gateway?: string;
          ipRange?: string;
          internal: boolean;
          opt: string[];
          label: string[];
        },
      ) => {
        const engine = await ctx.engine();
        const n = await engine.networks.create({
          name,
          driver: f.driver,
          ...(f.subnet ? { subnet: f.subnet } : {}),
          ...(f.gateway ? { gateway: f.gateway } : {}),
          ...(f.ipRange ? { ipRange: f.ipRange } : {}),
          internal: f.internal,
          options: parseLabels(f.opt),
          labels: parseLabels(f.label),
        });
        ctx.stdout.write(`${n.id}\n`);
      },
    );
  network
    .command('ls')
    .alias('list')
    .description('List networks')
    .option('-q, --quiet', 'only display network IDs', false)
    .option('--no-trunc', "don't truncate the output")
    .option('--format <format>', "format output: 'table', 'json' or a Go template")
    .action(async (f: { quiet: boolean; trunc: boolean; format?: string }) => {
      const engine = await ctx.engine();
      const rows = (await engine.networks.list()).map(networkListRow).map((r) => ({
        ...r,
        ID: f.trunc ? shortId(r.ID) : r.ID,
      }));
      printList(ctx.stdout, rows, NETWORK_LIST, f);
    });
  network
    .command('inspect')
    .description('Display detailed information on one or more networks')
    .argument('<networks...>')
    .option('-f, --format <template>', 'format output using a Go template')
    .action(async (refs: string[], f: { format?: string }) => {
      const engine = await ctx.engine();
      printInspect(
        ctx.stdout,
        (await Promise.all(refs.map((r) => engine.networks.inspect(r)))).map(networkInspectView),
        f.format,
      );
    });
  network
    .command('rm')
    .alias('remove')
    .description('Remove one or more networks')
    .argument('<networks...>')
    .action(async (refs: string[]) => {
      const engine = await ctx.engine();
      let failed = false;
      for (const ref of refs) {
        try {
          await engine.networks.remove(ref);
          ctx.stdout.write(`${ref}\n`);
        } catch (err) {
          if (refs.length === 1) throw err;
          ctx.stderr.write(
            `Error response from daemon: ${err instanceof HyperboxError ? err.message : String(err)}\n`,
          );
          failed = true;
        }
      }
      if (failed) throw new ExitStatus(1);
    });
  network
    .command('prune')
    .description('Remove all unused networks')
    .option('-f, --force', 'do not prompt for confirmation', false)
    .action(async () => {
      const removed = await (await ctx.engine()).networks.prune();
      if (removed.length) ctx.stdout.write(`Deleted Networks:\n${removed.map((n) => `${n}\n`).join('')}`);
    });
  network
    .command('connect')
    .description('Connect a running container to a network')
    .argument('<network>')
    .argument('<container>')
    .option('--ip <address>', 'IPv4 address')
    .option('--alias <alias>', 'add a network-scoped alias for the container', collect, [])
    .action(async (ref: string, container: string, f: { ip?: string; alias: string[] }) => {
      const engine = await ctx.engine();
      const rec = await engine.containers.requireRunning(container);
      await engine.networks.connect(
        ref,
        { id: rec.id, name: rec.name },
        {
          ...(f.ip ? { ip: f.ip } : {}),
          ...(f.alias.length ? { aliases: f.alias } : {}),
        },
      );
    });
  network
    .command('disconnect')
    .description('Disconnect a container from a network')
    .argument('<network>')
    .argument('<container>')
    .option('-f, --force', 'force the container to disconnect from a network', false)
    .action(async (ref: string, container: string) => {
      const engine = await ctx.engine();
      await engine.networks.disconnect(ref, (await engine.containers.get(container)).id);
    });

  program
    .command('port')
    .description('List port mappings or a specific mapping for the container')
    .argument('<container>')
    .argument('[port]', 'PRIVATE_PORT[/PROTO]')
    .action(async (container: string, port: string | undefined) => {
      const engine = await ctx.engine();
      const rec = await engine.containers.get(container);
      let lines = formatPortLines(await engine.networks.ports(rec.id));
      if (port !== undefined) {
        if (!/^\d+(\/(tcp|udp))?$/.test(port))
          throw new InvalidArgumentError(`invalid port "${port}": use PORT[/tcp|udp]`);
        const key = port.includes('/') ? port : `${port}/tcp`;
        lines = lines.filter((l) => l.startsWith(`${key} -> `)).map((l) => l.slice(`${key} -> `.length));
        if (lines.length === 0)
          throw new InvalidArgumentError(`no public port '${key}' published for ${rec.name}`);
      }
      for (const l of lines) ctx.stdout.write(`${l}\n`);
    });
}

const NETWORK_LIST: ListSpec<{ ID: string; Name: string; Driver: string; Scope: string }> = {
  columns: [
    { header: 'NETWORK ID', cell: (r) => r.ID },
    { header: 'NAME', cell: (r) => r.Name },
    { header: 'DRIVER', cell: (r) => r.Driver },
    { header: 'SCOPE', cell: (r) => r.Scope },
  ],
  id: (r) => r.ID,
  headers: { ID: 'NETWORK ID' },
};
