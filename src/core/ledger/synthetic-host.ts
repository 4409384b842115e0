import type { HostCapacity, HostCpu } from './types.ts';

/**
 * Hypothetical hosts for tests: `sockets` x `cores` x `threads`, numbered as Linux numbers Intel
 * hosts (first every core's thread 0, socket by socket, then every core's thread 1, ...).
 */
export function syntheticCpus(opts: { sockets?: number; cores: number; threads: number }): HostCpu[] {
  const sockets = opts.sockets ?? 1;
  const cpus: HostCpu[] = [];
  let id = 0;
  for (let thread = 0; thread < opts.threads; thread++)
    for (let socket = 0; socket < sockets; socket++)
      for (let core = 0; core < opts.cores; core++) cpus.push({ id: id++, socket, core, thread });
  return cpus.sort((a, b) => a.id - b.id);
}

export function syntheticHost(opts: {
  sockets?: number;
  cores: number;
  threads: number;
  memoryBytes: number;
  diskBytes: number;
}): HostCapacity {
  return { cpus: syntheticCpus(opts), memoryBytes: opts.memoryBytes, diskBytes: opts.diskBytes };
}
