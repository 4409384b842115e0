import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  AlreadyExistsError,
  ConflictError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import {
  BRIDGE_OPT,
  checkCreateName,
  checkCreateOptions,
  defaultBridgeDevice,
  defaultNetworkSubnet,
  networkRecord,
} from '../../core/network/create.ts';
import { parseAddHost, sandboxNameFiles } from '../../core/network/names.ts';
import type { PortBinding, PortRequest } from '../../core/network/ports.ts';
import {
  DEFAULT_MTU,
  DEFAULT_NETWORK,
  type EndpointRecord,
  type NetworkRecord,
  type NetworkReport,
  type OwnerKind,
} from '../../core/network/types.ts';
import type { Layout } from '../../core/paths.ts';
import type { NetworkDriver } from '../../drivers/network/network-driver.ts';
import type { Database } from '../../drivers/store/database.ts';
import type {
  NetworkAttachment,
  NetworkCreateOptions,
  SandboxRequest,
  SandboxResult,
} from '../api/networks.ts';
import type { EventLog } from '../events/service.ts';
import type { References } from '../references.ts';
import { type AttachContext, attachEndpoints, attachTaps, bringDown, detachEndpoints } from './attach.ts';
import { choosePorts, leaseEndpoints } from './leases.ts';
import { reconcileNetworks } from './reconcile.ts';
import { type LeaseRecord, NetworkStore } from './store.ts';

/**
 * Networks and their endpoints. Records and leases live in SQLite; the kernel side is planned in core/network and
 * carried out by the NetworkDriver. Lease allocation runs in one BEGIN IMMEDIATE transaction (distinct addresses
 * across processes). Bridges come up on first attach, and again after a reboot.
 */
export class NetworkService {
  readonly #layout: Layout;
  readonly #store: NetworkStore;
  readonly #driver: NetworkDriver;
  readonly #events: EventLog | undefined;
  readonly #netnsDir: string;
  readonly #refs: References;
  /** What the attach and detach steps see of this service. */
  readonly #ctx: AttachContext;

