import module from 'node:module';

// Cache compiled (type-stripped) modules between runs: the CLI's start time is part of every `run`.
module.enableCompileCache?.();

const { runCli } = await import('./program.ts');
process.exitCode = await runCli(process.argv.slice(2));
