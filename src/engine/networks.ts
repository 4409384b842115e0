import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  AlreadyExistsError,
  ConflictError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from '../core/errors.ts';
import { checkNameLength, newId } from '../core/ids.ts';
import {
  broadcastOf,
  contains,
  containsSubnet,
  formatIPv4,
  overlaps,
  parseCidr,
  parseIPv4,
  type Subnet,
} from '../core/network/ip.ts';
import {
  allocateSubnet,
  defaultGateway,
  macForAddress,
  parseMac,
  pickAddress,
} from '../core/network/ipam.ts';
import { dnsHostsFile, hostNameservers, hostsFile, parseAddHost, resolvConf } from '../core/network/names.ts';
import {
  attachPlan,
  baseRulesPlan,
  bridgeDownPlan,
  bridgeUpPlan,
  detachPlan,
  epTag,
  hostIfName,
  type NetPlan,
  type NetStep,
  netTag,
  tapAttachPlan,
  tapIfName,
} from '../core/network/plan.ts';
import {
  checkClashes,
  EPHEMERAL_FIRST,
  EPHEMERAL_LAST,
  type PortBinding,
  type PortRequest,
} from '../core/network/ports.ts';
import {
  DEFAULT_BRIDGE_DEVICE,
  DEFAULT_MTU,
  DEFAULT_NETWORK,
  DEFAULT_SUBNET,
  type EndpointRecord,
  type NetworkInspect,
  type NetworkRecord,
  type OwnerKind,
} from '../core/network/types.ts';
import type { Layout } from '../core/paths.ts';
import type { NetworkDriver } from '../drivers/network/network-driver.ts';
import type { Database } from '../drivers/store/database.ts';
import type { EventLog } from './events/service.ts';
import type { References } from './references.ts';

export interface NetworkCreateOptions {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  options?: Record<string, string>;
  labels?: Record<string, string>;
}

/** One network a sandbox joins, as `run --network NAME --ip --mac-address --network-alias` asks. */
export interface NetworkAttachment {
  network: string;
  ip?: string;
  mac?: string;
  aliases?: string[];
}

export interface SandboxRequest {
  ownerId: string;
  ownerName: string;
  kind?: OwnerKind;
  hostname: string;
  /** Default: [{ network: 'bridge' }]. */
  networks?: NetworkAttachment[];
  /** Parsed -p (core/network/ports.ts parsePublish) plus -P (publishAllRequests). Published on the first network. */
  publish?: PortRequest[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** --add-host "name:ip". */
  extraHosts?: string[];
}

export interface SandboxResult {
  /** The network namespace for the OCI spec: `linux.namespaces: [{ type: 'network', path: netnsPath }]`. */
  netnsPath: string;
  /** Contents for the container's /etc/hosts and /etc/resolv.conf. */
  hosts: string;
  resolvConf: string;
  endpoints: EndpointRecord[];
}

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
  readonly #db: Database;
  readonly #driver: NetworkDriver;
  readonly #events: EventLog | undefined;
  readonly #netnsDir: string;
  readonly #lockDir: string;

  readonly #refs: References;

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
    this.#db = opts.db;
    this.#driver = opts.driver;
    this.#events = opts.events;
    this.#netnsDir = path.join(opts.layout.runRoot, 'netns');
    this.#lockDir = path.join(opts.layout.runRoot, 'network-locks');
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
    this.#db.space.requireRoom(`cannot create network ${opts.name}`);
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
    return this.#db.transaction(() => {
      if (this.#find(opts.name))
        throw new AlreadyExistsError(`network with name ${opts.name} already exists`);
      const others = this.#all();
      if (others.some((o) => o.bridge === bridge))
        throw new ConflictError(`bridge ${bridge} is used by another network`);
      const rec = this.#record({ id, name: opts.name, bridge, mtu, options, others, opts, isDefault: false });
      this.#insert(rec);
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

  #insert(rec: NetworkRecord): void {
    this.#db
      .prepare('INSERT INTO networks (id, name, created_at, doc) VALUES (?, ?, ?, ?)')
      .run(rec.id, rec.name, rec.created, JSON.stringify(rec));
  }

