import module from 'node:module';

// Cache compiled (type-stripped) modules between runs when bin/hyperbox did not already ask for it.
module.enableCompileCache?.();

const { runCli } = await import('./program.ts');
const status = await runCli(process.argv.slice(2));
// Exit now: writes to stdout/stderr are synchronous for files, pipes and terminals on Linux, so nothing is lost,
// and a lingering handle (a monitor's pipe, a socket being closed) must not hold the user's prompt back.
process.exit(status);
