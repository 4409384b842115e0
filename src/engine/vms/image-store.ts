import { AlreadyExistsError } from '../../core/errors.ts';
import type { Database } from '../../drivers/store/database.ts';

/**
 * A base image for `vm create --image`: a disk stored once under `<root>/vm-images/` and never written again. Disk
 * images (qcow2 or raw) are kept as qcow2 and each VM's disk is a thin qcow2 clone with it as backing file; an ISO
 * is kept as it is and shown to the VM as a CD-ROM beside an empty disk.
 */
export interface VmImageRecord {
  readonly name: string;
  readonly kind: 'disk' | 'iso';
  readonly path: string;
  readonly virtualSize: number;
  readonly source: string;
  readonly created: number;
}

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
