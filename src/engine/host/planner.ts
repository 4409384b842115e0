import { plan, roomNow } from '../../core/ledger/plan.ts';
import {
  DEFAULT_CONTAINER_PROFILE,
  DEFAULT_VM_PROFILE,
  type PlanHostSpec,
  parseContainerProfile,
  parseHostSpec,
  parseOvercommit,
  parseReserve,
  parseVmProfile,
} from '../../core/ledger/plan-input.ts';
import type { Layout } from '../../core/paths.ts';
import { readHostFacts } from '../../drivers/host/host-inventory.ts';
import type { PlanReport, PlanRequest } from '../api/host.ts';
import { readLedgerPolicy } from '../system/engine-config.ts';
import type { Ledger } from './ledger.ts';

/**
 * The planner for `hyperbox plan` and the native API's /hyperbox/v1/plan: how many VMs (and containers) fit on this
 * host or a hypothetical one. The ledger is asked only for the live host (it reads the host when first built).
 */
export async function planReport(
  req: PlanRequest,
  deps: { layout: Layout; ledger: () => Ledger | Promise<Ledger> },
): Promise<PlanReport> {
  const policy = readLedgerPolicy(deps.layout);
  const vm = req.vm !== undefined ? parseVmProfile(req.vm) : DEFAULT_VM_PROFILE;
  const reserve =
    req.reserve !== undefined ? parseReserve(req.reserve, policy.hostReserve) : policy.hostReserve;
  const overcommit =
    req.overcommit !== undefined ? parseOvercommit(req.overcommit, policy.overcommit) : policy.overcommit;
  const container =
    req.container !== undefined ? parseContainerProfile(req.container) : DEFAULT_CONTAINER_PROFILE;
  let host: PlanReport['host'];
  let now: PlanReport['now'];
  if (req.host !== undefined) {
    const spec = parseHostSpec(req.host);
    host = { ...spec, logicalCpus: spec.sockets * spec.cores * spec.threads, source: 'hypothetical' };
  } else {
    const ledger = await deps.ledger();
    const t = readHostFacts('/').topology;
    const live: PlanHostSpec = {
      sockets: t.sockets,
      cores: Math.round(t.physicalCores / t.sockets),
      threads: t.threadsPerCore,
      memoryBytes: ledger.host.memoryBytes,
      diskBytes: ledger.host.diskBytes,
    };
    host = { ...live, logicalCpus: ledger.host.cpus.length, source: 'live' };
    // "Now" is the ledger's own view: its policy (engine.json), whatever --reserve/--overcommit ask.
    now = { vms: ledger.list().length, ...roomNow(ledger.availability(), vm) };
  }
  const result = plan({ host, vm, reserve, overcommit, container });
  return { host, vm, reserve, overcommit, ...result, ...(now ? { now } : {}) };
}
