/** One kind of object in `system df`: how many, how many in use, bytes, and bytes a prune would give back. */
export interface UsageLine {
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

/** `system df`: what takes space under the state root, and what is left there. */
export interface DiskUsage {
  images: UsageLine;
  containers: UsageLine;
  volumes: UsageLine;
  root: {
    path: string;
    /** Bytes free on the state root's file system. */
    free: number;
    /** The space reserve kept for removals on a full disk: what it holds now and its size. */
    reserveHeld: number;
    reserveSize: number;
  };
}

/** What `system reset` removed: how many of each. */
export interface ResetSummary {
  containers: number;
  vms: number;
  networks: number;
  volumes: number;
  images: number;
}

export interface SystemEngine {
  /** `system df`: what images, containers and volumes take under the state root, and what is free there. */
  df(): Promise<DiskUsage>;
  /**
   * Removes every container, VM, network, volume and image. In-process, the state root goes too; the daemon keeps
   * its own (it still runs there).
   */
  reset(): Promise<ResetSummary & { rootRemoved: boolean }>;
}
