import fs from 'node:fs/promises';
import path from 'node:path';
import { type BenchContext, BUSYBOX_IMAGE, HYPERBOX, median, must } from './lib/harness.ts';

export const description =
  'container logs: logs --tail 10 of a 100 MiB json-file log, and bytes per second of logs against cat of its files';

const MiB = 1024 * 1024;
const LINE = '0123456789'.repeat(10);

export async function run(ctx: BenchContext): Promise<void> {
  const root = await ctx.hyperboxRoot();
  const name = 'bench-logs';
  ctx.defer('remove the flood container', () => ctx.removeContainers([name]));
  // 100 MiB of output, all kept: ~170 MB of json-file in 3 files of at most 80 MB (two rotations on the way).
  // biome-ignore format: one flag and its value per line
  const flood = await ctx.hyperbox([
    'run', '-d', '--network', 'none', '--name', name, '--log-opt', 'max-size=80m', '--log-opt', 'max-file=3',
    BUSYBOX_IMAGE, 'sh', '-c', `yes ${LINE} | head -c ${100 * MiB}`,
  ]);
  const started = Date.now();
  await ctx.hyperbox(['wait', name]);
  const writeSeconds = (Date.now() - started + flood.ms) / 1000;
  ctx.log(`  100 MiB flood written through conmon and the log writer in ${writeSeconds.toFixed(2)} s`);
  const id = (await ctx.hyperbox(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
  const dir = path.join(root, 'containers', id);
  const files = (await fs.readdir(dir))
    .filter((f) => f.startsWith('container-json.log'))
    .map((f) => path.join(dir, f));
  let fileBytes = 0;
  for (const f of files) fileBytes += (await fs.stat(f)).size;
  ctx.log(`  ${files.length} files, ${(fileBytes / MiB).toFixed(1)} MiB of json-file`);

  const sh = (cmd: string) => must('sh', ['-c', cmd]);
  const logsCmd = `${HYPERBOX} --root ${root} logs ${name}`;
  await sh(`${logsCmd} --tail 10 > /dev/null`); // warm: page cache, compile cache
  const tailTimes: number[] = [];
  for (let i = 0; i < ctx.options.runs; i++) {
    const r = await sh(`${logsCmd} --tail 10 | wc -l`);
    if (r.stdout.trim() !== '10') throw new Error(`logs --tail 10 printed ${r.stdout.trim()} lines`);
    tailTimes.push(r.ms);
  }
  const tailMs = median(tailTimes);
  ctx.log(`  logs --tail 10: median ${tailMs.toFixed(1)} ms over ${tailTimes.length} runs`);

  // Whole log through a pipe, against cat of the very files (which reads and copies only).
  const runs = Math.min(ctx.options.runs, 5);
  const logsTimes: number[] = [];
  const catTimes: number[] = [];
  let outBytes = 0;
  for (let i = 0; i < runs; i++) {
    const r = await sh(`${logsCmd} | wc -c`);
    outBytes = Number(r.stdout.trim());
    logsTimes.push(r.ms);
    catTimes.push((await sh(`cat ${files.join(' ')} | wc -c`)).ms);
  }
  if (outBytes !== 100 * MiB) throw new Error(`logs printed ${outBytes} bytes, not the 100 MiB written`);
  const logsRate = outBytes / MiB / (median(logsTimes) / 1000);
  const catRate = fileBytes / MiB / (median(catTimes) / 1000);
  ctx.log(`  logs | wc -c: ${median(logsTimes).toFixed(0)} ms, ${logsRate.toFixed(0)} MiB/s of output`);
  ctx.log(`  cat files | wc -c: ${median(catTimes).toFixed(0)} ms, ${catRate.toFixed(0)} MiB/s of files`);
  ctx.report({ name: 'logs: --tail 10 of a 100 MiB log', value: tailMs, unit: 'ms' });
  ctx.report({ name: 'logs: output through a pipe', value: logsRate, unit: 'MiB/s' });
  ctx.report({ name: 'logs: cat of the files', value: catRate, unit: 'MiB/s' });
  ctx.report({ name: 'logs: flood written', value: 100 / writeSeconds, unit: 'MiB/s' });
}
