import { humanBinarySize, humanSize } from '../core/human.ts';
import { shortId } from '../core/ids.ts';
import type { Engine } from '../engine/api/engine.ts';
import type { CliContext } from './context.ts';
import { formatTable } from './table.ts';
import { renderTemplate } from './template.ts';

/** `stats`: one sample per container (two readings 0.5 s apart give the CPU percentage), as docker prints it. */
export async function printStats(
  ctx: CliContext,
  engine: Engine,
  refs: string[],
  flags: { all: boolean; stream: boolean; format?: string },
): Promise<void> {
  const records =
    refs.length > 0
      ? await Promise.all(refs.map((r) => engine.containers.get(r)))
      : (await engine.containers.list()).filter((r) => flags.all || r.state.status === 'running');
  const samples = await engine.containers.stats(records.map((r) => r.id));
  const rows = samples.map((s) => ({
    ID: shortId(s.id),
    Container: shortId(s.id),
    Name: s.name,
    CPUPerc: `${s.cpuPercent.toFixed(2)}%`,
    MemUsage: `${humanBinarySize(s.memoryUsage)} / ${humanBinarySize(s.memoryLimit)}`,
    MemPerc: `${s.memoryLimit ? ((s.memoryUsage / s.memoryLimit) * 100).toFixed(2) : '0.00'}%`,
    NetIO: '0B / 0B',
    BlockIO: `${humanSize(s.blockRead)} / ${humanSize(s.blockWrite)}`,
    PIDs: String(s.pids),
  }));
  if (flags.format === 'json') for (const r of rows) ctx.stdout.write(`${JSON.stringify(r)}\n`);
  else if (flags.format && flags.format !== 'table')
    for (const r of rows) ctx.stdout.write(`${renderTemplate(flags.format, r)}\n`);
  else {
    ctx.stdout.write(
      formatTable(
        ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'],
        rows.map((r) => [r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs]),
      ),
    );
  }
}
