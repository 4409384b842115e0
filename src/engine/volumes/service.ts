import fs from 'node:fs';
import path from 'node:path';
import { AlreadyExistsError, ConflictError, InvalidArgumentError, NotFoundError } from '../../core/errors.ts';
import { newId, validateName } from '../../core/ids.ts';
import type { Layout } from '../../core/paths.ts';
import { ANONYMOUS_LABEL, type VolumeRecord } from '../../core/volume/record.ts';
import type { Database } from '../../drivers/store/database.ts';
import type { SpaceKeeper } from '../../drivers/store/space-keeper.ts';
import type { EventLog } from '../events/service.ts';
import type { References } from '../references.ts';
import { duSync } from './du.ts';
import { type VolumeRow, VolumeStore } from './store.ts';

export { ANONYMOUS_LABEL };

/** Named volumes: directories under <root>/volumes/<name>/_data, as docker's local driver keeps them. */
export class VolumeService {
  readonly #layout: Layout;
  readonly #space: SpaceKeeper;
  readonly #store: VolumeStore;
  readonly #events: EventLog;
  readonly #refs: References;

  /** `references`: which containers mount a volume (one in use is not removed or pruned). */
  constructor(opts: { layout: Layout; db: Database; events: EventLog; references: References }) {
    this.#layout = opts.layout;
    this.#space = opts.db.space;
    this.#store = new VolumeStore(opts.db);
    this.#events = opts.events;
    this.#refs = opts.references;
  }

  create(opts: {
    name?: string;
    driver?: string;
    labels?: Record<string, string>;
    options?: Record<string, string>;
  }): VolumeRecord {
    const driver = opts.driver ?? 'local';
    if (driver !== 'local')
      throw new InvalidArgumentError(`volume driver "${driver}" is not supported: use local`);
    if (opts.options && Object.keys(opts.options).length > 0) {
      throw new InvalidArgumentError(
        `volume options are not supported by the local driver: ${Object.keys(opts.options).join(', ')}`,
      );
    }
    const name = opts.name ? validateName(opts.name, 'volume') : newId();
    const existing = this.#row(name);
    if (existing) {
      // docker: creating an existing volume with the same settings returns it.
      if (opts.labels && JSON.stringify(opts.labels) !== existing.labels) {
        throw new AlreadyExistsError(`volume ${name} already exists with different labels`);
      }
      return this.#record(existing);
    }
    this.#space.requireRoom(`cannot create volume ${name}`);
    fs.mkdirSync(this.#dataDir(name), { recursive: true, mode: 0o755 });
    this.#store.insert({
      name,
      created_at: Date.now(),
      driver,
      labels: JSON.stringify(opts.labels ?? {}),
      options: '{}',
    });
    this.#events.record('volume', 'create', name, { driver });
    return this.#record(this.#row(name)!);
  }

  /** The volume's data directory, creating the volume when it does not exist (docker's -v name:/path). */
  ensure(name: string, labels: Record<string, string> = {}): string {
    if (!this.#row(name)) this.create({ name, labels });
    return this.#dataDir(name);
  }

  inspect(name: string): VolumeRecord {
    const row = this.#row(name);
    if (!row) throw new NotFoundError(`no such volume: ${name}`);
    return this.#record(row);
  }

  list(filters: { dangling?: boolean; name?: string[]; label?: string[] } = {}): VolumeRecord[] {
    const rows = this.#store.all();
    return rows
      .filter(
        (r) => filters.dangling === undefined || (this.usedBy(r.name).length === 0) === filters.dangling,
      )
      .filter((r) => !filters.name?.length || filters.name.some((n) => r.name.includes(n)))
      .filter(
        (r) => !filters.label?.length || filters.label.every((l) => labelMatches(JSON.parse(r.labels), l)),
      )
      .map((r) => this.#record(r));
  }

  /** Ids of containers whose mounts name this volume. */
  usedBy(name: string): string[] {
    return this.#refs.containersOfVolume(name);
  }

  remove(name: string, opts: { force?: boolean } = {}): void {
    const found = this.#store.transaction(() => {
      if (!this.#row(name)) return false;
      const users = this.usedBy(name);
      if (users.length > 0) {
        throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      }
      // Forget it first: a crash after this leaves only a directory that `volume create` would reuse.
      this.#store.delete(name);
      return true;
    });
    if (!found) {
      if (opts.force) return;
      throw new NotFoundError(`no such volume: ${name}`);
    }
    fs.rmSync(path.join(this.#layout.volumes, name), { recursive: true, force: true });
    this.#space.settle();
    this.#events.record('volume', 'destroy', name, {});
  }

  /** Removes unused volumes: anonymous ones by default, every unused one with `all` (docker 23+ semantics). */
  prune(opts: { all?: boolean } = {}): { deleted: string[]; spaceReclaimed: number } {
    const deleted: string[] = [];
    let spaceReclaimed = 0;
    for (const v of this.list({ dangling: true })) {
      if (!opts.all && v.labels[ANONYMOUS_LABEL] === undefined) continue;
      spaceReclaimed += duSync(v.mountpoint);
      this.remove(v.name);
      deleted.push(v.name);
    }
    return { deleted, spaceReclaimed };
  }

  #dataDir(name: string): string {
    return path.join(this.#layout.volumes, name, '_data');
  }

  #row(name: string): VolumeRow | undefined {
    return this.#store.get(name);
  }

  #record(row: VolumeRow): VolumeRecord {
    return {
      name: row.name,
      driver: row.driver,
      mountpoint: this.#dataDir(row.name),
      createdAt: row.created_at,
      labels: JSON.parse(row.labels) as Record<string, string>,
      options: JSON.parse(row.options) as Record<string, string>,
    };
  }
}

function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}
