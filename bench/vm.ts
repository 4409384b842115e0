import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type BenchContext, HYPERBOX, haveCommand, median, TOP } from './lib/harness.ts';

export const description =
  "VMs: `vm start` to the guest's first userspace line vs raw qemu-system-x86_64 with the same options; idle QEMU RSS";

/** `vm start` until `hyperbox-guest: init` at most this many times raw QEMU's boot to the same line. */
const TARGET_RATIO = 1.05;
/** An idle VM's QEMU at most this much larger than a raw QEMU running the same guest (MiB). */
const TARGET_RSS_EXTRA_MIB = 2;
const INIT_LINE = 'hyperbox-guest: init';
const MAX_RUNS = 10;

export async function run(ctx: BenchContext): Promise<void> {
  if (!(await haveCommand('qemu-system-x86_64'))) {
    ctx.log('  qemu-system-x86_64: not installed (apt-get install qemu-system-x86), skipped');
    return;
  }
  const guestDir = path.join(TOP, '.cache', 'guest');
  execFileSync('bash', [path.join(TOP, 'scripts', 'make-guest.sh'), guestDir], { stdio: 'ignore' });
  const root = await ctx.tempDir('vm-root');
  // Both kinds of run boot one 1-CPU VM at a time; the host keeps no CPU in this root so one always fits.
  fs.writeFileSync(path.join(root, 'engine.json'), '{"hostReserve":{"cpus":0,"memory":"0","disk":"0"}}');
  const hb = (args: string[]) => execFileSync(HYPERBOX, ['--root', root, ...args], { encoding: 'utf8' });
  ctx.defer('remove the benchmark VMs', async () => {
    const ids = hb(['vm', 'ls', '-q']).split('\n').filter(Boolean);
    if (ids.length) hb(['vm', 'rm', '-f', ...ids]);
  });
  const create = (name: string) =>
    hb([
      'vm',
      'create',
      '--name',
      name,
      '--memory',
      '128M',
      '--kernel',
      path.join(guestDir, 'vmlinuz'),
      '--initrd',
      path.join(guestDir, 'initrd.img'),
    ]);
  const runs = Math.min(ctx.options.runs, MAX_RUNS);

  // Warm-up: the first start on a root probes the accelerator (a probe boot); not part of any figure.
  create('warm');
  const warm = await hyperboxStart(root, 'warm');
  const argv = fs.readFileSync(`/proc/${warm.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  hb(['vm', 'rm', '-f', 'warm']);
  const raw = rawArgv(argv);
  ctx.log(`  raw: ${raw.join(' ')}`);

  const hbTimes: number[] = [];
  const rawTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    // One VM at a time (the other kind is gone before the next boots), alternated so drift touches both alike.
    const name = `b${i}`;
    create(name);
    hbTimes.push((await hyperboxStart(root, name)).ms);
    hb(['vm', 'rm', '-f', name]);
    const r = await rawStart(raw);
    rawTimes.push(r.ms);
    await stopRaw(r.child);
  }
  // Idle memory: both booted side by side, left at their shell for a few seconds, then read.
  create('idle');
  const h = await hyperboxStart(root, 'idle');
  const r = await rawStart(raw);
  await new Promise((res) => setTimeout(res, 3000));
  const hbRss = rssKiB(h.pid);
  const rawRss = rssKiB(r.child.pid!);
  const waiterRss = rssKiB(
    Number(fs.readFileSync(`/proc/${h.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]),
  );
  await stopRaw(r.child);
  hb(['vm', 'rm', '-f', 'idle']);
  const hbMedian = median(hbTimes);
  const rawMedian = median(rawTimes);
  const ratio = hbMedian / rawMedian;
  const extraMiB = (hbRss - rawRss) / 1024;
  ctx.log(`  raw qemu-system-x86_64 to "${INIT_LINE}"      median ${rawMedian.toFixed(1)} ms (${runs} runs)`);
  ctx.log(`  hyperbox vm start to "${INIT_LINE}"           median ${hbMedian.toFixed(1)} ms`);
  ctx.log(
    `  ratio                                                  ${ratio.toFixed(3)}x (target <= ${TARGET_RATIO}x)`,
  );
  ctx.log(
    `  idle QEMU RSS: hyperbox ${(hbRss / 1024).toFixed(1)} MiB, raw ${(rawRss / 1024).toFixed(1)} MiB`,
  );
  ctx.log(`  + the exit-status waiter (a shell): ${(waiterRss / 1024).toFixed(1)} MiB RSS`);
  ctx.report({ name: 'vm: start to guest init median', value: hbMedian, unit: 'ms' });
  ctx.report({ name: 'vm: raw qemu to guest init median', value: rawMedian, unit: 'ms' });
  ctx.report({ name: 'vm: start / raw qemu', value: ratio, unit: 'x', target: TARGET_RATIO });
  ctx.report({
    name: 'vm: idle QEMU RSS over raw',
    value: extraMiB,
    unit: 'MiB',
    target: TARGET_RSS_EXTRA_MIB,
  });
  ctx.report({ name: 'vm: waiter shell RSS', value: waiterRss / 1024, unit: 'MiB' });
}

