/**
 * `npm run bench [-- [--runs N] [--containers N] [--strict] [NAME...]]`: runs the benchmarks named (all by default),
 * each a module bench/<name>.ts exporting `description` and `run(ctx)` (see lib/harness.ts), then prints every
 * figure with its target. A new benchmark is a new file here; nothing else to register.
 * Runs as root on a host with runc and conmon (scripts/setup.sh); leaves nothing behind, even when it fails or is
 * interrupted, and checks so at its end: anything of the run still there is listed and the exit status is 3.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type BenchmarkModule, BenchRun, type Figure } from './lib/harness.ts';

/** Benchmarks that run first when all run; the others follow in name order. */
const FIRST = ['startup', 'monitor-memory'];

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`--${name} must be a positive integer: current value is ${text}`);
  return n;
}

async function available(): Promise<string[]> {
  const names = (await fs.readdir(import.meta.dirname))
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -'.ts'.length));
  const rank = (n: string) => (FIRST.includes(n) ? FIRST.indexOf(n) : FIRST.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function summary(figures: Figure[]): string {
  const rows = figures.map((f) => {
    const value = `${f.value.toFixed(f.unit === 'ms' ? 1 : 3)} ${f.unit}`;
    const target = f.target === undefined ? '' : `<= ${f.target} ${f.unit}`;
    const verdict = f.target === undefined ? '' : f.value <= f.target ? 'met' : 'MISSED';
    return [f.name, value, target, verdict];
  });
  const header = ['FIGURE', 'VALUE', 'TARGET', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      runs: { type: 'string', default: '20' },
      containers: { type: 'string', default: '50' },
      strict: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const names = await available();
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench -- [--runs N] [--containers N] [--strict] [NAME...]\n\nbenchmarks:\n',
    );
    for (const name of names) {
      const mod = (await import(path.join(import.meta.dirname, `${name}.ts`))) as BenchmarkModule;
      process.stdout.write(`  ${name.padEnd(16)} ${mod.description}\n`);
    }
    return 0;
  }
  const unknown = positionals.filter((p) => !names.includes(p));
  if (unknown.length > 0)
    throw new Error(`no such benchmark: ${unknown.join(', ')} (have: ${names.join(', ')})`);
  const selected = positionals.length > 0 ? positionals : names;
  const options = {
    runs: positiveInt('runs', values.runs),
    containers: positiveInt('containers', values.containers),
  };
  if (process.getuid?.() !== 0) throw new Error('benchmarks run containers: run them as root');

  const bench = await BenchRun.create(options);
  // Ctrl-C, SIGTERM: clean up, check, and exit 128 + the signal's number. A second signal while that runs is
  // answered, not obeyed: dying half-way through the cleanup is what leaves containers and mounts behind.
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`bench: ${signal}: still cleaning up, please wait\n`);
      return;
    }
    stopping = true;
    process.stderr.write(`\nbench: ${signal}: cleaning up\n`);
    void bench
      .cleanup()
      .then(() => checkNothingLeft(bench))
      .finally(() => process.exit(128 + (os.constants.signals[signal] ?? 0)));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let failed = false;
  try {
    for (const name of selected) {
      const mod = (await import(path.join(import.meta.dirname, `${name}.ts`))) as BenchmarkModule;
      bench.log(`== ${name}: ${mod.description}`);
      try {
        await mod.run(bench);
      } catch (err) {
        failed = true;
        process.stderr.write(`bench: ${name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  } finally {
    await bench.cleanup();
  }
  const clean = checkNothingLeft(bench);
  if (bench.figures.length > 0) bench.log(`\n${summary(bench.figures)}`);
  const missed = bench.figures.some((f) => f.target !== undefined && f.value > f.target);
  if (!clean) return 3;
  return failed || (values.strict && missed) ? 1 : 0;
}

let checked: boolean | undefined;

/**
 * After cleanup: true when nothing of the run is left on the host; otherwise lists it, loudly, and false. Once: a
 * signal's path and the normal end may both get here.
 */
function checkNothingLeft(bench: BenchRun): boolean {
  if (checked !== undefined) return checked;
  checked = false;
  const left = bench.leftovers();
  if (left.length === 0) {
    bench.log('bench: cleanup checked: no process, mount, network object or directory of this run is left');
    checked = true;
    return true;
  }
  process.stderr.write(`\nbench: LEFT BEHIND after cleanup (${left.length}):\n  ${left.join('\n  ')}\n`);
  return false;
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
