import type { Command } from 'commander';
import { HyperboxError, InvalidArgumentError } from '../../core/errors.ts';
import { parseReference } from '../../core/image/reference.ts';
import type { CliContext } from '../context.ts';
import { EXIT_REGISTRY_COMMAND, ExitStatus } from '../exit-codes.ts';
import { pullImage, pushImage } from '../image-transfer.ts';
import { readPassword, readSecretFromStdin, readUsername } from '../prompt.ts';

/**
 * Registry commands: pull, push (also as `image pull` / `image push`), login, logout. The protocol lives in the
 * engine (images.pull / images.push) and drivers/registry; these parse flags, talk to the user and draw progress.
 */
export function registerRegistryCommands(program: Command, ctx: CliContext): void {
  const image = program.commands.find((c) => c.name() === 'image');

  const pullCmd = (cmd: Command) =>
    cmd
      .description('Download an image from a registry')
      .argument('<name>', 'NAME[:TAG|@DIGEST]')
      .option('-a, --all-tags', 'download all tagged images in the repository', false)
      .option('--platform <platform>', 'set platform if server is multi-platform capable (os/arch[/variant])')
      .option('-q, --quiet', 'suppress verbose output', false)
      .option(
        '--tls-verify [bool]',
        'require HTTPS and verify certificates when contacting registries',
        'true',
      )
      .action(
        dockerStatus(ctx, async (ref: string, flags: PullFlags) => {
          const parsed = parseReference(ref);
          if (flags.allTags && (parsed.tag !== undefined || parsed.digest !== undefined))
            throw new InvalidArgumentError("tag can't be used with --all-tags/-a");
          await pullImage(ctx, {
            ref,
            tlsVerify: parseTlsVerify(flags.tlsVerify),
            out: ctx.stdout,
            allTags: flags.allTags,
            quiet: flags.quiet,
            printRef: true,
            ...(flags.platform !== undefined ? { platform: flags.platform } : {}),
          });
        }),
      );
  pullCmd(program.command('pull'));
  if (image) pullCmd(image.command('pull'));

  const pushCmd = (cmd: Command) =>
    cmd
      .description('Upload an image to a registry')
      .argument('<name>', 'NAME[:TAG]')
      .option('-q, --quiet', 'suppress verbose output', false)
      .option(
        '--tls-verify [bool]',
        'require HTTPS and verify certificates when contacting registries',
        'true',
      )
      .action(
        dockerStatus(ctx, async (ref: string, flags: { quiet: boolean; tlsVerify: string | boolean }) => {
          parseReference(ref);
          await pushImage(ctx, {
            ref,
            out: ctx.stdout,
            quiet: flags.quiet,
            tlsVerify: parseTlsVerify(flags.tlsVerify),
          });
        }),
      );
  pushCmd(program.command('push'));
  if (image) pushCmd(image.command('push'));

  program
    .command('login')
    .description('Log in to a registry (Docker Hub when no server is given)')
    .argument('[server]')
    .option('-u, --username <name>', 'username')
    .option('-p, --password <password>', 'password (insecure: prefer --password-stdin)')
    .option('--password-stdin', 'take the password from stdin', false)
    .option('--tls-verify [bool]', 'require HTTPS and verify certificates when contacting registries', 'true')
    .action(
      dockerStatus(ctx, async (server: string | undefined, flags: LoginFlags) => {
        if (flags.password !== undefined) {
          ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
          if (flags.passwordStdin)
            throw new InvalidArgumentError('--password and --password-stdin are mutually exclusive');
        }
        if (flags.passwordStdin && !flags.username)
          throw new InvalidArgumentError('Must provide --username with --password-stdin');
        applyTlsVerify(flags.tlsVerify);
        const username = flags.username ?? (await readUsername(ctx));
        const password =
          flags.password ??
          (flags.passwordStdin ? await readSecretFromStdin(ctx.stdin) : await readPassword(ctx));
        if (!username || !password) throw new InvalidArgumentError('Username and password are required');
        const { login } = await import('../../wiring/registry-login.ts');
        const { file } = await login({ server, username, password });
        ctx.stderr.write(
          `WARNING! Your password will be stored unencrypted in ${file}.\nConfigure a credential helper to remove this warning.\n\n`,
        );
        ctx.stdout.write('Login Succeeded\n');
      }),
    );

  program
    .command('logout')
    .description('Log out from a registry (Docker Hub when no server is given)')
    .argument('[server]')
    .action(
      dockerStatus(ctx, async (server: string | undefined) => {
        const { logout } = await import('../../wiring/registry-login.ts');
        const { name, removed } = await logout({ server });
        ctx.stdout.write(removed ? `Removing login credentials for ${name}\n` : `Not logged in to ${name}\n`);
      }),
    );
}

interface PullFlags {
  allTags: boolean;
  platform?: string;
  quiet: boolean;
  tlsVerify: string | boolean;
}

interface LoginFlags {
  username?: string;
  password?: string;
  passwordStdin: boolean;
  tlsVerify: string | boolean;
}

/**
 * docker exits 1 for whatever pull, push, login and logout report (see exit-codes.ts), where hyperbox otherwise
 * exits 125 for invalid arguments: the error is printed as runCli would, then the status is docker's.
 */
function dockerStatus<A extends unknown[]>(
  ctx: CliContext,
  action: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      if (!(err instanceof HyperboxError)) throw err;
      ctx.stderr.write(`hyperbox: ${err.message}\n`);
      if (process.env.HYPERBOX_DEBUG && err.stack) ctx.stderr.write(`${err.stack}\n`);
      throw new ExitStatus(EXIT_REGISTRY_COMMAND);
    }
  };
}

/** `--tls-verify[=BOOL]` (podman's flag). Pull and push carry it to the engine, in-process or the daemon's. */
function parseTlsVerify(value: string | boolean): boolean {
  if (value === true || value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError(
    `invalid --tls-verify value ${JSON.stringify(value)}: must be true or false`,
  );
}

/** For `login`, which always runs here (wiring/registry-login.ts) and reads the setting when it starts. */
function applyTlsVerify(value: string | boolean): void {
  if (!parseTlsVerify(value)) process.env.HYPERBOX_TLS_VERIFY = 'false';
}
