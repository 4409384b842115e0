import type { HostView } from '../../core/host/host-view.ts';
import type { PlanResult } from '../../core/ledger/plan.ts';
import type { PlanHostSpec, VmProfile } from '../../core/ledger/plan-input.ts';
import type { HostReserve } from '../../core/ledger/types.ts';

export interface PlanReport extends PlanResult {
  host: PlanHostSpec & { logicalCpus: number; source: 'live' | 'hypothetical' };
  vm: VmProfile;
  reserve: HostReserve;
  overcommit: { cpu: number; memory: number };
  /** On the live host: the VMs already holding reservations and how many more fit now. */
  now?: { vms: number; moreVms: number; bindingResource: 'cpu' | 'memory' | 'disk' };
}

/** `plan`'s inputs as the user writes them (`cpus=2,memory=4G,...`); absent ones take engine.json's or defaults. */
export interface PlanRequest {
  host?: string;
  vm?: string;
  reserve?: string;
  overcommit?: string;
  container?: string;
}

/** The host as `hyperbox host` and `hyperbox plan` see it, in-process or through the daemon. */
export interface HostEngine {
  /** Inventory, accelerator and who holds each CPU, memory and disk; `probe` boots the KVM test guest again. */
  report(opts?: { probe?: boolean }): Promise<HostView>;
  /** How many VMs (and containers) fit on this host, or on the hypothetical one the request names. */
  plan(req: PlanRequest): Promise<PlanReport>;
}
