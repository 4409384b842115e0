import type { Command } from 'commander';
import { formatUnixTimestamp, parseTimeArg } from '../../../core/logs/timestamp.ts';
import { pumpAttached } from '../../attach-io.ts';
import type { CliContext } from '../../context.ts';
import type { ExecFlags } from '../../exec-io.ts';
import { ExitStatus } from '../../exit-codes.ts';
import { copyLogOut } from '../../log-out.ts';
import { collect } from './each-ref.ts';

/** `logs`: what a container wrote, as its log driver kept it. */
export function registerLogsCommand(program: Command, ctx: CliContext): void {
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
}

/** `exec` and `attach`: the terminal joined to a process in a running container until it ends or detaches. */
export function registerExecAndAttach(program: Command, ctx: CliContext): void {
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
      const { runExecSession } = await import('../../exec-io.ts');
      const code = await runExecSession(ctx, engine, ref, args, flags);
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
}