/** Times `vm start NAME` from spawn until the init line is in the VM's serial log; returns QEMU's pid. */
async function hyperboxStart(root: string, name: string): Promise<{ ms: number; pid: number }> {
  const id = execFileSync(HYPERBOX, ['--root', root, 'vm', 'inspect', '-f', '{{.Id}}', name], {
    encoding: 'utf8',
  }).trim();
  const log = path.join(root, 'vms', id, 'serial.log');
  const t0 = performance.now();
  const child = spawn(HYPERBOX, ['--root', root, 'vm', 'start', name], { stdio: 'ignore' });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((res) =>
    child.on('exit', (code) => {
      exitCode = code;
      res(code);
    }),
  );
  let ms = 0;
  for (;;) {
    let text = '';
    try {
      text = fs.readFileSync(log, 'latin1');
    } catch {}
    if (text.includes(INIT_LINE)) {
      ms = performance.now() - t0;
      break;
    }
    if (exitCode !== undefined && exitCode !== 0)
      throw new Error(`hyperbox vm start ${name} exited ${exitCode}`);
    if (performance.now() - t0 > 60_000) {
      throw new Error(
        `VM ${name}: no "${INIT_LINE}" within 60 s; serial log ends: ${JSON.stringify(text.slice(-300))}`,
      );
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  const code = await exited;
  if (code !== 0) throw new Error(`hyperbox vm start ${name} exited ${code}`);
  const pid = Number(
    execFileSync(HYPERBOX, ['--root', root, 'vm', 'inspect', '-f', '{{.State.Pid}}', name], {
      encoding: 'utf8',
    }).trim(),
  );
  return { ms, pid };
}

/**
 * The raw QEMU a user would type for the same guest: hyperbox's own argv (same machine, accelerator, CPUs, memory,
 * kernel, initrd and command line) without what only hyperbox adds — QMP, the pid file, the paused start — and with
 * the serial port on stdio instead of hyperbox's socket + log file.
 */
export function rawArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-S') continue;
    if (a === '-qmp' || a === '-pidfile' || a === '-chardev' || a === '-serial') {
      i++;
      continue;
    }
    out.push(a);
    if (a.startsWith('-') && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) out.push(argv[++i]!);
  }
  return [argv[0]!, ...out, '-serial', 'stdio'];
}

async function rawStart(argv: string[]): Promise<{ ms: number; child: ChildProcess }> {
  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
  let seen = '';
  const ms = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`raw QEMU: no "${INIT_LINE}" within 60 s`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (seen.length < 1e6) seen += d.toString('latin1');
      if (seen.includes(INIT_LINE)) {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      }
    });
  });
  child.stdout!.resume();
  return { ms, child };
}

async function stopRaw(child: ChildProcess): Promise<void> {
  const gone = new Promise((res) => child.on('exit', res));
  child.kill('SIGKILL');
  await gone;
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s*(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
