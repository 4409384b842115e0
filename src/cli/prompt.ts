import { FailedPreconditionError } from '../core/errors.ts';
import type { CliContext } from './context.ts';

/**
 * The little interaction `login` needs: a username and a password typed at a terminal (the password without echo),
 * or a secret piped on stdin. Without a terminal, asking is an error, as with docker.
 */
const NO_TTY = 'Cannot perform an interactive login from a non TTY device';

export async function readUsername(ctx: CliContext): Promise<string> {
  if (!ctx.stdin.isTTY) throw new FailedPreconditionError(NO_TTY);
  return (await readLine(ctx, 'Username: ', true)).trim();
}

export async function readPassword(ctx: CliContext): Promise<string> {
  if (!ctx.stdin.isTTY) throw new FailedPreconditionError(NO_TTY);
  const password = await readLine(ctx, 'Password: ', false);
  ctx.stderr.write('\n');
  return password;
}

/** All of stdin, less one trailing newline (docker trims "\n" and "\r"). */
export async function readSecretFromStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
    .replace(/\r$/, '');
}

/** One line from the terminal in raw mode, echoing what is typed only when `echo`; Ctrl-C or Ctrl-D abort. */
function readLine(ctx: CliContext, question: string, echo: boolean): Promise<string> {
  const { stdin, stderr } = ctx;
  stderr.write(question);
  return new Promise((resolve, reject) => {
    let line = '';
    const finish = (err?: Error) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (data: Buffer) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          if (echo) stderr.write('\n');
          finish();
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          stderr.write('\n');
          finish(new FailedPreconditionError('login cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') {
          if (line.length > 0 && echo) stderr.write('\b \b');
          line = line.slice(0, -1);
          continue;
        }
        line += ch;
        if (echo) stderr.write(ch);
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** One line from a terminal. */
export function readAnswer(stdin: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolve) => {
    stdin.setEncoding('utf8');
    stdin.once('data', (d) => {
      stdin.pause();
      resolve(String(d));
    });
  });
}
