import { openCgroupReader } from '../../drivers/cgroups/open.ts';
import type { ContainerRecord, ContainerStatsSample } from '../api/containers.ts';
import { cgroupsPathFor } from './spec.ts';

/** One sample per container: two cgroup readings `intervalMs` apart give the CPU percentage. */
export async function sampleStats(
  records: ContainerRecord[],
  hostMemory: number,
  intervalMs = 500,
): Promise<ContainerStatsSample[]> {
  const reader = openCgroupReader();
  const read = (r: ContainerRecord) => reader.stats(cgroupsPathFor(r.id)).catch(() => undefined);
  const first = await Promise.all(records.map(read));
  const t0 = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
  const second = await Promise.all(records.map(read));
  const wallNs = Number(process.hrtime.bigint() - t0);
  return records.map((r, i) => {
    const a = first[i];
    const b = second[i];
    const cpu = a && b ? ((b.cpu.usageNs - a.cpu.usageNs) / wallNs) * 100 : 0;
    return {
      id: r.id,
      name: r.name,
      cpuPercent: Math.max(0, cpu),
      memoryUsage: b ? Math.max(0, b.memory.usage - b.memory.inactiveFile) : 0,
      memoryLimit: b?.memory.limit !== undefined && b.memory.limit < hostMemory ? b.memory.limit : hostMemory,
      pids: b?.pids.current ?? 0,
      blockRead: 0,
      blockWrite: 0,
    };
  });
}
