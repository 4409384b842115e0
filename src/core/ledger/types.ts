/**
 * The ledger's vocabulary. *Dedicated* resources are held by one VM (its logical CPUs for pinning, memory, disk);
 * the *host reserve* is kept from VMs for the host itself; the *shared pool* is every CPU no VM holds, where
 * containers run (containers never reserve). *Overcommit* lets VMs share dedicated CPUs and memory up to a ratio;
 * a reservation admitted only thanks to it is marked `overcommitted`.
 */

/** One logical CPU and where it sits: socket (physical package), core within the socket, thread within the core. */
export interface HostCpu {
  id: number;
  socket: number;
  core: number;
  thread: number;
}

/** What the ledger divides: the online logical CPUs, total memory, and the file system holding the state root. */
export interface HostCapacity {
  cpus: HostCpu[];
  memoryBytes: number;
  diskBytes: number;
}

export interface HostReserve {
  cpus: number;
  memoryBytes: number;
  diskBytes: number;
}

export interface OvercommitPolicy {
  /** How many VMs' vCPUs a logical CPU may carry at most (on average): 1 = no sharing. */
  cpu: number;
  /** Dedicated memory may add up to this multiple of what is reservable: 1 = no overcommit. */
  memory: number;
}

export interface LedgerPolicy {
  hostReserve: HostReserve;
  overcommit: OvercommitPolicy;
}

export const DEFAULT_POLICY: LedgerPolicy = {
  hostReserve: { cpus: 1, memoryBytes: 1024 ** 3, diskBytes: 10 * 1024 ** 3 },
  overcommit: { cpu: 1, memory: 1 },
};

export interface ReservationRequest {
  ownerId: string;
  ownerName: string;
  kind: 'vm';
  /** How many logical CPUs to dedicate. */
  cpus: number;
  /** Explicit pinning (`--cpu-pinning LIST`); otherwise chosen automatically, whole cores first. */
  cpuList?: number[];
  memoryBytes: number;
  diskBytes: number;
}

export interface Reservation {
  ownerId: string;
  ownerName: string;
  kind: 'vm';
  cpus: number[];
  memoryBytes: number;
  diskBytes: number;
  overcommitted: boolean;
  createdAt: number;
}
