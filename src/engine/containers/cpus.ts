import type { ContainerConfig } from '../../core/container/config.ts';
import { formatCpuList, parseCpuList } from '../../core/ledger/cpu-list.ts';
import type { OciRuntime } from '../../drivers/runtime/oci-runtime.ts';
import type { ContainerRecord } from '../api/containers.ts';
import type { ContainerCpuPool } from '../host/ledger.ts';

/** A --cpuset-cpus onto a VM's dedicated CPU is refused (at create, and again at start: a VM may have come since). */
export function checkCpuset(
  pool: ContainerCpuPool | undefined,
  config: Pick<ContainerConfig, 'resources'>,
): void {
  const cpuset = config.resources.cpusetCpus;
  if (cpuset && pool) pool.checkCpuset(parseCpuList(cpuset, '--cpuset-cpus'));
}

/**
 * Moves running containers that have no cpuset of their own onto the shared pool (after a VM reserved CPUs, so
 * that its CPUs become its own at once, not only for containers started later). Returns the containers moved.
 */
export async function confineToSharedCpus(
  records: ContainerRecord[],
  pool: ContainerCpuPool | undefined,
  runtime: Pick<OciRuntime, 'updateCpuset'>,
): Promise<string[]> {
  const toMove = records.filter(
    (r) => (r.state.status === 'running' || r.state.status === 'paused') && !r.config.resources.cpusetCpus,
  );
  // Asked only when some container must move: with none running, VMs may hold every CPU (a zero host reserve).
  if (toMove.length === 0) return [];
  const shared = pool?.containerCpus();
  if (!shared) return [];
  for (const rec of toMove) await runtime.updateCpuset(rec.id, formatCpuList(shared));
  return toMove.map((r) => r.id);
}
