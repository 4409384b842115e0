import type { DiskUsage } from '../disk-usage.ts';
import type { ResetSummary } from '../reset.ts';

export interface SystemEngine {
  /** `system df`: what images, containers and volumes take under the state root, and what is free there. */
  df(): Promise<DiskUsage>;
  /**
   * Removes every container, VM, network, volume and image. In-process, the state root goes too; the daemon keeps
   * its own (it still runs there).
   */
  reset(): Promise<ResetSummary & { rootRemoved: boolean }>;
}
