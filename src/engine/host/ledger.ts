import { AlreadyExistsError, ResourceExhaustedError } from '../../core/errors.ts';
import {
  type Availability,
  allocate,
  availability,
  hostReservedCpus,
  type LedgerState,
  namesPhrase,
  sharedCpus,
} from '../../core/ledger/allocate.ts';
import { cpusPhrase, formatCpuList } from '../../core/ledger/cpu-list.ts';
import type { HostCapacity, LedgerPolicy, Reservation, ReservationRequest } from '../../core/ledger/types.ts';
import type { Database } from '../../drivers/store/database.ts';
import { LedgerStore } from './ledger-store.ts';

export type { HostCapacity, LedgerPolicy, Reservation, ReservationRequest } from '../../core/ledger/types.ts';

/** What containers need from the ledger: where they may run, and whether an explicit cpuset is allowed. */
export interface ContainerCpuPool {
  containerCpus(): number[] | undefined;
  checkCpuset(cpus: number[]): void;
}

/**
 * The one source of truth for dedicated resources: VMs reserve logical CPUs (for pinning), memory and disk here and
 * release them on removal; containers never reserve, they run on the CPUs nobody holds. Stored in the engine's
 * SQLite database (ledger-store.ts); every reservation reads the others and writes its own inside one BEGIN IMMEDIATE transaction,
 * so two processes reserving at once queue on the write lock and never hand out the same CPU twice. The arithmetic
 * is core/ledger/allocate.ts.
 */
export class Ledger implements ContainerCpuPool {
  readonly host: HostCapacity;
  readonly policy: LedgerPolicy;
  readonly #db: Database;
  readonly #store: LedgerStore;
  readonly #now: () => number;

  constructor(opts: { db: Database; host: HostCapacity; policy: LedgerPolicy; now?: () => number }) {
    this.#db = opts.db;
    this.#store = new LedgerStore(opts.db);
    this.host = opts.host;
    this.policy = opts.policy;
    this.#now = opts.now ?? Date.now;
  }

  /** Dedicates resources to `req.ownerId`, or throws ResourceExhaustedError naming what is short and who holds it. */
  reserve(req: ReservationRequest): Reservation {
    return this.#db.transaction(() => {
      if (this.get(req.ownerId)) {
        throw new AlreadyExistsError(`${req.ownerName} (${req.ownerId}) already holds a reservation`);
      }
      const r = allocate(this.#state(), req, this.#now());
      this.#store.insert(r);
      return r;
    });
  }

  /** Gives back what `ownerId` holds; nothing happens when it holds nothing (removal may be retried). */
  release(ownerId: string): void {
    this.#store.delete(ownerId);
  }

  get(ownerId: string): Reservation | undefined {
    return this.#store.get(ownerId);
  }

  /** Every reservation, oldest first. */
  list(): Reservation[] {
    return this.#store.list();
  }

  /** CPUs not dedicated to any VM: the pool containers share (the host reserve is part of it). */
  sharedCpus(): number[] {
    return sharedCpus(this.#state());
  }

  /** The CPUs kept from VMs for the host. */
  hostReservedCpus(): number[] {
    return hostReservedCpus(this.host, this.policy);
  }

  /** What is used and left of each resource. */
  availability(): Availability {
    return availability(this.#state());
  }

  /**
   * Refuses a container's `--cpuset-cpus` that names a CPU dedicated to a VM, naming the CPUs, the VMs and what the
   * container may use instead.
   */
  checkCpuset(cpus: number[]): void {
    const list = this.list();
    const clashes = list.filter((r) => r.cpus.some((c) => cpus.includes(c)));
    if (clashes.length === 0) return;
    const held = [...new Set(clashes.flatMap((r) => r.cpus.filter((c) => cpus.includes(c))))];
    const shared = sharedCpus({ host: this.host, policy: this.policy, reservations: list });
    throw new ResourceExhaustedError(
      `--cpuset-cpus ${formatCpuList(cpus)}: ${cpusPhrase(held)} ${held.length === 1 ? 'is' : 'are'} dedicated to ` +
        `VM ${namesPhrase(clashes.map((r) => r.ownerName))}; containers may use ${
          shared.length > 0 ? cpusPhrase(shared) : 'no CPU (every CPU is dedicated to a VM)'
        }`,
    );
  }

  /**
   * The cpuset a container without `--cpuset-cpus` gets: undefined while no VM holds a CPU (no confinement needed),
   * else the shared pool; throws when VMs hold every CPU, as such a container would have nowhere to run.
   */
  containerCpus(): number[] | undefined {
    const list = this.list();
    if (list.length === 0) return undefined;
    const shared = sharedCpus({ host: this.host, policy: this.policy, reservations: list });
    if (shared.length === 0) {
      throw new ResourceExhaustedError(
        `no CPU is left for containers: ${cpusPhrase(this.host.cpus.map((c) => c.id))} are dedicated to VM ${namesPhrase(
          list.map((r) => r.ownerName),
        )} (keep a host reserve in engine.json)`,
      );
    }
    return shared;
  }

  #state(): LedgerState {
    return { host: this.host, policy: this.policy, reservations: this.list() };
  }
}
