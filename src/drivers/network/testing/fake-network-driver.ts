import fs from 'node:fs';
import path from 'node:path';
import { InternalError, UnavailableError } from '../../../core/errors.ts';
import { parseCidr, type Subnet } from '../../../core/network/ip.ts';
import { HOST_IF_RE, type NetPlan, type NetStep } from '../../../core/network/plan.ts';
import type { PortRequest } from '../../../core/network/ports.ts';
import type { DnsServers, NetworkDriver } from '../network-driver.ts';

/** A host link as the fake kernel keeps it. */
interface Link {
  kind: 'bridge' | 'veth' | 'tap';
  master?: string;
  /** A veth's other end: [sandbox path, interface name]. */
  peer?: [string, string];
}

/** DNS servers in memory: what each network's server would answer. */
export class FakeDnsServers implements DnsServers {
  readonly servers = new Map<string, { gateway: string; hosts: string; upstream: readonly string[] }>();
  /** Whether a gateway address is on the host: a server can only bind there (the fake driver knows). */
  readonly #gatewayUp: (gateway: string) => boolean;
  constructor(gatewayUp: (gateway: string) => boolean = () => true) {
    this.#gatewayUp = gatewayUp;
  }

  async update(
    net: { id: string; gateway: string },
    hosts: string,
    upstream: readonly string[],
  ): Promise<void> {
    if (!this.#gatewayUp(net.gateway))
      throw new UnavailableError(`dnsmasq for ${net.gateway} failed: cannot bind (no such address)`);
    this.servers.set(net.id, { gateway: net.gateway, hosts, upstream });
  }

  stop(networkId: string): void {
    this.servers.delete(networkId);
  }

  known(): string[] {
    return [...this.servers.keys()];
  }
}

/**
 * A NetworkDriver that keeps a model of the kernel in memory: host links (bridges, veth ends, taps) with their
 * masters, sandboxes with their links, addresses, rules by table, chains and sysctls. It reads the `ip` and rule
 * lines core/network/plan.ts writes, fails where the kernel would (a link that exists or is missing, a rule that is
 * not there) and follows the strict/loose contract. A sandbox is also an empty file at its path, as the real
 * driver's bind mount is, so that code that looks for it finds it.
 *
 * Test hooks: `failOn` makes matching steps fail (a broken host), `busyPorts` are ports some host process listens
 * on, `routes` and `resolvConf` are the host's.
 */
export class FakeNetworkDriver implements NetworkDriver {
  readonly hostNetns = '/proc/1/ns/net';
  readonly links = new Map<string, Link>();
  readonly addresses = new Map<string, string[]>(); // host link -> CIDR addresses
  /** sandbox path -> its links (interface name -> addresses). */
  readonly sandboxes = new Map<string, Map<string, string[]>>();
  readonly defaultRoutes = new Map<string, string>(); // sandbox path -> gateway
  readonly rules = { nat: [] as string[], filter: [] as string[] };
  readonly chains = new Set<string>();
  readonly sysctls = new Map<string, string>();
  readonly dns = new FakeDnsServers((gw) =>
    [...this.addresses.values()].flat().some((a) => a.startsWith(`${gw}/`)),
  );
  routes: Subnet[] = [];
  resolvConf = 'nameserver 192.0.2.53\n';
  busyPorts = new Set<string>(); // "hostIp:port/proto"
  failOn: ((step: NetStep) => boolean) | undefined;
  /** Plans applied so far, for tests that look at what was asked. */
  readonly applied: { plan: NetPlan; loose: boolean }[] = [];

  async apply(plan: NetPlan, opts: { loose?: boolean } = {}): Promise<void> {
    const loose = opts.loose ?? false;
    this.applied.push({ plan, loose });
    let made = false;
    for (const s of plan.steps) {
      try {
        if (s.op === 'ip' && s.ns === 'sandbox') {
          const sb = plan.sandbox;
          if (!sb) throw new InternalError('plan has sandbox steps but no sandbox');
          if (sb.create && !made) {
            this.#makeSandbox(sb.path);
            made = true;
          }
          if (!this.sandboxes.has(sb.path)) throw new Error(`nsenter: cannot open ${sb.path}: no such file`);
        }
        if (this.failOn?.(s)) throw new Error(`injected failure: ${JSON.stringify(s)}`);
        this.#step(s, plan.sandbox?.path);
      } catch (err) {
        if (!loose) throw err;
      }
    }
  }

  #makeSandbox(file: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '');
    this.sandboxes.set(file, new Map([['lo', []]]));
  }

