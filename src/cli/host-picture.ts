import { styleText } from 'node:util';
import type { CpuAllocation, HostView } from '../core/host/host-view.ts';
import { shortBinarySize } from '../core/human.ts';
import { formatTable } from './table.ts';

/** Whether to colour: only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColour(out: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return out.isTTY === true;
}

/** Colours `text`; whether to colour at all was decided by `useColour`, so styleText must not second-guess it. */
function paintText(styles: (Colour | 'black')[], text: string): string {
  return styleText(styles, text, { validateStream: false });
}

type Colour =
  | 'bgBlue'
  | 'bgMagenta'
  | 'bgCyan'
  | 'bgYellow'
  | 'bgRed'
  | 'bgBlueBright'
  | 'bgMagentaBright'
  | 'bgWhite'
  | 'bgGreen';
const VM_COLOURS: Colour[] = [
  'bgBlue',
  'bgMagenta',
  'bgCyan',
  'bgYellow',
  'bgRed',
  'bgBlueBright',
  'bgMagentaBright',
];

/** `hyperbox host` as text: inventory, virtualization, memory, storage, then the CPU grid and the holders. */
export function hostText(v: HostView, opts: { colour: boolean; width?: number }): string {
  const b = (n: number) => shortBinarySize(n);
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const lines: string[] = [];
  lines.push(`CPU             ${v.cpu.model} (${v.cpu.vendor})`);
  lines.push(
    `                ${plural(v.cpu.sockets, 'socket')}, ${plural(v.cpu.physicalCores, 'core')}, ` +
      `${plural(v.cpu.threadsPerCore, 'thread')} per core, ${plural(v.cpu.logicalCpus, 'logical CPU')}` +
      (v.cpu.offline ? `; offline: ${v.cpu.offline}` : ''),
  );
  lines.push('Virtualization');
  for (const s of v.virtualization.summary) lines.push(`  ${s}`);
  lines.push(`  (probed ${v.virtualization.probedAt}; \`hyperbox host --probe\` probes again)`);
  const m = v.memory;
  lines.push(
    `Memory          ${b(m.totalBytes)} total, ${b(m.availableBytes)} available; ${b(m.hostReserveBytes)} kept for the host, ` +
      `${b(m.dedicatedToVmsBytes)} dedicated to VMs, ${b(m.freeForVmsBytes)} free for VMs` +
      (m.overcommitRatio !== 1 ? ` (overcommit ${m.overcommitRatio})` : ''),
  );
  const s = v.storage;
  lines.push(
    `Storage         ${s.path}: ${b(s.totalBytes)} total, ${b(s.freeBytes)} free; ${b(s.hostReserveBytes)} kept for the host, ` +
      `${b(s.dedicatedToVmsBytes)} dedicated to VMs, ${b(s.freeForVmsBytes)} free for VMs`,
  );
  const a = v.allocation;
  lines.push('');
  lines.push(
    `CPU allocation  host: ${a.hostReserved || '-'}   VMs: ${a.dedicatedToVms || '-'}   free for VMs: ${a.freeForVms || '-'}` +
      (a.overcommitRatio !== 1 || m.overcommitRatio !== 1
        ? `   (overcommit cpu=${a.overcommitRatio},memory=${m.overcommitRatio}; * = overcommitted)`
        : ''),
  );
  lines.push(...cpuGrid(a.cpus, opts));
  lines.push('');
  if (a.vms.length > 0) {
    lines.push(
      formatTable(
        ['VM', 'CPUS', 'MEMORY', 'DISK', 'OVERCOMMITTED'],
        a.vms.map((r) => [r.name, r.cpus, b(r.memoryBytes), b(r.diskBytes), r.overcommitted ? 'yes' : 'no']),
      ).trimEnd(),
    );
  } else {
    lines.push('VMs             none: no CPU, memory or disk is dedicated');
  }
  const c = a.containers;
  lines.push(
    `Containers      ${c.running} running on the shared CPUs ${a.shared || '(none)'}; limits add up to ` +
      `${Number(c.cpuLimits.toFixed(2))} CPUs and ${b(c.memoryLimitsBytes)}` +
      (c.unlimited > 0 ? `; ${c.unlimited} without limits` : ''),
  );
  return `${lines.join('\n')}\n`;
}

/**
 * Sockets x cores x threads: one column per core, one row per thread, each cell "<cpu> <holder>". Cores are cut into
 * blocks that fit the terminal width.
 */
export function cpuGrid(cpus: CpuAllocation[], opts: { colour: boolean; width?: number }): string[] {
  const vmColour = new Map<string, Colour>();
  for (const c of cpus)
    for (const n of c.vms)
      if (!vmColour.has(n)) vmColour.set(n, VM_COLOURS[vmColour.size % VM_COLOURS.length]!);
  const label = (c: CpuAllocation) =>
    c.holder === 'vm'
      ? `${c.vms.join('+')}${c.overcommitted ? '*' : ''}`
      : c.holder === 'host'
        ? 'host'
        : 'shared';
  const cellText = (c: CpuAllocation) => `${c.id} ${label(c)}`.slice(0, 18);
  const textWidth = Math.max(8, ...cpus.map((c) => cellText(c).length));
  // Every cell is textWidth + 2 wide: brackets without colour, a space of padding either side with colour.
  const cell = (c: CpuAllocation) => {
    const text = cellText(c).padEnd(textWidth);
    if (!opts.colour) return `[${text}]`;
    const colour: Colour =
      c.holder === 'vm' ? (vmColour.get(c.vms[0]!) ?? 'bgBlue') : c.holder === 'host' ? 'bgWhite' : 'bgGreen';
    return paintText([colour, 'black'], ` ${text} `);
  };
  const gap = ' ';
  const lines: string[] = [];
  const sockets = [...new Set(cpus.map((c) => c.socket))].sort((a, b) => a - b);
  const threads = Math.max(1, ...cpus.map((c) => c.thread + 1));
  const rowHead = 12;
  const perBlock = Math.max(1, Math.floor(((opts.width ?? 100) - rowHead) / (textWidth + 2 + gap.length)));
  for (const socket of sockets) {
    const cores = [...new Set(cpus.filter((c) => c.socket === socket).map((c) => c.core))].sort(
      (a, b) => a - b,
    );
    for (let from = 0; from < cores.length; from += perBlock) {
      const block = cores.slice(from, from + perBlock);
      const head = block.map((k) => ` core ${k}`.padEnd(textWidth + 2)).join(gap);
      lines.push(`${(from === 0 ? `socket ${socket}` : '').padEnd(rowHead)}${head}`.trimEnd());
      for (let t = 0; t < threads; t++) {
        const cells = block.map((k) => {
          const c = cpus.find((x) => x.socket === socket && x.core === k && x.thread === t);
          return c ? cell(c) : ' '.repeat(textWidth + 2);
        });
        lines.push(`${`  thread ${t}`.padEnd(rowHead)}${cells.join(gap)}`.trimEnd());
      }
    }
  }
  if (opts.colour) {
    lines.push(
      `${' '.repeat(rowHead)}${paintText(['bgWhite', 'black'], ' host ')} kept from VMs (containers too)   ` +
        `${paintText(['bgGreen', 'black'], ' shared ')} containers (free for VMs)   ` +
        `${paintText(['bgBlue', 'black'], ' vm ')} dedicated to a VM`,
    );
  } else {
    lines.push(
      `${' '.repeat(rowHead)}host: kept from VMs (containers run there too); shared: containers, free for VMs; a name: that VM's`,
    );
  }
  return lines;
}
