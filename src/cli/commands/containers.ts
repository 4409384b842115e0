import fs from 'node:fs';
import { type Command, Option } from 'commander';
import type { ContainerConfig } from '../../core/container/config.ts';
import { parseContainerFilters, selectContainers } from '../../core/container/list-filter.ts';
import { parseInteger } from '../../core/container/parse.ts';
import { statusText } from '../../core/container/status-text.ts';
import { commandLine, networkModeView } from '../../core/container/views.ts';
import { HyperboxError, InvalidArgumentError } from '../../core/errors.ts';
import { humanDuration } from '../../core/human.ts';
import { shortId } from '../../core/ids.ts';
import { imageInspectView } from '../../core/image/views.ts';
import { formatUnixTimestamp, parseTimeArg } from '../../core/logs/timestamp.ts';
import { volumeView } from '../../core/volume/views.ts';
import type { Engine } from '../../engine/api/engine.ts';
import { pumpAttached } from '../attach-io.ts';
import type { CliContext } from '../context.ts';
import type { ExecFlags } from '../exec-io.ts';
import { ExitStatus } from '../exit-codes.ts';
import { copyLogOut } from '../log-out.ts';
import { ensureImage } from '../pull-policy.ts';
import { addCreateFlags, type CreateFlags, configFromFlags } from '../run-flags.ts';
import { formatTable } from '../table.ts';
import { renderTemplate } from '../template.ts';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerContainerCommands(program: Command, ctx: CliContext): void {
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

  program
    .command('logs')
    .description('Fetch the logs of a container')
    .argument('<container>')
    .option('-f, --follow', 'follow log output', false)
    .option('-n, --tail <n>', 'number of lines to show from the end of the logs', 'all')
    .option('-t, --timestamps', 'show timestamps', false)
    .option('--details', 'show extra details provided to logs', false)
    .option(
      '--since <time>',
      'show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)',
    )
    .option(
      '--until <time>',
      'show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)',
    )
    .action(
      async (
        ref: string,
        flags: {
          follow: boolean;
          tail: string;
          timestamps: boolean;
          details: boolean;
          since?: string;
          until?: string;
        },
      ) => {
        const engine = await ctx.engine();
        // docker's CLI: a tail that is not a number means all.
        const tail = /^\d+$/.test(flags.tail) ? Number(flags.tail) : undefined;
        const now = Date.now();
        const chunks = engine.containers.logs(ref, {
          follow: flags.follow,
          ...(tail !== undefined ? { tail } : {}),
          ...(flags.since !== undefined
            ? { since: formatUnixTimestamp(parseTimeArg(flags.since, now)) }
            : {}),
          ...(flags.until !== undefined
            ? { until: formatUnixTimestamp(parseTimeArg(flags.until, now)) }
            : {}),
          timestamps: flags.timestamps,
          details: flags.details,
        });
        await copyLogOut(ctx, chunks);
      },
    );

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
      if (flags.format) for (const v of found) ctx.stdout.write(`${renderTemplate(flags.format, v)}\n`);
      else ctx.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
      if (failed) throw new ExitStatus(1);
    });
  container
    .command('inspect')
    .description('Display detailed information on one or more containers')
    .argument('<containers...>')
    .option('-f, --format <template>', 'format output using a Go template')
    .action(async (refs: string[], flags: { format?: string }) => {
      const engine = await ctx.engine();
      const views = await Promise.all(refs.map((r) => engine.containers.inspect(r)));
      if (flags.format) for (const v of views) ctx.stdout.write(`${renderTemplate(flags.format, v)}\n`);
      else ctx.stdout.write(`${JSON.stringify(views, null, 4)}\n`);
    });

  program
    .command('exec')
    .description('Execute a command in a running container')
    .argument('<container>')
    .argument('<command...>')
    .passThroughOptions()
    .option('-d, --detach', 'detached mode: run command in the background', false)
    .option('-i, --interactive', 'keep STDIN open even if not attached', false)
    .option('-t, --tty', 'allocate a pseudo-TTY', false)
    .option('-u, --user <user>', 'username or UID (format: "<name|uid>[:<group|gid>]")')
    .option('-e, --env <KEY=VALUE>', 'set environment variables', collect, [])
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('--privileged', 'give extended privileges to the command', false)
    .action(async (ref: string, args: string[], flags: ExecFlags) => {
      const engine = await ctx.engine();
      const code = await runExec(ctx, engine, ref, args, flags);
      throw new ExitStatus(code);
    });

  program
    .command('attach')
    .description('Attach local standard input, output, and error streams to a running container')
    .argument('<container>')
    .option('--no-stdin', 'do not attach STDIN')
    .option('--sig-proxy <bool>', 'proxy all received signals to the process', 'true')
    .action(async (ref: string, flags: { stdin: boolean; sigProxy: string }) => {
      const engine = await ctx.engine();
      const { record, session } = await engine.containers.attach(ref, { stdin: flags.stdin });
      const code = await pumpAttached(ctx, engine, record, session, {
        stdin: flags.stdin && record.config.openStdin,
        tty: record.config.tty,
        sigProxy: flags.sigProxy !== 'false',
      });
      throw new ExitStatus(code ?? 0);
    });

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
      const { printStats } = await import('../stats-view.ts');
      await printStats(ctx, engine, refs, flags);
    });

  program
    .command('cp')
    .description('Copy files/folders between a container and the local filesystem')
    .argument('<src>')
    .argument('<dest>')
    .option('-a, --archive', 'archive mode (copy all uid/gid information)', false)
    .option('-L, --follow-link', 'always follow symbol link in SRC_PATH', false)
    .action(async (src: string, dest: string, flags: { archive: boolean; followLink: boolean }) => {
      const engine = await ctx.engine();
      // `-` on one side: a tar on our stdin (`cp - CTR:DIR`) or stdout (`cp CTR:PATH -`).
      // The local side is packed here, the container's by the engine (in-process or the daemon), as docker's CLI.
      const { copyFiles } = await import('../../engine/containers/copy.ts');
      await copyFiles(await engine.containers.archive(), src, dest, {
        archive: flags.archive,
        followLink: flags.followLink,
        stdin: ctx.stdin,
        stdout: ctx.stdout,
      });
    });

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

