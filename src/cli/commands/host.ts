import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { hostText, useColour } from '../host-picture.ts';
import { planText } from '../plan-text.ts';

/**
 * `hyperbox host`: the host's inventory and who holds its CPUs, memory and disk; `hyperbox plan`: how many VMs
 * (and, for contrast, containers) fit on this host or a hypothetical one.
 */
export function registerHostCommands(program: Command, ctx: CliContext): void {
  program
    .command('host')
    .description('Show the host: CPU topology, accelerator, memory, storage, and who holds each CPU')
    .option('--json', 'print one JSON object')
    .option('--probe', 'probe KVM again with a test boot instead of using the cached verdict')
    .action(async (opts: { json?: boolean; probe?: boolean }) => {
      const view = await (await ctx.engine()).host.report({ probe: opts.probe === true });
      if (opts.json) ctx.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
      else
        ctx.stdout.write(hostText(view, { colour: useColour(ctx.stdout), width: ctx.stdout.columns || 100 }));
    });

  program
    .command('plan')
    .description(
      'How many VMs fit on this host (or a hypothetical one), which resource binds, and how many containers',
    )
    .option(
      '--host <spec>',
      'a hypothetical host: cores=4,threads=2,memory=16G,disk=500G[,sockets=1] (default: this host)',
    )
    .option('--vm <profile>', 'VM profile: cpus=N,memory=SIZE,disk=SIZE (default cpus=1,memory=1G,disk=10G)')
    .option(
      '--reserve <spec>',
      "host reserve: cpus=N,memory=SIZE,disk=SIZE (default: engine.json's, else 1,1G,10G)",
    )
    .option('--overcommit <ratios>', "cpu=R,memory=R, from 1 (none) up (default: engine.json's, else none)")
    .option('--container <profile>', 'container profile: cpus=X,memory=SIZE (default cpus=0.1,memory=64M)')
    .option('--json', 'print one JSON object')
    .action(
      async (opts: {
        host?: string;
        vm?: string;
        reserve?: string;
        overcommit?: string;
        container?: string;
        json?: boolean;
      }) => {
        const { json, ...req } = opts;
        const report = await (await ctx.engine()).host.plan(req);
        ctx.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : planText(report));
      },
    );
}
