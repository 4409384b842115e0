import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { VmConfig } from '../../core/vm/config.ts';
import type { VmState } from '../../core/vm/state.ts';
import type { Database } from '../../drivers/store/database.ts';
import type { VmRecord } from '../api/vms.ts';

interface Row {
  id: string;
  name: string;
  created_at: number;
  config: string;
  state: string;
}

/** VM rows in the metadata store, addressed by name, full id or unique id prefix. */
export class VmStore {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  insert(rec: VmRecord): void {
    try {
      this.#db
        .prepare('INSERT INTO vms (id, name, created_at, config, state) VALUES (?, ?, ?, ?, ?)')
        .run(rec.id, rec.name, rec.createdAt, JSON.stringify(rec.config), JSON.stringify(rec.state));
    } catch (err) {
      if (String(err).includes('UNIQUE constraint failed: vms.name')) {
        throw new ConflictError(
          `the VM name "${rec.name}" is already in use: remove that VM or pick another name`,
          {
            cause: err,
          },
        );
      }
      throw err;
    }
  }

  nameTaken(name: string): boolean {
    return this.#db.prepare('SELECT 1 FROM vms WHERE name = ?').get(name) !== undefined;
  }

  find(ref: string): VmRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM vms WHERE name = ? OR id = ?').get(ref, ref) as
      | Row
      | undefined;
    if (row) return toRecord(row);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const rows = this.#db
      .prepare('SELECT * FROM vms WHERE id LIKE ? LIMIT 2')
      .all(`${ref}%`) as unknown as Row[];
    if (rows.length > 1)
      throw new ConflictError(`multiple VMs found with prefix ${ref}: give more of the id`);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  get(ref: string): VmRecord {
    const rec = this.find(ref);
    if (!rec) throw new NotFoundError(`no such VM: ${ref}`);
    return rec;
  }

  all(): VmRecord[] {
    return (this.#db.prepare('SELECT * FROM vms ORDER BY created_at').all() as unknown as Row[]).map(
      toRecord,
    );
  }

  setState(id: string, state: VmState): void {
    this.#db.prepare('UPDATE vms SET state = ? WHERE id = ?').run(JSON.stringify(state), id);
  }

  setConfig(id: string, config: VmConfig): void {
    this.#db.prepare('UPDATE vms SET config = ? WHERE id = ?').run(JSON.stringify(config), id);
  }

  delete(id: string): void {
    this.#db.prepare('DELETE FROM vms WHERE id = ?').run(id);
  }
}

function toRecord(r: Row): VmRecord {
  return {
    id: r.id,
    name: r.name,
    createdAt: r.created_at,
    config: JSON.parse(r.config) as VmConfig,
    state: JSON.parse(r.state) as VmState,
  };
}
