import fs from 'node:fs/promises';
import { type BenchContext, BUSYBOX_IMAGE, median, processesMentioning } from './lib/harness.ts';

export const description =
  'memory of the per-container monitors (conmon and the log writer): PSS and RSS over idle containers';

/** Average proportional set size of one container's monitor, in MiB. */
const TARGET_PSS_MIB = 0.5;

export async function run(ctx: BenchContext): Promise<void> {
  const count = ctx.options.containers;
  const root = await ctx.hyperboxRoot();
  const ids: string[] = [];
  ctx.defer(`remove ${count} idle containers`, async () => {
    // In batches, to keep each command line short.
    for (let i = 0; i < ids.length; i += 25) await ctx.removeContainers(ids.slice(i, i + 25));
    ids.length = 0;
  });

  const startTimes: number[] = [];
  for (let i = 0; i < count; i++) {
    const r = await ctx.hyperbox(['run', '-d', '--network', 'none', BUSYBOX_IMAGE, 'sleep', '3600']);
    const id = r.stdout.trim().split('\n').at(-1) ?? '';
    if (!/^[0-9a-f]{12,64}$/.test(id))
      throw new Error(`run -d printed no container id: ${JSON.stringify(r.stdout)}`);
    ids.push(id);
    startTimes.push(r.ms);
  }
  ctx.log(
    `  started ${count} idle containers (run -d ... sleep 3600): median ${median(startTimes).toFixed(1)} ms each`,
  );

  // Our containers' monitors, and only ours: their arguments name this run's state root.
  const monitors = await processesMentioning(root, 'conmon');
  if (monitors.length !== count) {
    throw new Error(`expected ${count} conmon processes for ${root}, found ${monitors.length}`);
  }
  // With the default json-file driver each container also has its log writer (native/log-writer).
  const writers = await processesMentioning(root, 'hbx-logwriter');
  if (writers.length !== count) {
    throw new Error(`expected ${count} hbx-logwriter processes for ${root}, found ${writers.length}`);
  }
  const mib = (kib: number) => kib / 1024;
  const sum = async (pids: number[]) => {
    let pss = 0;
    let rss = 0;
    for (const pid of pids) {
      const m = parseSmapsRollup(await fs.readFile(`/proc/${pid}/smaps_rollup`, 'utf8'));
      pss += m.pss;
      rss += m.rss;
    }
    return { pss: mib(pss) / count, rss: mib(rss) / count };
  };
  const conmon = await sum(monitors);
  const writer = await sum(writers);
  const avgPss = conmon.pss + writer.pss;
  const avgRss = conmon.rss + writer.rss;
  ctx.log(`  conmon: ${conmon.pss.toFixed(3)} MiB PSS, ${conmon.rss.toFixed(3)} MiB RSS per container`);
  ctx.log(`  log writer: ${writer.pss.toFixed(3)} MiB PSS, ${writer.rss.toFixed(3)} MiB RSS per container`);
  ctx.log(`  target: <= ${TARGET_PSS_MIB} MiB PSS per container for both`);
  ctx.report({ name: 'monitor: PSS per container', value: avgPss, unit: 'MiB', target: TARGET_PSS_MIB });
  ctx.report({ name: 'monitor: RSS per container', value: avgRss, unit: 'MiB' });
  ctx.report({ name: 'monitor: log writer PSS per container', value: writer.pss, unit: 'MiB' });
}

/** Pss and Rss, in KiB, from /proc/PID/smaps_rollup. */
export function parseSmapsRollup(text: string): { pss: number; rss: number } {
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  const pss = field('Pss');
  const rss = field('Rss');
  if (Number.isNaN(pss) || Number.isNaN(rss)) throw new Error('smaps_rollup without Pss/Rss lines');
  return { pss, rss };
}
