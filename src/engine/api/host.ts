import type { HostView } from '../../core/host/host-view.ts';
import type { PlanReport, PlanRequest } from '../host/planner.ts';

/** The host as `hyperbox host` and `hyperbox plan` see it, in-process or through the daemon. */
export interface HostEngine {
  /** Inventory, accelerator and who holds each CPU, memory and disk; `probe` boots the KVM test guest again. */
  report(opts?: { probe?: boolean }): Promise<HostView>;
  /** How many VMs (and containers) fit on this host, or on the hypothetical one the request names. */
  plan(req: PlanRequest): Promise<PlanReport>;
}
