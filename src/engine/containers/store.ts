import type { ContainerConfig, ContainerState } from '../../core/container/config.ts';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { Database } from '../../drivers/store/database.ts';
import type { ContainerRecord } from '../api/containers.ts';

interface Row {
  id: string;
  name: string;
  image_id: string;
  created_at: number;
  config: string;
  state: string;
}

/** Container rows in the metadata store, addressed as docker does: full id, unique id prefix, or name. */
export class ContainerStore {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  insert(rec: ContainerRecord): void {
    try {
      this.#db
        .prepare(
          'INSERT INTO containers (id, name, image_id, created_at, config, state) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(
          rec.id,
          rec.name,
          rec.imageId,
          rec.createdAt,
          JSON.stringify(rec.config),
          JSON.stringify(rec.state),
        );
    } catch (err) {
      if (String(err).includes('UNIQUE constraint failed: containers.name')) {
        const other = this.find(rec.name);
        throw new ConflictError(
          `the container name "/${rec.name}" is already in use by container "${other?.id ?? '?'}". You have to remove (or rename) that container to be able to reuse that name.`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** Looks up by exact name, exact id, then unique id prefix; undefined when nothing matches. */
  find(ref: string): ContainerRecord | undefined {
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    const byName = this.#db.prepare('SELECT * FROM containers WHERE name = ? OR id = ?').get(name, ref) as
      | Row
      | undefined;
    if (byName) return toRecord(byName);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const rows = this.#db
      .prepare('SELECT * FROM containers WHERE id LIKE ? LIMIT 2')
      .all(`${ref}%`) as unknown as Row[];
    if (rows.length > 1) throw new ConflictError(`multiple containers found with provided prefix: ${ref}`);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  get(ref: string): ContainerRecord {
    const rec = this.find(ref);
    if (!rec) throw new NotFoundError(`No such container: ${ref}`);
    return rec;
  }

  all(): ContainerRecord[] {
    return (
      this.#db.prepare('SELECT * FROM containers ORDER BY created_at DESC').all() as unknown as Row[]
    ).map(toRecord);
  }

  /** Containers whose state says they may have processes or unfinished work: what reconcile must look at. */
  unsettled(): ContainerRecord[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM containers WHERE json_extract(state, '$.status') IN ('running', 'paused', 'restarting', 'removing')`,
      )
      .all() as unknown as Row[];
    return rows.map(toRecord);
  }

  /** Containers a process marked busy (starting, stopping, removing, cleaning up after an exit). */
  markedBusy(): ContainerRecord[] {
    const rows = this.#db
      .prepare(`SELECT * FROM containers WHERE json_extract(state, '$.busyPid') IS NOT NULL`)
      .all() as unknown as Row[];
    return rows.map(toRecord);
  }

  nameTaken(name: string): boolean {
    return this.#db.prepare('SELECT 1 FROM containers WHERE name = ?').get(name) !== undefined;
  }

  /**
   * Read-modify-write of a container's state under the store's write lock, so that two processes reconciling or
   * stopping the same container never interleave. `update` returns the new state, or undefined to leave it.
   */
  updateState(
    id: string,
    update: (rec: ContainerRecord) => ContainerState | undefined,
  ): ContainerRecord | undefined {
    return this.#db.transaction(() => {
      const row = this.#db.prepare('SELECT * FROM containers WHERE id = ?').get(id) as Row | undefined;
      if (!row) return undefined;
      const rec = toRecord(row);
      const next = update(rec);
      if (!next) return rec;
      this.#db.prepare('UPDATE containers SET state = ? WHERE id = ?').run(JSON.stringify(next), id);
      return { ...rec, state: next };
    });
  }

  rename(id: string, name: string): void {
    try {
      this.#db.prepare('UPDATE containers SET name = ? WHERE id = ?').run(name, id);
    } catch (err) {
      if (String(err).includes('UNIQUE'))
        throw new ConflictError(`the name "${name}" is already in use`, { cause: err });
      throw err;
    }
  }

  delete(id: string): void {
    // Through a transaction: on a full disk the store makes room before it writes.
    this.#db.transaction(() => this.#db.prepare('DELETE FROM containers WHERE id = ?').run(id));
  }
}

function toRecord(row: Row): ContainerRecord {
  return {
    id: row.id,
    name: row.name,
    imageId: row.image_id,
    createdAt: row.created_at,
    config: JSON.parse(row.config) as ContainerConfig,
    state: JSON.parse(row.state) as ContainerState,
  };
}
