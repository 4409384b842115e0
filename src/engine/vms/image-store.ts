import { AlreadyExistsError } from '../../core/errors.ts';
import type { Database } from '../../drivers/store/database.ts';
import type { VmImageRecord } from '../api/vms.ts';

/** The table `vm_images`: base images' records, by name. The only module that sends it SQL. */
export class VmImageStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** AlreadyExists when the name is taken (by an import that ran at the same time). */
  insert(rec: VmImageRecord): void {
    try {
      this.#db
        .prepare('INSERT INTO vm_images (name, created_at, doc) VALUES (?, ?, ?)')
        .run(rec.name, rec.created, JSON.stringify(rec));
    } catch (err) {
      throw new AlreadyExistsError(`VM image ${rec.name} already exists`, { cause: err });
    }
  }

  list(): VmImageRecord[] {
    return (this.#db.prepare('SELECT doc FROM vm_images ORDER BY created_at').all() as { doc: string }[]).map(
      (r) => JSON.parse(r.doc) as VmImageRecord,
    );
  }

  find(name: string): VmImageRecord | undefined {
    const row = this.#db.prepare('SELECT doc FROM vm_images WHERE name = ?').get(name) as
      | { doc: string }
      | undefined;
    return row ? (JSON.parse(row.doc) as VmImageRecord) : undefined;
  }

  delete(name: string): void {
    this.#db.prepare('DELETE FROM vm_images WHERE name = ?').run(name);
  }
}
