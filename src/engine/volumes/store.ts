import type { Database } from '../../drivers/store/database.ts';

/** A row of the volumes table; labels and options are JSON objects. */
export interface VolumeRow {
  name: string;
  created_at: number;
  driver: string;
  labels: string;
  options: string;
}

/** The volumes table: the only module that reads or writes it. */
export class VolumeStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn);
  }

  get(name: string): VolumeRow | undefined {
    return this.#db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as VolumeRow | undefined;
  }

  /** Every volume, by name. */
  all(): VolumeRow[] {
    return this.#db.prepare('SELECT * FROM volumes ORDER BY name').all() as unknown as VolumeRow[];
  }

  /** Inserts the volume unless one of that name exists (a concurrent create won). */
  insert(row: VolumeRow): void {
    this.#db
      .prepare(
        'INSERT OR IGNORE INTO volumes (name, created_at, driver, labels, options) VALUES (?, ?, ?, ?, ?)',
      )
      .run(row.name, row.created_at, row.driver, row.labels, row.options);
  }

  delete(name: string): void {
    this.#db.prepare('DELETE FROM volumes WHERE name = ?').run(name);
  }
}
