import type { Command } from 'commander';
import type { CliContext } from '../../context.ts';

/** `cp`: files between a container and the local file system, or a tar on stdin / stdout (`-`). */
export function registerCopyCommand(program: Command, ctx: CliContext): void {
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
      const { copyFiles } = await import('../../../engine/containers/copy.ts');
      await copyFiles(await engine.containers.archive(), src, dest, {
        archive: flags.archive,
        followLink: flags.followLink,
        stdin: ctx.stdin,
        stdout: ctx.stdout,
      });
    });
}
