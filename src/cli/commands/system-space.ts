import type { Command } from 'commander';
import { FailedPreconditionError } from '../../core/errors.ts';
import { humanSize, shortBinarySize } from '../../core/human.ts';
import type { UsageLine } from '../../engine/api/system.ts';
import type { CliContext } from '../context.ts';
import { readAnswer } from '../prompt.ts';
import { formatTable } from '../table.ts';

/**
 * `system df` and `system prune`, docker's: what takes space under the state root, and one command that gives back
 * what no container needs. Both name the state root and its space reserve, what a full disk is explained with.
 */
export function registerSpaceCommands(system: Command, ctx: CliContext): void {
  system
    .command('df')
    .description('Show disk usage')
    .action(async () => {
      const du = await (await ctx.engine()).system.df();
      const row = (type: string, l: UsageLine, percent: boolean) => [
        type,
        String(l.total),
        String(l.active),
        humanSize(l.size),
        `${humanSize(l.reclaimable)}${percent ? ` (${l.size ? Math.round((100 * l.reclaimable) / l.size) : 0}%)` : ''}`,
      ];
      ctx.stdout.write(
        formatTable(
          ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
          [
            row('Images', du.images, true),
            row('Containers', du.containers, true),
            row('Local Volumes', du.volumes, true),
            ['Build Cache', '0', '0', '0B', '0B'],
          ],
        ),
      );
      const reserve =
        du.root.reserveHeld >= du.root.reserveSize
          ? `${shortBinarySize(du.root.reserveSize)} more kept for removals`
          : `its ${shortBinarySize(du.root.reserveSize)} reserve for removals holds ${shortBinarySize(du.root.reserveHeld)}`;
      ctx.stdout.write(`\nState root ${du.root.path}: ${humanSize(du.root.free)} free (${reserve})\n`);
    });

  system
    .command('prune')
    .description(
      'Remove stopped containers, unused networks, dangling images (and with --volumes, anonymous volumes)',
    )
    .option('-a, --all', 'remove all unused images, not just dangling ones', false)
    .option('--volumes', 'prune anonymous volumes', false)
    .option('-f, --force', 'do not prompt for confirmation', false)
    .action(async (flags: { all: boolean; volumes: boolean; force: boolean }) => {
      if (!flags.force) {
        if (!ctx.stdin.isTTY)
          throw new FailedPreconditionError('system prune needs --force when stdin is not a terminal');
        ctx.stdout.write(
          `WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n${flags.volumes ? '  - all anonymous volumes not used by at least one container\n' : ''}  - all ${flags.all ? 'images without at least one container associated to them' : 'dangling images'}\n\nAre you sure you want to continue? [y/N] `,
        );
        if (!/^y(es)?$/i.test((await readAnswer(ctx.stdin)).trim())) return;
      }
      const engine = await ctx.engine();
      // Containers first: the networks, images and volumes they held become unused.
      const containers = await engine.containers.prune();
      const networks = await engine.networks.prune();
      const volumes = flags.volumes ? await engine.volumes.prune({ all: false }) : undefined;
      const images = await engine.images.prune({ all: flags.all });
      let out = '';
      const section = (title: string, lines: string[]) => {
        if (lines.length) out += `${title}:\n${lines.map((l) => `${l}\n`).join('')}\n`;
      };
      section('Deleted Containers', containers);
      section('Deleted Networks', networks);
      section('Deleted Volumes', volumes?.deleted ?? []);
      section(
        'Deleted Images',
        images.deleted.map((i) => ('Untagged' in i ? `untagged: ${i.Untagged}` : `deleted: ${i.Deleted}`)),
      );
      const reclaimed = images.spaceReclaimed + (volumes?.spaceReclaimed ?? 0);
      ctx.stdout.write(`${out}Total reclaimed space: ${humanSize(reclaimed)}\n`);
    });
}