  /** The default `bridge` network, made on first use (172.17.0.0/16 unless a host route takes it). */
  ensureDefault(): NetworkRecord {
    const found = this.#find(DEFAULT_NETWORK);
    if (found) return found;
    return this.#db.transaction(() => {
      const again = this.#find(DEFAULT_NETWORK);
      if (again) return again;
      const others = this.#all();
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
      this.#insert(rec);
      return rec;
    });
  }

  /** `hbx0` for the host's root (docker's docker0); another state root gets its own, so two never share one. */
  #defaultBridgeDevice(): string {
    if (this.#layout.rootOption === undefined) return DEFAULT_BRIDGE_DEVICE;
    return `${DEFAULT_BRIDGE_DEVICE}-${createHash('sha256').update(this.#layout.root).digest('hex').slice(0, 6)}`;
  }

  list(): NetworkInspect[] {
    return this.#all().map((n) => this.#view(n));
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
      ...this.#endpointsOf(n.id).map((e) => `${e.kind} ${e.ownerName} (${e.ownerId.slice(0, 12)})`),
      ...this.#refs.usersOfNetwork(n),
    ]);
    if (users.size > 0) throw new ConflictError(`network ${n.name} is in use by ${[...users].join(', ')}`);
    await this.#bringDown(n);
    this.#db.transaction(() => {
      if (this.#endpointsOf(n.id).length > 0) throw new ConflictError(`network ${n.name} is in use`);
      this.#db.prepare('DELETE FROM net_leases WHERE network_id = ?').run(n.id);
      this.#db.prepare('DELETE FROM networks WHERE id = ?').run(n.id);
    });
    this.#events?.record('network', 'destroy', n.id, { name: n.name, type: 'bridge' });
  }

  /**
   * For `system reset`: every network of this root, the default one included, with its bridge, rules and DNS
   * server. Refused while any endpoint remains (remove the workloads first). Returns how many went.
   */
  async removeAll(): Promise<number> {
    const eps = this.#allEndpoints();
    if (eps.length > 0) {
      throw new ConflictError(
        `networks are in use by ${eps.map((e) => `${e.kind} ${e.ownerName}`).join(', ')}`,
      );
    }
    const nets = this.#all();
    for (const n of nets) {
      await this.#bringDown(n);
      this.#driver.dns.stop(n.id);
      this.#db.transaction(() => {
        this.#db.prepare('DELETE FROM net_leases WHERE network_id = ?').run(n.id);
        this.#db.prepare('DELETE FROM networks WHERE id = ?').run(n.id);
      });
      this.#events?.record('network', 'destroy', n.id, { name: n.name, type: 'bridge' });
    }
    return nets.length;
  }

  /** Removes every user network without endpoints; returns their names. */
  async prune(): Promise<string[]> {
    const out: string[] = [];
    for (const n of this.#all()) {
      if (n.isDefault || this.#endpointsOf(n.id).length > 0 || this.#refs.usersOfNetwork(n).length > 0)
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
    if (this.#endpointsOfOwner(req.ownerId).length > 0) await this.tearDown(req.ownerId);
    const ports = await this.#choosePorts(req.publish ?? []);
    const eps = this.#lease(req, nets, wanted, ports, 0);
    try {
      await this.#attach(req.ownerId, eps, true);
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
    if (this.#endpointsOfOwner(owner.id).some((e) => e.networkId === n.id)) {
      throw new AlreadyExistsError(`container ${owner.name} is already attached to network ${n.name}`);
    }
    const existing = this.#endpointsOfOwner(owner.id).length;
    const [ep] = this.#lease(
      { ownerId: owner.id, ownerName: owner.name, kind: owner.kind ?? 'container', hostname: owner.name },
      [n],
      [{ network: n.id, ...att }],
      [],
      existing,
    );
    try {
      await this.#attach(owner.id, [ep!], false);
    } catch (err) {
      await this.#detach([ep!], false);
      throw err;
    }
    this.#events?.record('network', 'connect', n.id, { container: owner.id, name: n.name });
    return ep!;
  }

  async disconnect(ref: string, ownerId: string): Promise<void> {
    const n = this.#get(ref);
    const eps = this.#endpointsOfOwner(ownerId).filter((e) => e.networkId === n.id);
    if (eps.length === 0)
      throw new NotFoundError(`container ${ownerId.slice(0, 12)} is not connected to network ${n.name}`);
    const last = this.#endpointsOfOwner(ownerId).length === 1;
    await this.#detach(eps, last);
    this.#events?.record('network', 'disconnect', n.id, { container: ownerId, name: n.name });
  }

  /** At exit, failed start and rm: removes endpoints, rules, leases, DNS entries and the sandbox. Idempotent. */
  async tearDown(ownerId: string): Promise<void> {
    await this.#detach(this.#endpointsOfOwner(ownerId), true, ownerId);
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
    if (this.#endpointsOfOwner(req.ownerId).length > 0) await this.detachTaps(req.ownerId);
    const ports = await this.#choosePorts(req.publish ?? []);
    const eps = this.#lease({ ...req, kind: 'vm' }, nets, req.networks, ports, 0);
    try {
      for (const n of nets) await this.#bringUp(n);
      await this.#driver.apply({ steps: sortSteps(eps.flatMap((e, i) => tapAttachPlan(nets[i]!, e).steps)) });
      for (const n of nets) if (!n.isDefault) await this.#updateDns(n);
    } catch (err) {
      await this.detachTaps(req.ownerId);
      throw err;
    }
    return eps;
  }

  /** At VM stop, crash and rm: taps, rules, leases and DNS entries of the VM. Idempotent. */
  async detachTaps(ownerId: string): Promise<void> {
    await this.#detach(this.#endpointsOfOwner(ownerId), false, ownerId);
  }

  endpoints(ownerId: string): EndpointRecord[] {
    return this.#endpointsOfOwner(ownerId);
  }

  /** Published ports of an owner (for `hyperbox port` and inspect's NetworkSettings.Ports). */
  ports(ownerId: string): PortBinding[] {
    return this.#endpointsOfOwner(ownerId).flatMap((e) => e.ports);
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
    // A predicate is asked at the moment each owner is looked at: another process may be starting a container
    // right now (it marks itself busy before it leases anything), and a snapshot taken earlier would miss it.
    const isLive = typeof live === 'function' ? live : (id: string) => live.has(id);
    let stale = opts.deep ?? false;
    // What exists on the host is read BEFORE the records: setUp records an endpoint before it makes its veth and
    // namespace file, so anything seen here whose record is missing afterwards is really left over.
    const hostIfs = this.#driver.hostInterfaces();
    let files: string[] = [];
    try {
      files = fs.readdirSync(this.#netnsDir);
    } catch {}
    const dnsKnown = this.#driver.dns.known();
    const owners = new Set(
      (this.#db.prepare('SELECT DISTINCT owner_id FROM net_endpoints').all() as { owner_id: string }[]).map(
        (r) => r.owner_id,
      ),
    );
    for (const o of owners) {
      if (!isLive(o)) {
        stale = true;
        await this.tearDown(o);
      }
    }
    // Leases whose owner has no endpoint left (a crash between lease and attach, or after detach).
    this.#db
      .prepare('DELETE FROM net_leases WHERE owner_id NOT IN (SELECT owner_id FROM net_endpoints)')
      .run();
    const eps = this.#allEndpoints();
    const ifs = new Set(eps.map((e) => e.hostIf));
    const nets = this.#all();
    // Other state roots may run networks on this host too: only objects tied to this root's bridges and subnets
    // are ours to judge. (Every object is recorded before it is made and deleted before its record, so nothing of
    // ours can exist without a record naming its bridge.)
    const bridges = new Set(nets.map((n) => n.bridge));
    const subnets = nets.map((n) => parseCidr(n.subnet));
    const steps: NetStep[] = [];
    for (const name of hostIfs) {
      if (!ifs.has(name) && bridges.has(this.#driver.masterOf(name) ?? '')) {
        steps.push({ op: 'ip', ns: 'host', line: `link del ${name}` });
      }
    }
    const sandboxOwners = new Set(eps.map((e) => e.ownerId));
    for (const f of files)
      if (!sandboxOwners.has(f)) steps.push({ op: 'netns-remove', path: path.join(this.#netnsDir, f) });
    const netIds = new Set(nets.map((n) => n.id));
    for (const id of dnsKnown) {
      if (!netIds.has(id) || !eps.some((e) => e.networkId === id)) this.#driver.dns.stop(id);
    }
    if (steps.length > 0) stale = true;
    if (stale) {
      const epTags = new Set(eps.map((e) => epTag(e.id)));
      const netTags = new Set(nets.map((n) => netTag(n.id)));
      for (const r of await this.#driver.taggedRules()) {
        const tag = /--comment (hbx-(?:net|ep):[0-9a-f]+)/.exec(r.line)?.[1];
        if (tag && !epTags.has(tag) && !netTags.has(tag) && ruleIsOurs(r.line, bridges, subnets)) {
          steps.push({ op: 'rule', table: r.table, line: r.line.replace(/^-A /, '-D ') });
        }
      }
    }
    if (steps.length > 0) await this.#driver.apply({ steps: sortSteps(steps) }, { loose: true });
  }

  // ---- internals ----------------------------------------------------------------------------------------------

  async #choosePorts(reqs: PortRequest[]): Promise<PortBinding[]> {
    const held = this.#allEndpoints().flatMap((e) => e.ports.map((p) => ({ ...p, owner: e.ownerName })));
    checkClashes(reqs, held);
    const out: PortBinding[] = [];
    for (const r of reqs) {
      if (r.hostPort !== 0) {
        if (!(await this.#driver.portFree(r))) {
          throw new ConflictError(
            `cannot publish ${r.hostIp}:${r.hostPort}/${r.proto}: the port is already in use on the host (a process listens on it)`,
          );
        }
        out.push(r);
        continue;
      }
      let chosen: PortBinding | undefined;
      const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
      const start = Math.floor(Math.random() * span);
      for (let i = 0; i < span && !chosen; i++) {
        const cand = { ...r, hostPort: EPHEMERAL_FIRST + ((start + i) % span) };
        if ([...held, ...out].some((h) => h.proto === cand.proto && h.hostPort === cand.hostPort)) continue;
        if (await this.#driver.portFree(cand)) chosen = cand;
      }
      if (!chosen) throw new UnavailableError(`no free host port left for ${r.containerPort}/${r.proto}`);
      out.push(chosen);
    }
    return out;
  }

  #lease(
    req: SandboxRequest,
    nets: NetworkRecord[],
    wanted: NetworkAttachment[],
    ports: PortBinding[],
    firstIndex: number,
  ): EndpointRecord[] {
    return this.#db.transaction(() => {
      // Re-check ports under the write lock: another process may have taken them since.
      const held = this.#allEndpoints().flatMap((e) => e.ports.map((p) => ({ ...p, owner: e.ownerName })));
      checkClashes(ports, held);
      const used = new Set(this.#endpointsOfOwner(req.ownerId).map((e) => e.ifname));
      let index = firstIndex;
      const out: EndpointRecord[] = [];
      nets.forEach((n, i) => {
        const w = wanted[i]!;
        const subnet = parseCidr(n.subnet);
        const pool = {
          subnet,
          gateway: parseIPv4(n.gateway),
          range: n.ipRange ? parseCidr(n.ipRange) : subnet,
        };
        const rows = this.#db
          .prepare('SELECT address, created_at FROM net_leases WHERE network_id = ?')
          .all(n.id) as {
          address: string;
          created_at: number;
        }[];
        const taken = new Set(rows.map((r) => parseIPv4(r.address)));
        const last = rows.reduce<{ address: string; created_at: number } | undefined>(
          (a, r) => (a === undefined || r.created_at >= a.created_at ? r : a),
          undefined,
        );
        const ip = pickAddress(pool, taken, {
          ...(w.ip ? { requested: parseIPv4(w.ip, '--ip') } : {}),
          ...(last ? { after: parseIPv4(last.address) } : {}),
        });
        const address = formatIPv4(ip);
        while (used.has(`eth${index}`)) index++;
        const ifname = `eth${index}`;
        used.add(ifname);
        const id = newId();
        const ep: EndpointRecord = {
          id,
          networkId: n.id,
          ownerId: req.ownerId,
          kind: req.kind ?? 'container',
          ownerName: req.ownerName,
          aliases: n.isDefault ? [] : (w.aliases ?? []),
          address,
          mac: w.mac ? parseMac(w.mac) : macForAddress(ip),
          hostIf: req.kind === 'vm' ? tapIfName(id) : hostIfName(id),
          ifname,
          ports: i === 0 ? ports : [],
          created: Date.now(),
        };
        this.#db
          .prepare(
            'INSERT INTO net_leases (network_id, address, owner_id, kind, created_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(n.id, address, req.ownerId, ep.kind, Date.now());
        this.#db
          .prepare('INSERT INTO net_endpoints (id, network_id, owner_id, doc) VALUES (?, ?, ?, ?)')
          .run(id, n.id, req.ownerId, JSON.stringify(ep));
        out.push(ep);
      });
      return out;
    });
  }

  async #attach(ownerId: string, eps: EndpointRecord[], createSandbox: boolean): Promise<void> {
    const nets = eps.map((e) => this.#get(e.networkId));
    for (const n of nets) await this.#bringUp(n);
    const hasRoute =
      !createSandbox &&
      this.#endpointsOfOwner(ownerId).some((e) => !eps.includes(e) && !this.#get(e.networkId).internal);
    let routed = hasRoute;
    const plans = eps.map((e, i) => {
      const n = nets[i]!;
      const p = attachPlan({
        network: n,
        endpoint: e,
        sandboxPath: this.sandboxPath(ownerId),
        createSandbox: createSandbox && i === 0,
        defaultRoute: !routed && !n.internal,
        hostNetns: this.#driver.hostNetns,
      });
      if (!n.internal) routed = true;
      return p;
    });
    await this.#driver.apply({
      sandbox: { path: this.sandboxPath(ownerId), create: createSandbox },
      steps: sortSteps(plans.flatMap((p) => p.steps)),
    });
    for (const n of nets) if (!n.isDefault) await this.#updateDns(n);
  }

  async #detach(eps: EndpointRecord[], removeSandbox: boolean, ownerId?: string): Promise<void> {
    const owner = ownerId ?? eps[0]?.ownerId;
    const steps = eps.flatMap((e) => detachPlan(e).steps);
    if (removeSandbox && owner) steps.push({ op: 'netns-remove', path: this.sandboxPath(owner) });
    if (steps.length > 0) await this.#driver.apply({ steps: sortSteps(steps) }, { loose: true });
    this.#db.transaction(() => {
      for (const e of eps) {
        this.#db.prepare('DELETE FROM net_endpoints WHERE id = ?').run(e.id);
        this.#db
          .prepare('DELETE FROM net_leases WHERE network_id = ? AND address = ? AND owner_id = ?')
          .run(e.networkId, e.address, e.ownerId);
      }
    });
    for (const id of new Set(eps.map((e) => e.networkId))) {
      const n = this.#find(id);
      if (n && !n.isDefault) await this.#updateDns(n);
    }
  }

  async #updateDns(n: NetworkRecord): Promise<void> {
    const eps = this.#endpointsOf(n.id);
    if (eps.length === 0) {
      this.#driver.dns.stop(n.id);
      return;
    }
    await this.#driver.dns.update(n, dnsHostsFile(eps), hostNameservers(this.#driver.hostResolvConf()));
  }

  /** Bridge, gateway address, sysctls and rules of a network, when its bridge is missing (first use, reboot). */
  async #bringUp(n: NetworkRecord): Promise<void> {
    if (this.#driver.linkExists(n.bridge)) return;
    await this.#withLock(n.id, async () => {
      if (this.#driver.linkExists(n.bridge)) return;
      // Rules first, from a clean slate for this network: a crash may have left some behind.
      await this.#driver.apply(bridgeDownPlan(n), { loose: true });
      const base = baseRulesPlan(await this.#driver.presentChains());
      const up = bridgeUpPlan(n);
      await this.#driver.apply({ steps: [...base.steps, ...up.steps] });
    });
  }

  async #bringDown(n: NetworkRecord): Promise<void> {
    this.#driver.dns.stop(n.id);
    if (!this.#driver.linkExists(n.bridge)) return;
    await this.#driver.apply(bridgeDownPlan(n), { loose: true });
  }

  async #withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    fs.mkdirSync(this.#lockDir, { recursive: true, mode: 0o700 });
    const lock = path.join(this.#lockDir, key);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        fs.mkdirSync(lock);
        break;
      } catch {
        try {
          if (Date.now() - fs.statSync(lock).mtimeMs > 15_000)
            fs.rmSync(lock, { recursive: true, force: true });
        } catch {}
        if (Date.now() > deadline) throw new UnavailableError(`timed out waiting for network lock ${lock}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    try {
      return await fn();
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }

  #all(): NetworkRecord[] {
    return (this.#db.prepare('SELECT doc FROM networks ORDER BY created_at').all() as { doc: string }[]).map(
      (r) => JSON.parse(r.doc) as NetworkRecord,
    );
  }

  #find(ref: string): NetworkRecord | undefined {
    const rows = this.#db
      .prepare('SELECT doc FROM networks WHERE name = ? OR id = ? OR id LIKE ?')
      .all(ref, ref, `${/^[0-9a-f]+$/.test(ref) ? ref : '-'}%`) as { doc: string }[];
    const recs = rows.map((r) => JSON.parse(r.doc) as NetworkRecord);
    const exact = recs.find((r) => r.name === ref || r.id === ref);
    if (exact) return exact;
    if (recs.length > 1) throw new InvalidArgumentError(`network id prefix "${ref}" is ambiguous`);
    return recs[0];
  }

  #get(ref: string): NetworkRecord {
    const n = this.#find(ref) ?? (ref === DEFAULT_NETWORK ? this.ensureDefault() : undefined);
    if (!n) throw new NotFoundError(`network ${ref} not found`);
    return n;
  }

  #allEndpoints(): EndpointRecord[] {
    return (this.#db.prepare('SELECT doc FROM net_endpoints').all() as { doc: string }[]).map(
      (r) => JSON.parse(r.doc) as EndpointRecord,
    );
  }

  #endpointsOf(networkId: string): EndpointRecord[] {
    return (
      this.#db.prepare('SELECT doc FROM net_endpoints WHERE network_id = ?').all(networkId) as {
        doc: string;
      }[]
    ).map((r) => JSON.parse(r.doc) as EndpointRecord);
  }

  #endpointsOfOwner(ownerId: string): EndpointRecord[] {
    return (
      this.#db.prepare('SELECT doc FROM net_endpoints WHERE owner_id = ?').all(ownerId) as {
        doc: string;
      }[]
    )
      .map((r) => JSON.parse(r.doc) as EndpointRecord)
      .sort((a, b) => a.ifname.localeCompare(b.ifname));
  }

  #view(n: NetworkRecord): NetworkInspect {
    const containers: NetworkInspect['Containers'] = {};
    const prefix = parseCidr(n.subnet).prefix;
    for (const e of this.#endpointsOf(n.id)) {
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
  leases(): { networkId: string; address: string; ownerId: string; kind: OwnerKind }[] {
    return (
      this.#db.prepare('SELECT network_id, address, owner_id, kind FROM net_leases').all() as {
        network_id: string;
        address: string;
        owner_id: string;
        kind: OwnerKind;
      }[]
    ).map((r) => ({ networkId: r.network_id, address: r.address, ownerId: r.owner_id, kind: r.kind }));
  }

  get layout(): Layout {
    return this.#layout;
  }
}

/** Orders merged plan steps so each kind runs once: rule deletions, sandbox links, host links, sysctls, rule adds, netns removal. */
function sortSteps(steps: NetStep[]): NetStep[] {
  const rank = (s: NetStep): number => {
    if (s.op === 'rule') return s.line.startsWith('-D') ? 0 : 4;
    if (s.op === 'ip') return s.ns === 'sandbox' ? 1 : 2;
    if (s.op === 'sysctl') return 3;
    return 5;
  };
  return steps
    .map((s, i) => ({ s, i }))
    .sort((a, b) => rank(a.s) - rank(b.s) || a.i - b.i)
    .map((x) => x.s);
}

export type { NetPlan };

/** Whether a tagged rule belongs to this root: it names one of our bridges, or DNATs into one of our subnets. */
function ruleIsOurs(line: string, bridges: ReadonlySet<string>, subnets: readonly Subnet[]): boolean {
  const dev = /(?:^|\s)-[io] (\S+)/.exec(line)?.[1];
  if (dev && bridges.has(dev)) return true;
  const to = /(?:--to-destination|-s) (\d+\.\d+\.\d+\.\d+)/.exec(line)?.[1];
  return to !== undefined && subnets.some((s) => contains(s, parseIPv4(to)));
}
