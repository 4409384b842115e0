import { isActive } from '../../core/container/state.ts';
import { type HostView, hostView } from '../../core/host/host-view.ts';
import type { Layout } from '../../core/paths.ts';
import { readHostFacts, readStorage } from '../../drivers/host/host-inventory.ts';
import type { ContainerRecord } from '../api/containers.ts';
import type { HostEngine, PlanReport, PlanRequest } from '../api/host.ts';
import { acceleratorFor } from './accelerator.ts';
import type { Ledger } from './ledger.ts';
import { planReport } from './planner.ts';

/** Reads the host (its inventory is never stored: it is read fresh) and the ledger of this state root. */
export class HostService implements HostEngine {
  readonly #layout: Layout;
  readonly #ledger: () => Ledger;
  readonly #containers: () => readonly ContainerRecord[];

  constructor(deps: { layout: Layout; ledger: () => Ledger; containers: () => readonly ContainerRecord[] }) {
    this.#layout = deps.layout;
    this.#ledger = deps.ledger;
    this.#containers = deps.containers;
  }

  async report(opts: { probe?: boolean } = {}): Promise<HostView> {
    const ledger = this.#ledger();
    const accelerator = await acceleratorFor(this.#layout, { reprobe: opts.probe === true });
    const running = this.#containers().filter((r) => isActive(r.state.status));
    return hostView({
      ...readHostFacts('/'),
      accelerator,
      storage: readStorage(this.#layout.root),
      policy: ledger.policy,
      hostReserved: ledger.hostReservedCpus(),
      reservations: ledger.list(),
      diskForVms: { reservable: ledger.availability().disk.reservable },
      containers: running.map((r) => ({
        ...(r.config.resources.nanoCpus ? { nanoCpus: r.config.resources.nanoCpus } : {}),
        ...(r.config.resources.memory ? { memoryBytes: r.config.resources.memory } : {}),
      })),
    });
  }

  plan(req: PlanRequest): Promise<PlanReport> {
    return planReport(req, { layout: this.#layout, ledger: this.#ledger });
  }
}
