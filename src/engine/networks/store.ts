import { InvalidArgumentError } from '../../core/errors.ts';
import type { EndpointRecord, NetworkRecord, OwnerKind } from '../../core/network/types.ts';
import type { Database } from '../../drivers/store/database.ts';

/** One address held on a network, by a container or a VM. */
export interface LeaseRecord {
  readonly networkId: string;
  readonly address: string;
  readonly ownerId: string;
  readonly kind: OwnerKind;
}

/**
 * The network tables (`networks`, `net_endpoints`, `net_leases`): the only module that sends them SQL. Records are
 * kept as JSON documents beside the columns the lookups need; a lease is written with the endpoint that holds it
 * and goes with it, so the two only drift apart when a process dies between them (reconcile drops such leases).
 */
export class NetworkStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** Runs `fn` under the write lock (BEGIN IMMEDIATE): reads inside it see what no other process can change. */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn);
  }

  /** Refuses (ResourceExhausted) when the disk is full but for the reserve: for what adds data. */
  requireRoom(action: string): void {
    this.#db.space.requireRoom(action);
  }

  // ---- networks ----------------------------------------------------------------------------------------------

  /** Every network, oldest first. */
  all(): NetworkRecord[] {
    return (this.#db.prepare('SELECT doc FROM networks ORDER BY created_at').all() as { doc: string }[]).map(
      (r) => JSON.parse(r.doc) as NetworkRecord,
    );
  }

  /** A network by name, full id or unique id prefix; InvalidArgument when a prefix names several. */
  find(ref: string): NetworkRecord | undefined {
    const rows = this.#db
      .prepare('SELECT doc FROM networks WHERE name = ? OR id = ? OR id LIKE ?')
      .all(ref, ref, `${/^[0-9a-f]+$/.test(ref) ? ref : '-'}%`) as { doc: string }[];
    const recs = rows.map((r) => JSON.parse(r.doc) as NetworkRecord);
    const exact = recs.find((r) => r.name === ref || r.id === ref);
    if (exact) return exact;
    if (recs.length > 1) throw new InvalidArgumentError(`network id prefix "${ref}" is ambiguous`);
    return recs[0];
  }

  insert(rec: NetworkRecord): void {
    this.#db
      .prepare('INSERT INTO networks (id, name, created_at, doc) VALUES (?, ?, ?, ?)')
      .run(rec.id, rec.name, rec.created, JSON.stringify(rec));
  }

  /** Deletes a network and whatever leases are left on it (its endpoints must be gone). */
  delete(id: string): void {
    this.#db.prepare('DELETE FROM net_leases WHERE network_id = ?').run(id);
    this.#db.prepare('DELETE FROM networks WHERE id = ?').run(id);
  }

  // ---- endpoints ---------------------------------------------------------------------------------------------

  allEndpoints(): EndpointRecord[] {
    return docs(this.#db.prepare('SELECT doc FROM net_endpoints').all());
  }

  endpointsOf(networkId: string): EndpointRecord[] {
    return docs(this.#db.prepare('SELECT doc FROM net_endpoints WHERE network_id = ?').all(networkId));
  }

  /** An owner's endpoints in interface order (eth0, eth1, ...). */
  endpointsOfOwner(ownerId: string): EndpointRecord[] {
    return docs(this.#db.prepare('SELECT doc FROM net_endpoints WHERE owner_id = ?').all(ownerId)).sort(
      (a, b) => a.ifname.localeCompare(b.ifname),
    );
  }

  /** Ids of every owner with at least one endpoint. */
  owners(): string[] {
    return (
      this.#db.prepare('SELECT DISTINCT owner_id FROM net_endpoints').all() as { owner_id: string }[]
    ).map((r) => r.owner_id);
  }

  /** Records an endpoint and the lease of its address (call inside `transaction`, after choosing the address). */
  insertEndpoint(ep: EndpointRecord): void {
    this.#db
      .prepare(
        'INSERT INTO net_leases (network_id, address, owner_id, kind, created_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(ep.networkId, ep.address, ep.ownerId, ep.kind, Date.now());
    this.#db
      .prepare('INSERT INTO net_endpoints (id, network_id, owner_id, doc) VALUES (?, ?, ?, ?)')
      .run(ep.id, ep.networkId, ep.ownerId, JSON.stringify(ep));
  }

  /** Deletes an endpoint and its lease. */
  deleteEndpoint(ep: EndpointRecord): void {
    this.#db.prepare('DELETE FROM net_endpoints WHERE id = ?').run(ep.id);
    this.#db
      .prepare('DELETE FROM net_leases WHERE network_id = ? AND address = ? AND owner_id = ?')
      .run(ep.networkId, ep.address, ep.ownerId);
  }

  // ---- leases ------------------------------------------------------------------------------------------------

  /** The addresses leased on a network, with when each was taken (the allocator goes on after the newest). */
  leasedOn(networkId: string): { address: string; created: number }[] {
    return (
      this.#db.prepare('SELECT address, created_at FROM net_leases WHERE network_id = ?').all(networkId) as {
        address: string;
        created_at: number;
      }[]
    ).map((r) => ({ address: r.address, created: r.created_at }));
  }

  leases(): LeaseRecord[] {
    return (
      this.#db.prepare('SELECT network_id, address, owner_id, kind FROM net_leases').all() as {
        network_id: string;
        address: string;
        owner_id: string;
        kind: OwnerKind;
      }[]
    ).map((r) => ({ networkId: r.network_id, address: r.address, ownerId: r.owner_id, kind: r.kind }));
  }

  /** Drops leases whose owner has no endpoint left (a crash between lease and attach, or after detach). */
  dropOrphanLeases(): void {
    this.#db
      .prepare('DELETE FROM net_leases WHERE owner_id NOT IN (SELECT owner_id FROM net_endpoints)')
      .run();
  }
}

function docs(rows: unknown[]): EndpointRecord[] {
  return (rows as { doc: string }[]).map((r) => JSON.parse(r.doc) as EndpointRecord);
}