  constructor(opts: {
    layout: Layout;
    db: Database;
    driver: NetworkDriver;
    events?: EventLog;
    /** Workloads configured on a network even while stopped ("container web (3f2a1b…)"): they keep it in use. */
    references: References;
  }) {
    this.#refs = opts.references;
    this.#layout = opts.layout;
    this.#store = new NetworkStore(opts.db);
    this.#driver = opts.driver;
    this.#events = opts.events;
    this.#netnsDir = opts.layout.netns;
    this.#ctx = {
      store: this.#store,
      driver: this.#driver,
      get: (ref) => this.#get(ref),
      sandboxPath: (ownerId) => this.sandboxPath(ownerId),
      lockDir: opts.layout.networkLocks,
    };
  }

  /** Where the sandbox of an owner lives (exists while it has endpoints). */
  sandboxPath(ownerId: string): string {
    return path.join(this.#netnsDir, ownerId);
  }

  // ---- records ---------------------------------------------------------------------------------------------

  create(opts: NetworkCreateOptions): NetworkRecord {
    checkCreateName(opts);
    this.#store.requireRoom(`cannot create network ${opts.name}`);
    const id = newId();
    const checked = checkCreateOptions(opts, id);
    return this.#store.transaction(() => {
      if (this.#store.find(opts.name))
        throw new AlreadyExistsError(`network with name ${opts.name} already exists`);
      const others = this.#store.all();
      if (others.some((o) => o.bridge === checked.bridge))
        throw new ConflictError(`bridge ${checked.bridge} is used by another network`);
      const rec = networkRecord({
        id,
        name: opts.name,
        created: Date.now(),
        checked,
        others,
        hostRoutes: opts.subnet ? [] : this.#driver.hostRoutes(),
        req: opts,
        isDefault: false,
      });
      this.#store.insert(rec);
      this.#events?.record('network', 'create', id, { name: rec.name, type: 'bridge' });
      return rec;
    });
  }

  /** The default `bridge` network, made on first use (172.17.0.0/16 unless a host route takes it). */
  ensureDefault(): NetworkRecord {
    const found = this.#store.find(DEFAULT_NETWORK);
    if (found) return found;
    return this.#store.transaction(() => {
      const again = this.#store.find(DEFAULT_NETWORK);
      if (again) return again;
      const others = this.#store.all();
      const bridge = defaultBridgeDevice(
        this.#layout.rootOption === undefined
          ? undefined
          : createHash('sha256').update(this.#layout.root).digest('hex'),
      );
      const rec = networkRecord({
        id: newId(),
        name: DEFAULT_NETWORK,
        created: Date.now(),
        checked: { bridge, mtu: DEFAULT_MTU, options: { [BRIDGE_OPT]: bridge } },
        others,
        hostRoutes: [],
        req: { subnet: defaultNetworkSubnet(others, this.#driver.hostRoutes()) },
        isDefault: true,
      });
      this.#store.insert(rec);
      return rec;
    });
  }

  /** Every network with the endpoints on it now, oldest first. */
  list(): NetworkReport[] {
    return this.#store.all().map((n) => this.#report(n));
  }

  inspect(ref: string): NetworkReport {
    return this.#report(this.#get(ref));
  }

  /** The record of a network by name, full id or unique id prefix. */
  record(ref: string): NetworkRecord {
    return this.#get(ref);
  }

  async remove(ref: string): Promise<void> {
    const n = this.#get(ref);
    if (n.isDefault) {
      throw new FailedPreconditionError(`${n.name} is a pre-defined network and cannot be removed`);
    }
    const users = new Set([
      ...this.#store.endpointsOf(n.id).map((e) => `${e.kind} ${e.ownerName} (${e.ownerId.slice(0, 12)})`),
      ...this.#refs.usersOfNetwork(n),
    ]);
    if (users.size > 0) throw new ConflictError(`network ${n.name} is in use by ${[...users].join(', ')}`);
    await bringDown(this.#ctx, n);
    this.#store.transaction(() => {
      if (this.#store.endpointsOf(n.id).length > 0) throw new ConflictError(`network ${n.name} is in use`);
      this.#store.delete(n.id);
    });
    this.#events?.record('network', 'destroy', n.id, { name: n.name, type: 'bridge' });
  }

  /**
   * For `system reset`: every network of this root, the default one included, with its bridge, rules and DNS
   * server. Refused while any endpoint remains (remove the workloads first). Returns how many went.
   */
  async removeAll(): Promise<number> {
    const eps = this.#store.allEndpoints();
    if (eps.length > 0) {
      throw new ConflictError(
        `networks are in use by ${eps.map((e) => `${e.kind} ${e.ownerName}`).join(', ')}`,
      );
    }
    const nets = this.#store.all();
    for (const n of nets) {
      await bringDown(this.#ctx, n);
      this.#driver.dns.stop(n.id);
      this.#store.transaction(() => {
        this.#store.delete(n.id);
      });
      this.#events?.record('network', 'destroy', n.id, { name: n.name, type: 'bridge' });
    }
    return nets.length;
  }

  /** Removes every user network without endpoints; returns their names. */
  async prune(): Promise<string[]> {
    const out: string[] = [];
    for (const n of this.#store.all()) {
      if (n.isDefault || this.#store.endpointsOf(n.id).length > 0 || this.#refs.usersOfNetwork(n).length > 0)
        continue;
      await this.remove(n.id);
      out.push(n.name);
    }
    return out;
  }

  // ---- sandboxes ---------------------------------------------------------------------------------------------

  /**
   * At start, before `runc create`: leases addresses, checks and reserves published ports, creates the sandbox
   * (network namespace file) and attaches it to every network. On failure everything done is undone and the error
   * (ConflictError for a taken port or address) is thrown: the container must not start.
   */
  async setUp(req: SandboxRequest): Promise<SandboxResult> {
    const wanted = req.networks && req.networks.length > 0 ? req.networks : [{ network: DEFAULT_NETWORK }];
    const nets = this.#networksOf(wanted);
    const extraHosts = (req.extraHosts ?? []).map(parseAddHost);
    if (this.#store.endpointsOfOwner(req.ownerId).length > 0) await this.tearDown(req.ownerId);
    const ports = await choosePorts(this.#ctx, req.publish ?? []);
    const eps = leaseEndpoints(this.#store, {
      ...owner(req, req.kind ?? 'container'),
      networks: nets.map((network, i) => ({ network, wanted: wanted[i]! })),
      ports,
      firstIndex: 0,
    });
    try {
      await attachEndpoints(this.#ctx, { ownerId: req.ownerId, endpoints: eps, createSandbox: true });
    } catch (err) {
      await this.tearDown(req.ownerId);
      throw err;
    }
    const files = sandboxNameFiles({
      hostname: req.hostname,
      addresses: eps.map((e) => e.address),
      extraHosts,
      hostResolvConf: this.#driver.hostResolvConf(),
      networkDns: nets.find((n) => !n.isDefault)?.gateway,
      dns: req.dns ?? [],
      dnsSearch: req.dnsSearch ?? [],
      dnsOptions: req.dnsOptions ?? [],
    });
    return { netnsPath: this.sandboxPath(req.ownerId), ...files, endpoints: eps };
  }

  /** `network connect` for an owner whose sandbox exists (a running container). */
  async connect(
    ref: string,
    owner: { id: string; name: string; kind?: OwnerKind },
    att: Omit<NetworkAttachment, 'network'> = {},
  ): Promise<EndpointRecord> {
    const n = ref === DEFAULT_NETWORK ? this.ensureDefault() : this.#get(ref);
    if (!fs.existsSync(this.sandboxPath(owner.id))) {
      throw new FailedPreconditionError(`container ${owner.name} has no network namespace: start it first`);
    }
    if (this.#store.endpointsOfOwner(owner.id).some((e) => e.networkId === n.id)) {
      throw new AlreadyExistsError(`container ${owner.name} is already attached to network ${n.name}`);
    }
    const existing = this.#store.endpointsOfOwner(owner.id).length;
    const [ep] = leaseEndpoints(this.#store, {
      ownerId: owner.id,
      ownerName: owner.name,
      kind: owner.kind ?? 'container',
      networks: [{ network: n, wanted: att }],
      ports: [],
      firstIndex: existing,
    });
    try {
      await attachEndpoints(this.#ctx, { ownerId: owner.id, endpoints: [ep!], createSandbox: false });
    } catch (err) {
      await detachEndpoints(this.#ctx, { endpoints: [ep!], removeSandbox: false });
      throw err;
    }
    this.#events?.record('network', 'connect', n.id, { container: owner.id, name: n.name });
    return ep!;
  }

  async disconnect(ref: string, ownerId: string): Promise<void> {
    const n = this.#get(ref);
    const eps = this.#store.endpointsOfOwner(ownerId).filter((e) => e.networkId === n.id);
    if (eps.length === 0)
      throw new NotFoundError(`container ${ownerId.slice(0, 12)} is not connected to network ${n.name}`);
    const last = this.#store.endpointsOfOwner(ownerId).length === 1;
    await detachEndpoints(this.#ctx, { endpoints: eps, removeSandbox: last });
    this.#events?.record('network', 'disconnect', n.id, { container: ownerId, name: n.name });
  }

  /** At exit, failed start and rm: removes endpoints, rules, leases, DNS entries and the sandbox. Idempotent. */
  async tearDown(ownerId: string): Promise<void> {
    await detachEndpoints(this.#ctx, {
      endpoints: this.#store.endpointsOfOwner(ownerId),
      removeSandbox: true,
      ownerId,
    });
  }

  /**
   * A VM's NICs, at `vm start`: leases addresses (kind 'vm') from the same IPAM as containers, makes one tap per
   * network (hbxt + 8 hex) enslaved to its bridge, publishes ports on the first network with the same DNAT rules,
   * and puts the VM's name in the networks' DNS. QEMU then opens the taps by name. On failure all is undone.
   */
  async attachTaps(req: {
    ownerId: string;
    ownerName: string;
    hostname: string;
    networks: NetworkAttachment[];
    publish?: PortRequest[];
  }): Promise<EndpointRecord[]> {
    const nets = this.#networksOf(req.networks);
    if (this.#store.endpointsOfOwner(req.ownerId).length > 0) await this.detachTaps(req.ownerId);
    const ports = await choosePorts(this.#ctx, req.publish ?? []);
    const eps = leaseEndpoints(this.#store, {
      ...owner(req, 'vm'),
      networks: nets.map((network, i) => ({ network, wanted: req.networks[i]! })),
      ports,
      firstIndex: 0,
    });
    try {
      await attachTaps(this.#ctx, eps);
    } catch (err) {
      await this.detachTaps(req.ownerId);
      throw err;
    }
    return eps;
  }

  /** At VM stop, crash and rm: taps, rules, leases and DNS entries of the VM. Idempotent. */
  async detachTaps(ownerId: string): Promise<void> {
    await detachEndpoints(this.#ctx, {
      endpoints: this.#store.endpointsOfOwner(ownerId),
      removeSandbox: false,
      ownerId,
    });
  }

  endpoints(ownerId: string): EndpointRecord[] {
    return this.#store.endpointsOfOwner(ownerId);
  }

  /** Published ports of an owner (for `hyperbox port` and inspect's NetworkSettings.Ports). */
  ports(ownerId: string): PortBinding[] {
    return this.#store.endpointsOfOwner(ownerId).flatMap((e) => e.ports);
  }

  /**
   * At every engine start: removes whatever belongs to owners not in `live` (containers and VMs that exist and may
   * hold a sandbox): endpoints, leases, sandboxes, veths, DNS servers, and, with `deep` or when anything stale was
   * found, tagged rules of vanished endpoints/networks and bridges of removed networks.
   */
  async reconcile(
    live: ReadonlySet<string> | ((ownerId: string) => boolean),
    opts: { deep?: boolean } = {},
  ): Promise<void> {
    const isLive = typeof live === 'function' ? live : (id: string) => live.has(id);
    const ctx = { store: this.#store, driver: this.#driver, netnsDir: this.#netnsDir };
    await reconcileNetworks({ ...ctx, tearDown: (o) => this.tearDown(o) }, isLive, opts);
  }

  // ---- internals ----------------------------------------------------------------------------------------------

  #get(ref: string): NetworkRecord {
    const n = this.#store.find(ref) ?? (ref === DEFAULT_NETWORK ? this.ensureDefault() : undefined);
    if (!n) throw new NotFoundError(`network ${ref} not found`);
    return n;
  }

  /** The networks a sandbox or VM joins, each once (the default one made on first use). */
  #networksOf(wanted: readonly NetworkAttachment[]): NetworkRecord[] {
    const nets = wanted.map((w) =>
      w.network === DEFAULT_NETWORK ? this.ensureDefault() : this.#get(w.network),
    );
    if (new Set(nets.map((n) => n.id)).size !== nets.length)
      throw new InvalidArgumentError('a network is listed twice');
    return nets;
  }

  #report(n: NetworkRecord): NetworkReport {
    return { ...n, endpoints: this.#store.endpointsOf(n.id) };
  }

  /** For tests and `system df`-like views: every lease row. */
  leases(): LeaseRecord[] {
    return this.#store.leases();
  }
}

/** The owner's part of a lease request. */
function owner(req: { ownerId: string; ownerName: string }, kind: OwnerKind) {
  return { ownerId: req.ownerId, ownerName: req.ownerName, kind };
}
