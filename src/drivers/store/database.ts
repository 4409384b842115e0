import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { MIGRATIONS } from './migrations.ts';

/**
 * The metadata store: one SQLite file under the root. WAL mode plus a busy timeout let several CLIs and the daemon
 * use it at once; every multi-statement change runs inside `transaction`, which takes the write lock up front
 * (BEGIN IMMEDIATE) so two writers queue instead of failing half-way.
 */
export class Database {
  readonly sql: DatabaseSync;

  constructor(file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o711 });
    this.sql = new DatabaseSync(file, { timeout: 30_000 });
    this.sql.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
    this.migrate();
  }

  transaction<T>(fn: () => T): T {
    // Nested (a service calling another inside its own transaction, e.g. a VM's record and its ledger
    // reservation): a savepoint, so the inner part rolls back alone and the whole commits as one.
    if (this.sql.isTransaction) {
      this.sql.exec('SAVEPOINT hbx_nested');
      try {
        const result = fn();
        this.sql.exec('RELEASE hbx_nested');
        return result;
      } catch (err) {
        this.sql.exec('ROLLBACK TO hbx_nested');
        this.sql.exec('RELEASE hbx_nested');
        throw err;
      }
    }
    this.sql.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.sql.exec('COMMIT');
      return result;
    } catch (err) {
      this.sql.exec('ROLLBACK');
      throw err;
    }
  }

  close(): void {
    if (this.sql.isOpen) this.sql.close();
  }

  private migrate(): void {
    const current = (this.sql.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (current >= MIGRATIONS.length) return;
    this.transaction(() => {
      // Re-read under the write lock: another process may have migrated meanwhile.
      const version = (this.sql.prepare('PRAGMA user_version').get() as { user_version: number })
        .user_version;
      for (let v = version; v < MIGRATIONS.length; v++) this.sql.exec(MIGRATIONS[v]!);
      this.sql.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    });
  }
}
