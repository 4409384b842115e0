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
import { checkNameLength, newId } from '../../core/ids.ts';
import {
  broadcastOf,
  contains,
  containsSubnet,
  formatIPv4,
  overlaps,
  parseCidr,
  parseIPv4,
  type Subnet,
} from '../../core/network/ip.ts';
import { allocateSubnet, defaultGateway } from '../../core/network/ipam.ts';
import { hostsFile, parseAddHost, resolvConf } from '../../core/network/names.ts';
import type { PortBinding, PortRequest } from '../../core/network/ports.ts';
import {
  DEFAULT_BRIDGE_DEVICE,
  DEFAULT_MTU,
  DEFAULT_NETWORK,
  DEFAULT_SUBNET,
  type EndpointRecord,
  type NetworkInspect,
  type NetworkRecord,
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
import type { EventLog } from '../events.ts';
import type { References } from '../references.ts';
import { type AttachContext, attachEndpoints, attachTaps, bringDown, detachEndpoints } from './attach.ts';
import { choosePorts, leaseEndpoints } from './leases.ts';
import { reconcileNetworks } from './reconcile.ts';
import { type LeaseRecord, NetworkStore } from './store.ts';

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const BRIDGE_OPT = 'com.docker.network.bridge.name';
const MTU_OPT = 'com.docker.network.driver.mtu';
const KNOWN_OPTS = new Set([BRIDGE_OPT, MTU_OPT]);

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

  create(opts: NetworkCreateOptions): NetworkInspect {
    checkNameLength(opts.name, 'network');
    if (!NAME_RE.test(opts.name)) throw new InvalidArgumentError(`invalid network name "${opts.name}"`);
    if (opts.name === DEFAULT_NETWORK || opts.name === 'host' || opts.name === 'none') {
      throw new InvalidArgumentError(`network name "${opts.name}" is reserved`);
    }
    if ((opts.driver ?? 'bridge') !== 'bridge') {
      throw new InvalidArgumentError(`network driver "${opts.driver}" is not supported: use bridge`);
    }
    this.#store.requireRoom(`cannot create network ${opts.name}`);
    const options = opts.options ?? {};
    for (const k of Object.keys(options)) {
      if (!KNOWN_OPTS.has(k))
        throw new InvalidArgumentError(
          `unknown network option "${k}": known are ${[...KNOWN_OPTS].join(', ')}`,
        );
    }
    const id = newId();
    const bridge = options[BRIDGE_OPT] ?? `hbr-${id.slice(0, 11)}`;
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge) || /^hbx[0-9a-f]{8}$/.test(bridge)) {
      throw new InvalidArgumentError(`invalid bridge name "${bridge}": 1-15 characters of [a-zA-Z0-9_.-]`);
    }
    const mtu = options[MTU_OPT] === undefined ? DEFAULT_MTU : Number(options[MTU_OPT]);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
      throw new InvalidArgumentError(`invalid MTU "${options[MTU_OPT]}": must be an integer 68-65535`);
    }
    return this.#store.transaction(() => {
      if (this.#store.find(opts.name))
        throw new AlreadyExistsError(`network with name ${opts.name} already exists`);
      const others = this.#store.all();
      if (others.some((o) => o.bridge === bridge))
        throw new ConflictError(`bridge ${bridge} is used by another network`);
      const rec = this.#record({ id, name: opts.name, bridge, mtu, options, others, opts, isDefault: false });
      this.#store.insert(rec);
      this.#events?.record('network', 'create', id, { name: rec.name, type: 'bridge' });
      return this.#view(rec);
    });
  }

  #record(a: {
    id: string;
    name: string;
    bridge: string;
    mtu: number;
    options: Record<string, string>;
    others: NetworkRecord[];
    opts: Omit<NetworkCreateOptions, 'name'>;
    isDefault: boolean;
  }): NetworkRecord {
    const used = a.others.map((o) => parseCidr(o.subnet));
    let subnet: Subnet;
    if (a.opts.subnet) {
      subnet = parseCidr(a.opts.subnet);
      if (subnet.prefix > 30)
        throw new InvalidArgumentError(`subnet ${a.opts.subnet} is too small: use /30 or larger`);
      const wanted = subnet;
      const clash = a.others.find((o) => overlaps(parseCidr(o.subnet), wanted));
      if (clash)
        throw new ConflictError(`subnet ${a.opts.subnet} overlaps network ${clash.name} (${clash.subnet})`);
    } else {
      if (a.opts.gateway || a.opts.ipRange)
        throw new InvalidArgumentError('--gateway and --ip-range need --subnet');
      subnet = allocateSubnet(used, this.#driver.hostRoutes());
    }
    const gateway = a.opts.gateway ? parseIPv4(a.opts.gateway, 'gateway') : defaultGateway(subnet);
    if (!contains(subnet, gateway) || gateway === subnet.network || gateway === broadcastOf(subnet)) {
      throw new InvalidArgumentError(
        `gateway ${formatIPv4(gateway)} is not a host address of subnet ${a.opts.subnet}`,
      );
    }
    let ipRange: string | undefined;
    if (a.opts.ipRange) {
      const r = parseCidr(a.opts.ipRange, 'ip-range');
      if (!containsSubnet(subnet, r))
        throw new InvalidArgumentError(`ip-range ${a.opts.ipRange} is not inside subnet ${a.opts.subnet}`);
      ipRange = a.opts.ipRange;
    }
    return {
      id: a.id,
      name: a.name,
      created: Date.now(),
      driver: 'bridge',
      subnet: `${formatIPv4(subnet.network)}/${subnet.prefix}`,
      gateway: formatIPv4(gateway),
      ipRange,
      internal: a.opts.internal ?? false,
      bridge: a.bridge,
      mtu: a.mtu,
      options: a.options,
      labels: a.opts.labels ?? {},
      isDefault: a.isDefault,
    };
  }

  /** The default `bridge` network, made on first use (172.17.0.0/16 unless a host route takes it). */
  ensureDefault(): NetworkRecord {
    const found = this.#store.find(DEFAULT_NETWORK);
    if (found) return found;
    return this.#store.transaction(() => {
      const again = this.#store.find(DEFAULT_NETWORK);
      if (again) return again;
      const others = this.#store.all();
      const routes = this.#driver.hostRoutes().filter((r) => r.prefix > 0);
      const wanted = parseCidr(DEFAULT_SUBNET);
      const taken = [...others.map((o) => parseCidr(o.subnet)), ...routes];
      const subnet = taken.some((t) => overlaps(t, wanted)) ? allocateSubnet(taken, []) : wanted;
      const rec = this.#record({
        id: newId(),
        name: DEFAULT_NETWORK,
        bridge: this.#defaultBridgeDevice(),
        mtu: DEFAULT_MTU,
        options: { [BRIDGE_OPT]: this.#defaultBridgeDevice() },
        others,
        opts: { subnet: `${formatIPv4(subnet.network)}/${subnet.prefix}` },
        isDefault: true,
      });
      this.#store.insert(rec);
      return rec;
    });
  }

  /** `hbx0` for the host's root (docker's docker0); another state root gets its own, so two never share one. */
  #defaultBridgeDevice(): string {
    if (this.#layout.rootOption === undefined) return DEFAULT_BRIDGE_DEVICE;
    return `${DEFAULT_BRIDGE_DEVICE}-${createHash('sha256').update(this.#layout.root).digest('hex').slice(0, 6)}`;
  }

  list(): NetworkInspect[] {
    return this.#store.all().map((n) => this.#view(n));
  }

  inspect(ref: string): NetworkInspect {
    return this.#view(this.#get(ref));
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
    const nets = wanted.map((w) =>
      w.network === DEFAULT_NETWORK ? this.ensureDefault() : this.#get(w.network),
    );
    if (new Set(nets.map((n) => n.id)).size !== nets.length)
      throw new InvalidArgumentError('a network is listed twice');
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
    const firstUser = nets.find((n) => !n.isDefault);
    const text = this.#driver.hostResolvConf();
    return {
      netnsPath: this.sandboxPath(req.ownerId),
      hosts: hostsFile({ hostname: req.hostname, addresses: eps.map((e) => e.address), extraHosts }),
      resolvConf: resolvConf({
        hostResolvConf: text,
        networkDns: firstUser?.gateway,
        dns: req.dns ?? [],
        dnsSearch: req.dnsSearch ?? [],
        dnsOptions: req.dnsOptions ?? [],
      }),
      endpoints: eps,
    };
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
    const nets = req.networks.map((w) =>
      w.network === DEFAULT_NETWORK ? this.ensureDefault() : this.#get(w.network),
    );
    if (new Set(nets.map((n) => n.id)).size !== nets.length)
      throw new InvalidArgumentError('a network is listed twice');
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
    await reconcileNetworks(
      {
        store: this.#store,
        driver: this.#driver,
        netnsDir: this.#netnsDir,
        tearDown: (o) => this.tearDown(o),
      },
      isLive,
      opts,
    );
  }

  // ---- internals ----------------------------------------------------------------------------------------------

  #get(ref: string): NetworkRecord {
    const n = this.#store.find(ref) ?? (ref === DEFAULT_NETWORK ? this.ensureDefault() : undefined);
    if (!n) throw new NotFoundError(`network ${ref} not found`);
    return n;
  }

  #view(n: NetworkRecord): NetworkInspect {
    const containers: NetworkInspect['Containers'] = {};
    const prefix = parseCidr(n.subnet).prefix;
    for (const e of this.#store.endpointsOf(n.id)) {
      containers[e.ownerId] = {
        Name: e.ownerName,
        EndpointID: e.id,
        MacAddress: e.mac,
        IPv4Address: `${e.address}/${prefix}`,
        IPv6Address: '',
      };
    }
    return {
      Name: n.name,
      Id: n.id,
      Created: new Date(n.created).toISOString(),
      Scope: 'local',
      Driver: 'bridge',
      EnableIPv6: false,
      IPAM: {
        Driver: 'default',
        Options: {},
        Config: [{ Subnet: n.subnet, Gateway: n.gateway, ...(n.ipRange ? { IPRange: n.ipRange } : {}) }],
      },
      Internal: n.internal,
      Attachable: false,
      Ingress: false,
      ConfigOnly: false,
      Containers: containers,
      Options: n.options,
      Labels: n.labels,
    };
  }

  /** For tests and `system df`-like views: every lease row. */
  leases(): LeaseRecord[] {
    return this.#store.leases();
  }

  get layout(): Layout {
    return this.#layout;
  }
}

/** The owner's part of a lease request. */
function owner(req: { ownerId: string; ownerName: string }, kind: OwnerKind) {
  return { ownerId: req.ownerId, ownerName: req.ownerName, kind };
}
