import { Command, CommanderError } from 'commander';
import { asDiskFullError } from '../core/disk-full.ts';
import { asHyperboxError } from '../core/errors.ts';
import { layoutFor } from '../core/paths.ts';
import { mark } from '../core/trace.ts';
import type { Engine } from '../engine/api/engine.ts';
import type { LocalEngine } from '../engine/local-engine.ts';
import { registerContainerCommands } from './commands/containers.ts';
import { registerHostCommands } from './commands/host.ts';
import { registerImageCommands } from './commands/images.ts';
import { registerNetworkCommands } from './commands/networks.ts';
import { registerRegistryCommands } from './commands/registry.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerSystemCommands } from './commands/system.ts';
import { registerVmCommands } from './commands/vms.ts';
import { registerVolumeCommands } from './commands/volumes.ts';
import type { CliContext } from './context.ts';
import { EXIT_ENGINE, ExitStatus, exitCodeFor } from './exit-codes.ts';

export async function runCli(argv: string[]): Promise<number> {
  mark('cli: loaded');
  let engine: Engine | undefined;
  let local: LocalEngine | undefined;
  const program = new Command('hyperbox');
  const ctx: CliContext = {
    layout: () => layoutFor(program.opts().root ?? process.env.HYPERBOX_ROOT ?? undefined),
    engine: async () => {
      if (!engine) {
        const { chooseTransport } = await import('./transport.ts');
        const transport = await chooseTransport({
          host: program.opts().host,
          env: process.env,
          layout: ctx.layout(),
        });
        if (transport.kind === 'remote') {
          const { RemoteEngine } = await import('../client/remote-engine.ts');
          // Loaded only when a pull or push asks: other commands do not parse the registry client.
          const logins = async (registry: string) =>
            (await import('../wiring/registry-login.ts')).storedLogin(registry);
          engine = new RemoteEngine({ socketPath: transport.socketPath, logins });
        } else {
          engine = await ctx.localEngine();
        }
      }
      return engine!;
    },
    localEngine: async (opts) => {
      if (!local) {
        const { createLocalEngine } = await import('../wiring/engine.ts');
        local = await createLocalEngine(ctx.layout(), opts);
      }
      return local;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
  };
  program
    .description('Light-weight containers and heavy-weight virtual machines on one Linux host')
    .option('--root <dir>', 'state root (default /var/lib/hyperbox + /run/hyperbox; env HYPERBOX_ROOT)')
    .option(
      '-H, --host <unix:///path>',
      "the daemon's socket (env HYPERBOX_HOST; default: <run root>/hyperbox.sock when a daemon answers there, else in-process)",
    )
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      outputError: () => {}, // printed below, once, in docker's shape
    });
  registerContainerCommands(program, ctx);
  registerImageCommands(program, ctx);
  registerRegistryCommands(program, ctx);
  registerVolumeCommands(program, ctx);
  registerNetworkCommands(program, ctx);
  registerVmCommands(program, ctx);
  registerSystemCommands(program, ctx);
  registerHostCommands(program, ctx);
  registerServeCommand(program, ctx);
  let context: 'run' | 'other' = 'other';
  program.hook('preAction', (_this, action) => {
    if (['run', 'create', 'start'].includes(action.name())) context = 'run';
  });
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return 0;
    }
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof ExitStatus) return err.status;
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
        return 0;
      const cmd = commandPath(program, argv);
      process.stderr.write(
        `hyperbox: ${err.message.replace(/^error: /, '')}\nSee 'hyperbox ${cmd} --help'.\n`,
      );
      return EXIT_ENGINE;
    }
    const e = asDiskFullError(err, ctx.layout()) ?? asHyperboxError(err);
    process.stderr.write(`hyperbox: ${e.message}\n`);
    if (process.env.HYPERBOX_DEBUG) {
      // The error as thrown, not as translated: where it came from is the point of debugging.
      const stack = err instanceof Error && err !== e ? err.stack : e.stack;
      if (stack) process.stderr.write(`${stack}\n`);
    }
    return exitCodeFor(e.code, context);
  } finally {
    mark('cli: done');
    engine?.close();
    if (local !== engine) local?.close();
  }
}

/** "container ls" for `hyperbox container ls -x`: where to point the user for help. */
function commandPath(program: Command, argv: string[]): string {
  const names: string[] = [];
  let cmd: Command | undefined = program;
  for (const arg of argv) {
    if (arg.startsWith('-')) continue;
    const next: Command | undefined = cmd?.commands.find(
      (c) => c.name() === arg || c.aliases().includes(arg),
    );
    if (!next) break;
    names.push(next.name());
    cmd = next;
  }
  return names.join(' ') || '';
}