interface PsFlags {
  all: boolean;
  quiet: boolean;
  filter: string[];
  format?: string;
  last?: string;
  latest: boolean;
  trunc: boolean;
}

/** Applies `fn` to each container, printing each name as docker does, reporting failures and going on. */
async function eachRef(
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
  if (flags.quiet) {
    for (const r of records) ctx.stdout.write(`${flags.trunc ? shortId(r.id) : r.id}\n`);
    return;
  }
  const rows = await Promise.all(
    records.map(async (r) => {
      const image = await engine.images.resolve(r.imageId).catch(() => undefined);
      const ports = await engine.networks.ports(r.id);
      const cmd = commandLine(r.config, image?.config ?? {}).join(' ');
      return {
        ID: flags.trunc ? shortId(r.id) : r.id,
        Image: r.config.image,
        Command: flags.trunc ? truncate(`"${cmd}"`, 22) : `"${cmd}"`,
        CreatedAt: new Date(r.createdAt)
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, ' +0000 UTC'),
        RunningFor: `${humanDuration(now - r.createdAt)} ago`,
        Status: statusText(r.state, now),
        State: r.state.status,
        Ports: ports.map((b) => `${b.hostIp}:${b.hostPort}->${b.containerPort}/${b.proto}`).join(', '),
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
    }),
  );
  if (flags.format === 'json') {
    for (const row of rows) ctx.stdout.write(`${JSON.stringify(row)}\n`);
  } else if (flags.format && flags.format !== 'table') {
    for (const row of rows) ctx.stdout.write(`${renderTemplate(flags.format, row)}\n`);
  } else {
    ctx.stdout.write(
      formatTable(
        ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
        rows.map((r) => [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names]),
      ),
    );
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 2)}…"`;
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

async function runExec(
  ctx: CliContext,
  engine: Engine,
  ref: string,
  args: string[],
  flags: ExecFlags,
): Promise<number> {
  const { runExecSession } = await import('../exec-io.ts');
  return runExecSession(ctx, engine, ref, args, flags);
}
