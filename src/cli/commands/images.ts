import { type Command, Option } from 'commander';
import { FailedPreconditionError, HyperboxError } from '../../core/errors.ts';
import { humanDuration, humanSize } from '../../core/human.ts';
import { shortId } from '../../core/ids.ts';
import { imageInspectView } from '../../core/image/views.ts';
import type { CliContext } from '../context.ts';
import { ExitStatus } from '../exit-codes.ts';
import { type ListSpec, printInspect, printList } from '../output.ts';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerImageCommands(program: Command, ctx: CliContext): void {
  const image = program.command('image').description('Manage images');

  const importCmd = (cmd: Command) =>
    cmd
      .description('Import the contents from a directory or tarball to create a filesystem image')
      .argument('<source>', 'a directory, a tar file (plain or gzip), or - for standard input')
      .argument('[reference]', 'REPOSITORY[:TAG]')
      .option(
        '-c, --change <instruction>',
        'apply a Dockerfile instruction to the created image',
        collect,
        [],
      )
      .option('-m, --message <text>', 'set a commit message for the imported image')
      .action(
        async (source: string, ref: string | undefined, flags: { change: string[]; message?: string }) => {
          const engine = await ctx.engine();
          const { id } = await engine.images.importRootfs(source, ref, {
            changes: flags.change,
            ...(flags.message ? { message: flags.message } : {}),
            stdin: ctx.stdin,
          });
          ctx.stdout.write(`${id}\n`);
        },
      );
  importCmd(image.command('import'));
  importCmd(program.command('import'));

  const loadCmd = (cmd: Command) =>
    cmd
      .description('Load an image from a tar archive (docker-archive or OCI layout) or STDIN')
      .option('-i, --input <file>', 'read from tar archive file, instead of STDIN')
      .option('-q, --quiet', 'suppress the load output', false)
      .action(async (flags: { input?: string; quiet: boolean }) => {
        const engine = await ctx.engine();
        if (!flags.input && ctx.stdin.isTTY) {
          throw new FailedPreconditionError('requested load from stdin, but stdin is empty');
        }
        const loaded = await engine.images.load(flags.input ?? ctx.stdin);
        if (!flags.quiet) {
          for (const name of loaded) {
            ctx.stdout.write(
              name.startsWith('sha256:') ? `Loaded image ID: ${name}\n` : `Loaded image: ${name}\n`,
            );
          }
        }
      });
  loadCmd(image.command('load'));
  loadCmd(program.command('load'));

  const saveCmd = (cmd: Command) =>
    cmd
      .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
      .argument('<images...>')
      .option('-o, --output <file>', 'write to a file, instead of STDOUT')
      .addOption(
        new Option('--format <format>', 'archive format')
          .choices(['docker-archive', 'oci-archive'])
          .default('docker-archive'),
      )
      .action(
        async (refs: string[], flags: { output?: string; format: 'docker-archive' | 'oci-archive' }) => {
          const engine = await ctx.engine();
          if (!flags.output && ctx.stdout.isTTY) {
            throw new FailedPreconditionError(
              'cowardly refusing to save to a terminal. Use the -o flag or redirect',
            );
          }
          await engine.images.save(refs, flags.output ?? ctx.stdout, { format: flags.format });
        },
      );
  saveCmd(image.command('save'));
  saveCmd(program.command('save'));

  const listCmd = (cmd: Command) =>
    cmd
      .description('List images')
      .argument('[repository]')
      .option('-a, --all', 'show all images (default hides intermediate images)', false)
      .option('-q, --quiet', 'only show image IDs', false)
      .option('--no-trunc', "don't truncate output")
      .option('--digests', 'show digests', false)
      .option('--format <format>', "format output: 'table', 'json' or a Go template")
      .action(async (repository: string | undefined, flags: ListFlags) => {
        const engine = await ctx.engine();
        const now = Date.now();
        const images = await engine.images.list({ all: flags.all });
        const rows = images.flatMap((img) => {
          const tags = img.repoTags.length > 0 ? img.repoTags : ['<none>:<none>'];
          return tags.map((t) => {
            const colon = t.lastIndexOf(':');
            const repo = t.slice(0, colon);
            return {
              Containers: String(img.containers),
              CreatedAt: new Date(img.created * 1000)
                .toISOString()
                .replace('T', ' ')
                .replace(/\.\d+Z$/, ' +0000 UTC'),
              CreatedSince: `${humanDuration(now - img.created * 1000)} ago`,
              Digest: img.repoDigests[0]?.split('@')[1] ?? '<none>',
              ID: flags.trunc ? shortId(img.id) : img.id,
              Repository: repo,
              Tag: t.slice(colon + 1),
              Size: humanSize(img.size),
              SharedSize: 'N/A',
              UniqueSize: 'N/A',
              VirtualSize: humanSize(img.size),
            };
          });
        });
        const selected = repository
          ? rows.filter((r) => r.Repository === repository || `${r.Repository}:${r.Tag}` === repository)
          : rows;
        // -q: each image once, however many tags it has.
        const shown = flags.quiet
          ? selected.filter((r, i) => selected.findIndex((o) => o.ID === r.ID) === i)
          : selected;
        printList(ctx.stdout, shown, imageList(flags.digests), flags);
      });
  listCmd(program.command('images'));
  listCmd(image.command('ls').alias('list'));

  const tagCmd = (cmd: Command) =>
    cmd
      .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
      .argument('<source>')
      .argument('<target>')
      .action(async (source: string, target: string) => {
        await (await ctx.engine()).images.tag(source, target);
      });
  tagCmd(program.command('tag'));
  tagCmd(image.command('tag'));

  const rmiCmd = (cmd: Command) =>
    cmd
      .description('Remove one or more images')
      .argument('<images...>')
      .option('-f, --force', 'force removal of the image', false)
      .action(async (refs: string[], flags: { force: boolean }) => {
        const engine = await ctx.engine();
        let failed = false;
        for (const ref of refs) {
          try {
            for (const item of await engine.images.remove(ref, { force: flags.force })) {
              if ('Untagged' in item) ctx.stdout.write(`Untagged: ${item.Untagged}\n`);
              else ctx.stdout.write(`Deleted: ${item.Deleted}\n`);
            }
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
  rmiCmd(program.command('rmi'));
  rmiCmd(image.command('rm').alias('remove'));

  image
    .command('inspect')
    .description('Display detailed information on one or more images')
    .argument('<images...>')
    .option('-f, --format <template>', 'format output using a Go template')
    .action(async (refs: string[], flags: { format?: string }) => {
      const engine = await ctx.engine();
      printInspect(
        ctx.stdout,
        await Promise.all(refs.map(async (r) => imageInspectView(await engine.images.inspect(r)))),
        flags.format,
      );
    });

  image
    .command('prune')
    .description('Remove unused images')
    .option('-a, --all', 'remove all unused images, not just dangling ones', false)
    .option('-f, --force', 'do not prompt for confirmation', false)
    .action(async (flags: { all: boolean }) => {
      const engine = await ctx.engine();
      const { deleted, spaceReclaimed } = await engine.images.prune({ all: flags.all });
      if (deleted.length) {
        ctx.stdout.write('Deleted Images:\n');
        for (const item of deleted) {
          ctx.stdout.write(
            'Untagged' in item ? `untagged: ${item.Untagged}\n` : `deleted: ${item.Deleted}\n`,
          );
        }
        ctx.stdout.write('\n');
      }
      ctx.stdout.write(`Total reclaimed space: ${humanSize(spaceReclaimed)}\n`);
    });
}

interface ListFlags {
  all: boolean;
  quiet: boolean;
  trunc: boolean;
  digests: boolean;
  format?: string;
}

interface ImageRow {
  Repository: string;
  Tag: string;
  Digest: string;
  ID: string;
  CreatedSince: string;
  Size: string;
}

/** `images`' table: docker's columns, DIGEST with --digests. */
function imageList(digests: boolean): ListSpec<ImageRow> {
  return {
    columns: [
      { header: 'REPOSITORY', cell: (r) => r.Repository },
      { header: 'TAG', cell: (r) => r.Tag },
      ...(digests ? [{ header: 'DIGEST', cell: (r: ImageRow) => r.Digest }] : []),
      { header: 'IMAGE ID', cell: (r) => r.ID },
      { header: 'CREATED', cell: (r) => r.CreatedSince },
      { header: 'SIZE', cell: (r) => r.Size },
    ],
    id: (r) => r.ID,
    headers: { ID: 'IMAGE ID', CreatedSince: 'CREATED' },
  };
}
