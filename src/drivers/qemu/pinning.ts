import { runCommand } from '../proc/run.ts';
import type { PinnedVcpu, VcpuThread } from './vm-runtime.ts';

/**
 * Pins each vCPU thread to one logical CPU with `taskset -pc CPU TID` (sched_setaffinity of that thread only; Node
 * has no binding for it). vCPU i goes to cpus[i % cpus.length]. Returns what was done, for inspect.
 */
export async function pinVcpus(vcpus: readonly VcpuThread[], cpus: readonly number[]): Promise<PinnedVcpu[]> {
  const out: PinnedVcpu[] = [];
  for (const v of [...vcpus].sort((a, b) => a.index - b.index)) {
    const cpu = cpus[v.index % cpus.length]!;
    await runCommand('taskset', ['-pc', String(cpu), String(v.threadId)]);
    out.push({ index: v.index, threadId: v.threadId, cpu });
  }
  return out;
}