  #step(s: NetStep, sandbox: string | undefined): void {
    if (s.op === 'sysctl') {
      if (!(s.raiseOnly && (this.sysctls.get(s.key) ?? '0') !== '0')) this.sysctls.set(s.key, s.value);
    } else if (s.op === 'netns-remove') this.#removeSandbox(s.path);
    else if (s.op === 'rule') this.#rule(s.table, s.line);
    else if (s.ns === 'host') this.#hostIp(s.line.split(' '));
    else this.#sandboxIp(sandbox!, s.line.split(' '));
  }

  #hostIp(w: string[]): void {
    const need = (name: string): Link => {
      const l = this.links.get(name);
      if (!l) throw new Error(`Cannot find device "${name}"`);
      return l;
    };
    const add = (name: string, link: Link) => {
      if (this.links.has(name)) throw new Error(`RTNETLINK answers: File exists (${name})`);
      this.links.set(name, link);
    };
    if (w[0] === 'link' && w[1] === 'add') add(w[3]!, { kind: 'bridge' });
    else if (w[0] === 'tuntap') add(w[3]!, { kind: 'tap' });
    else if (w[0] === 'link' && w[1] === 'del') this.#deleteLink(w[2]!, need(w[2]!));
    else if (w[0] === 'addr') {
      const dev = w[w.indexOf('dev') + 1]!;
      need(dev);
      this.addresses.set(dev, [...(this.addresses.get(dev) ?? []), w[2]!]);
    } else if (w[0] === 'link' && w[1] === 'set') {
      const l = need(w[2]!);
      const m = w.indexOf('master');
      if (m > 0) {
        if (need(w[m + 1]!).kind !== 'bridge') throw new Error(`${w[m + 1]} is not a bridge`);
        l.master = w[m + 1]!;
      }
      if (w[3] === 'type' && !l.master) throw new Error(`${w[2]} is not a bridge port`);
    } else throw new InternalError(`the fake network driver does not know "ip ${w.join(' ')}"`);
  }

  #deleteLink(name: string, link: Link): void {
    this.links.delete(name);
    this.addresses.delete(name);
    if (link.peer) this.sandboxes.get(link.peer[0])?.delete(link.peer[1]);
    if (link.kind === 'bridge') for (const l of this.links.values()) if (l.master === name) delete l.master;
  }

  #sandboxIp(sb: string, w: string[]): void {
    const links = this.sandboxes.get(sb)!;
    const need = (name: string) => {
      const l = links.get(name);
      if (!l) throw new Error(`Cannot find device "${name}" in ${sb}`);
      return l;
    };
    if (w[0] === 'link' && w[1] === 'add') {
      const [ifname, host] = [w[2]!, w[w.indexOf('peer') + 2]!];
      if (links.has(ifname) || this.links.has(host)) throw new Error('RTNETLINK answers: File exists');
      links.set(ifname, []);
      this.links.set(host, { kind: 'veth', peer: [sb, ifname] });
    } else if (w[0] === 'addr') need(w[w.indexOf('dev') + 1]!).push(w[2]!);
    else if (w[0] === 'link' && w[1] === 'set') need(w[2]!);
    else if (w[0] === 'route') {
      need(w[w.indexOf('dev') + 1]!);
      if (this.defaultRoutes.has(sb)) throw new Error('RTNETLINK answers: File exists');
      this.defaultRoutes.set(sb, w[w.indexOf('via') + 1]!);
    } else throw new InternalError(`the fake network driver does not know "ip ${w.join(' ')}" in a sandbox`);
  }

  #removeSandbox(file: string): void {
    // As the kernel does when the namespace goes: its veths go, and their host ends with them.
    for (const [name, l] of this.links) if (l.peer?.[0] === file) this.links.delete(name);
    this.sandboxes.delete(file);
    this.defaultRoutes.delete(file);
    fs.rmSync(file, { force: true });
  }

  #rule(table: 'nat' | 'filter', line: string): void {
    const [verb, chain, ...rest] = line.split(' ');
    if (verb === '-N') {
      if (this.chains.has(`${table}:${chain}`)) throw new Error(`iptables: Chain ${chain} already exists`);
      this.chains.add(`${table}:${chain}`);
      return;
    }
    if (chain?.startsWith('HBX-') && !this.chains.has(`${table}:${chain}`))
      throw new Error(`iptables: Chain '${chain}' does not exist`);
    const rule = `-A ${chain} ${(verb === '-I' && /^\d+$/.test(rest[0] ?? '') ? rest.slice(1) : rest).join(' ')}`;
    const list = this.rules[table];
    if (verb === '-A') list.push(rule);
    else if (verb === '-I') list.unshift(rule);
    else if (verb === '-D') {
      const i = list.indexOf(rule);
      if (i < 0) throw new Error(`iptables: Bad rule (does a matching rule exist in that chain?): ${rule}`);
      list.splice(i, 1);
    } else throw new InternalError(`the fake network driver does not know rule "${line}"`);
  }

  linkExists(name: string): boolean {
    return this.links.has(name);
  }

  hostRoutes(): Subnet[] {
    return [...this.routes];
  }

  async presentChains(): Promise<Set<string>> {
    return new Set(this.chains);
  }

  hostInterfaces(): string[] {
    return [...this.links.keys()].filter((n) => HOST_IF_RE.test(n));
  }

  masterOf(name: string): string | undefined {
    return this.links.get(name)?.master;
  }

  async taggedRules(): Promise<{ table: 'nat' | 'filter'; line: string }[]> {
    return (['nat', 'filter'] as const).flatMap((table) =>
      this.rules[table].filter((l) => /--comment hbx-(net|ep):/.test(l)).map((line) => ({ table, line })),
    );
  }

  async portFree(p: PortRequest): Promise<boolean> {
    return !this.busyPorts.has(`${p.hostIp}:${p.hostPort}/${p.proto}`);
  }

  hostResolvConf(): string {
    return this.resolvConf;
  }

  /** The addresses of a sandbox's interface (CIDR), for tests. */
  sandboxAddresses(file: string, ifname: string): string[] {
    return this.sandboxes.get(file)?.get(ifname) ?? [];
  }

  /** A host route, in CIDR text, as the host would have it. */
  addRoute(cidr: string): void {
    this.routes.push(parseCidr(cidr));
  }
}
