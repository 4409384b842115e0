import module from 'node:module';

// Cache compiled (type-stripped) modules between runs when bin/hyperbox did not already ask for it.
module.enableCompileCache?.();

const { runCli } = await import('./program.ts');
const status = await runCli(process.argv.slice(2));
// Exit now: a lingering handle (a monitor's pipe, a socket being closed) must not hold the user's prompt back. But
// first let stdout and stderr hand over what they still hold: a pipe whose reader is slower than us (`logs | wc`)
// keeps the rest in Node's buffer, and exiting would drop it.
await Promise.all([process.stdout, process.stderr].map(flushed));
process.exit(status);

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('error', () => resolve());
    stream.write('', () => resolve());
  });
}
