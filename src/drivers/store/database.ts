import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { findDiskFull } from '../../core/disk-full.ts';
import { MIGRATIONS } from './migrations.ts';
import { type SpaceKeeper, UNCHECKED_SPACE } from './space-keeper.ts';

/** SQLite's default; while space is short, a checkpoint every 32 pages keeps the WAL (and what it takes) small. */
const WAL_AUTOCHECKPOINT_PAGES = 1000;
const WAL_AUTOCHECKPOINT_PAGES_SHORT = 32;

/**
 * The metadata store: one SQLite file under the root. WAL mode plus a busy timeout let several CLIs and the daemon
 * use it at once; every multi-statement change runs inside `transaction`, which takes the write lock up front
 * (BEGIN IMMEDIATE) so two writers queue instead of failing half-way.
 *
 * Before SQLite writes (the open makes the WAL's -shm index; each transaction adds WAL frames) it asks `space`,
 * which gives back the state root's space reserve when the disk is nearly full: removals and the records of exits
 * still commit on a full disk.
 */
export class Database {
  /** The connection itself stays here: stores (engine/<domain>/store.ts) reach it through prepare and exec. */
  readonly #sql: DatabaseSync;
  readonly file: string;
  /** The state root's space policy; operations that add data ask it first (`space.requireRoom`). */
  readonly space: SpaceKeeper;
  #short = false;

  constructor(file: string, opts: { space?: SpaceKeeper } = {}) {
    this.file = file;
    this.space = opts.space ?? UNCHECKED_SPACE;
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o711 });
    const short = this.space.beforeWrite();
    this.#sql = new DatabaseSync(file, { timeout: 30_000 });
    this.#sql.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
    this.#writeSparingly(short);
    this.#migrate();
  }

  /** A statement for a store; the only way SQL reaches the database. */
  prepare(sql: string): StatementSync {
    return this.#sql.prepare(sql);
  }

  /** Statements without results (schema, pragmas) for a store. */
  exec(sql: string): void {
    this.#sql.exec(sql);
  }

  /** Whether a transaction is open on this connection (a caller nested inside another's). */
  get inTransaction(): boolean {
    return this.#sql.isTransaction;
  }

  transaction<T>(fn: () => T): T {
    // Nested (a service calling another inside its own transaction, e.g. a VM's record and its ledger
    // reservation): a savepoint, so the inner part rolls back alone and the whole commits as one.
    if (this.#sql.isTransaction) {
      this.#sql.exec('SAVEPOINT hbx_nested');
      try {
        const result = fn();
        this.#sql.exec('RELEASE hbx_nested');
        return result;
      } catch (err) {
        this.#rollBack('ROLLBACK TO hbx_nested; RELEASE hbx_nested');
        throw err;
      }
    }
    this.#writeSparingly(this.space.beforeWrite());
    this.#sql.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.#commit();
      return result;
    } catch (err) {
      this.#rollBack('ROLLBACK');
      throw err;
    }
  }

  /**
   * WAL frames are written at COMMIT. When they find no room (another process of this root took the space this one
   * counted on), SQLite keeps the transaction open: the reserve goes and the COMMIT is tried once more.
   */
  #commit(): void {
    try {
      this.#sql.exec('COMMIT');
    } catch (err) {
      if (!this.#sql.isTransaction || !findDiskFull(err) || this.space.giveBack() === 0) throw err;
      this.#writeSparingly(true);
      this.#sql.exec('COMMIT');
    }
  }

  close(): void {
    if (!this.#sql.isOpen) return;
    this.#sql.close();
    // The last connection's close deleted the WAL and its index: the room they took may make the reserve whole.
    this.space.settle();
  }

  /**
   * After some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM) SQLite has already rolled the whole transaction
   * back: a ROLLBACK of ours would fail ("cannot rollback - no transaction is active") and hide the error that
   * counts, which the caller rethrows.
   */
  #rollBack(statement: string): void {
    if (!this.#sql.isTransaction) return;
    try {
      this.#sql.exec(statement);
    } catch {
      // The caller's error is the one to report.
    }
  }

  #writeSparingly(short: boolean): void {
    if (short === this.#short) return;
    this.#short = short;
    this.#sql.exec(
      `PRAGMA wal_autocheckpoint = ${short ? WAL_AUTOCHECKPOINT_PAGES_SHORT : WAL_AUTOCHECKPOINT_PAGES}`,
    );
  }

  #migrate(): void {
    const current = (this.#sql.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (current >= MIGRATIONS.length) return;
    this.transaction(() => {
      // Re-read under the write lock: another process may have migrated meanwhile.
      const version = (this.#sql.prepare('PRAGMA user_version').get() as { user_version: number })
        .user_version;
      for (let v = version; v < MIGRATIONS.length; v++) this.#sql.exec(MIGRATIONS[v]!);
      this.#sql.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    });
  }
}
