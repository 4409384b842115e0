import type { Layout } from '../core/paths.ts';
import { hostCapacityOf, readHostFacts, readStorage } from '../drivers/host/host-inventory.ts';
import type { Database } from '../drivers/store/database.ts';
import { type ContainerCpuPool, Ledger } from '../engine/host/ledger.ts';
import { LedgerStore } from '../engine/host/ledger-store.ts';
import { readLedgerPolicy } from '../engine/system/engine-config.ts';

/**
 * The ledger of this host for one state root: the live CPUs and memory, the policy from `<root>/engine.json`, and
 * as disk the space still free under the root plus what VMs already reserved (space promised but maybe not yet
 * written), so disk reservations never promise more than the file system can still give.
 */
export function createLedger(layout: Layout, db: Database): Ledger {
  const facts = readHostFacts('/');
  const storage = readStorage(layout.root);
  const promised = new LedgerStore(db).reservedDiskBytes();
  return new Ledger({
    db,
    host: hostCapacityOf(facts, { totalBytes: storage.freeBytes + promised }),
    policy: readLedgerPolicy(layout),
  });
}

/**
 * The ledger as containers see it, cheap when no VM holds anything (one indexed query, no host reading), since
 * every container create and start asks.
 */
export function containerCpuPool(db: Database, ledger: () => Ledger): ContainerCpuPool {
  const store = new LedgerStore(db);
  const anyReservation = () => store.any();
  return {
    containerCpus: () => (anyReservation() ? ledger().containerCpus() : undefined),
    checkCpuset: (cpus) => {
      if (anyReservation()) ledger().checkCpuset(cpus);
    },
  };
}
