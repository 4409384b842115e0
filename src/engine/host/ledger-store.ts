import type { Reservation } from '../../core/ledger/types.ts';
import type { Database } from '../../drivers/store/database.ts';

interface Row {
  owner_id: string;
  owner_name: string;
  kind: string;
  cpus: string;
  memory_bytes: number;
  disk_bytes: number;
  overcommitted: number;
  created_at: number;
}

/**
 * The table `ledger_reservations`: the only module that sends it SQL. It stores and reads reservations; the
 * decisions (who gets which CPU, what is refused) are the Ledger's and core/ledger's, and the Ledger wraps each
 * read-decide-write in one transaction.
 */
export class LedgerStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  insert(r: Reservation): void {
    this.#db
      .prepare(
        `INSERT INTO ledger_reservations
           (owner_id, owner_name, kind, cpus, memory_bytes, disk_bytes, overcommitted, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.ownerId,
        r.ownerName,
        r.kind,
        JSON.stringify(r.cpus),
        r.memoryBytes,
        r.diskBytes,
        r.overcommitted ? 1 : 0,
        r.createdAt,
      );
  }

  delete(ownerId: string): void {
    this.#db.prepare('DELETE FROM ledger_reservations WHERE owner_id = ?').run(ownerId);
  }

  get(ownerId: string): Reservation | undefined {
    const row = this.#db.prepare('SELECT * FROM ledger_reservations WHERE owner_id = ?').get(ownerId) as
      | Row
      | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Every reservation, oldest first. */
  list(): Reservation[] {
    const rows = this.#db
      .prepare('SELECT * FROM ledger_reservations ORDER BY created_at, owner_name')
      .all() as unknown as Row[];
    return rows.map(fromRow);
  }

  /** Whether anyone holds anything: one indexed read, asked by every container create and start. */
  any(): boolean {
    return this.#db.prepare('SELECT 1 FROM ledger_reservations LIMIT 1').get() !== undefined;
  }

  /** The disk promised to VMs, written or not yet. */
  reservedDiskBytes(): number {
    return (
      this.#db.prepare('SELECT COALESCE(SUM(disk_bytes), 0) AS n FROM ledger_reservations').get() as {
        n: number;
      }
    ).n;
  }
}

function fromRow(row: Row): Reservation {
  return {
    ownerId: row.owner_id,
    ownerName: row.owner_name,
    kind: 'vm',
    cpus: JSON.parse(row.cpus) as number[],
    memoryBytes: row.memory_bytes,
    diskBytes: row.disk_bytes,
    overcommitted: row.overcommitted === 1,
    createdAt: row.created_at,
  };
}
