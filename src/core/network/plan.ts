import { contains, parseCidr, parseIPv4, type Subnet } from './ip.ts';
import type { PortBinding } from './ports.ts';
import type { EndpointRecord, NetworkRecord } from './types.ts';

/**
 * Network plans: what to do to the kernel, as data. The driver carries a plan out in order, batching consecutive
 * steps of one kind into one process (`ip -batch -`, `iptables-restore --noflush`); tests and --dry-run print it.
 *
 * Vocabulary: `host` steps run in the host's network namespace; `sandbox` steps in the container's (the plan's
 * `sandbox.path`, a bind-mounted nsfs file, created first when `sandbox.create`).
 */
export type NetStep =
  | { readonly op: 'ip'; readonly ns: 'host' | 'sandbox'; readonly line: string }
  | { readonly op: 'rule'; readonly table: 'nat' | 'filter'; readonly line: string }
  /** Write a sysctl under /proc/sys; `raiseOnly`: only when it is 0 (host-global knobs such as ip_forward). */
  | { readonly op: 'sysctl'; readonly key: string; readonly value: string; readonly raiseOnly?: boolean }
  | { readonly op: 'netns-remove'; readonly path: string };

export interface NetPlan {
  readonly sandbox?: { readonly path: string; readonly create: boolean };
  readonly steps: readonly NetStep[];
}

/** Our chains. HBX-USER is the user's: created empty, jumped to first from FORWARD, never flushed by us. */
export const CHAINS = {
  user: 'HBX-USER',
  forward: 'HBX-FORWARD',
  ports: 'HBX-PORTS',
  postrouting: 'HBX-POSTROUTING',
} as const;

/** Comments that tag each rule with what it belongs to, so reconcile can find the rules of vanished objects. */
export const netTag = (networkId: string): string => `hbx-net:${networkId.slice(0, 12)}`;
export const epTag = (endpointId: string): string => `hbx-ep:${endpointId.slice(0, 12)}`;

/** The chains and jumps, added once per host boot; `present` lists the HBX chains that exist already. */
export function baseRulesPlan(present: ReadonlySet<string>): NetPlan {
  const steps: NetStep[] = [];
  const nat = (line: string): void => void steps.push({ op: 'rule', table: 'nat', line });
  const filter = (line: string): void => void steps.push({ op: 'rule', table: 'filter', line });
  if (!present.has(`nat:${CHAINS.ports}`)) {
    nat(`-N ${CHAINS.ports}`);
    nat(`-A PREROUTING -m addrtype --dst-type LOCAL -j ${CHAINS.ports}`);
    nat(`-A OUTPUT -m addrtype --dst-type LOCAL -j ${CHAINS.ports}`);
  }
  if (!present.has(`nat:${CHAINS.postrouting}`)) {
    nat(`-N ${CHAINS.postrouting}`);
    nat(`-A POSTROUTING -j ${CHAINS.postrouting}`);
  }
  if (!present.has(`filter:${CHAINS.forward}`)) {
    filter(`-N ${CHAINS.forward}`);
    filter(`-I FORWARD 1 -j ${CHAINS.forward}`);
  }
  if (!present.has(`filter:${CHAINS.user}`)) {
    filter(`-N ${CHAINS.user}`);
    filter(`-I FORWARD 1 -j ${CHAINS.user}`);
  }
  return { steps };
}

function networkRules(n: NetworkRecord): { table: 'nat' | 'filter'; spec: string }[] {
  const tag = `-m comment --comment ${netTag(n.id)}`;
  const br = n.bridge;
  if (n.internal) {
    return [
      { table: 'filter', spec: `${CHAINS.forward} -i ${br} ! -o ${br} ${tag} -j DROP` },
      { table: 'filter', spec: `${CHAINS.forward} -o ${br} ! -i ${br} ${tag} -j DROP` },
      { table: 'nat', spec: `${CHAINS.postrouting} -s 127.0.0.0/8 -o ${br} ${tag} -j MASQUERADE` },
    ];
  }
  return [
    { table: 'filter', spec: `${CHAINS.forward} -i ${br} ${tag} -j ACCEPT` },
    { table: 'filter', spec: `${CHAINS.forward} -o ${br} ${tag} -j ACCEPT` },
    { table: 'nat', spec: `${CHAINS.postrouting} -s ${n.subnet} ! -o ${br} ${tag} -j MASQUERADE` },
    { table: 'nat', spec: `${CHAINS.postrouting} -s 127.0.0.0/8 -o ${br} ${tag} -j MASQUERADE` },
  ];
}

/** Brings a network's bridge up: device, gateway address, sysctls, forwarding and NAT rules. */
export function bridgeUpPlan(n: NetworkRecord): NetPlan {
  const prefix = parseCidr(n.subnet).prefix;
  const steps: NetStep[] = [
    { op: 'ip', ns: 'host', line: `link add name ${n.bridge} type bridge` },
    { op: 'ip', ns: 'host', line: `link set ${n.bridge} mtu ${n.mtu}` },
    { op: 'ip', ns: 'host', line: `addr add ${n.gateway}/${prefix} brd + dev ${n.bridge}` },
    { op: 'ip', ns: 'host', line: `link set ${n.bridge} up` },
    // Published ports reached at 127.0.0.1: DNAT in OUTPUT keeps the 127.x source, which the bridge must route.
    { op: 'sysctl', key: `net/ipv4/conf/${n.bridge}/route_localnet`, value: '1' },
  ];
  if (!n.internal) steps.push({ op: 'sysctl', key: 'net/ipv4/ip_forward', value: '1', raiseOnly: true });
  for (const r of networkRules(n)) steps.push({ op: 'rule', table: r.table, line: `-A ${r.spec}` });
  return { steps };
}

/** Removes a network's bridge and rules (idempotent in the driver: missing objects are not errors). */
export function bridgeDownPlan(n: NetworkRecord): NetPlan {
  return {
    steps: [
      ...networkRules(n).map((r): NetStep => ({ op: 'rule', table: r.table, line: `-D ${r.spec}` })),
      { op: 'ip', ns: 'host', line: `link del ${n.bridge}` },
    ],
  };
}

function portRules(e: EndpointRecord): { table: 'nat'; spec: string }[] {
  const tag = `-m comment --comment ${epTag(e.id)}`;
  return e.ports.flatMap((p: PortBinding) => {
    const dst = p.hostIp === '0.0.0.0' ? '' : `-d ${p.hostIp}/32 `;
    const match = `-p ${p.proto} -m ${p.proto}`;
    return [
      {
        table: 'nat' as const,
        spec: `${CHAINS.ports} ${dst}${match} --dport ${p.hostPort} ${tag} -j DNAT --to-destination ${e.address}:${p.containerPort}`,
      },
      // Hairpin: the container reaching its own published port comes back through the bridge port it left by;
      // without a new source its reply would skip the reverse NAT.
      {
        table: 'nat' as const,
        spec: `${CHAINS.postrouting} -s ${e.address}/32 -d ${e.address}/32 ${match} --dport ${p.containerPort} ${tag} -j MASQUERADE`,
      },
    ];
  });
}

export interface AttachInput {
  readonly network: NetworkRecord;
  readonly endpoint: EndpointRecord;
  readonly sandboxPath: string;
  /** True for the first attachment: the sandbox is created, `lo` brought up. */
  readonly createSandbox: boolean;
  /** Whether this network gives the sandbox its default route (the first non-internal one). */
  readonly defaultRoute: boolean;
  /** How sandbox-side `ip` names the host's namespace: a pid or an nsfs path such as /proc/<pid>/ns/net. */
  readonly hostNetns: string;
}

/** Attach: veth made inside the sandbox with its peer in the host, addressed and routed; then enslaved; then DNAT. */
export function attachPlan(a: AttachInput): NetPlan {
  const { network: n, endpoint: e } = a;
  const prefix = parseCidr(n.subnet).prefix;
  const steps: NetStep[] = [
    {
      op: 'ip',
      ns: 'sandbox',
      line: `link add ${e.ifname} address ${e.mac} mtu ${n.mtu} type veth peer name ${e.hostIf} netns ${a.hostNetns}`,
    },
  ];
  if (a.createSandbox) steps.push({ op: 'ip', ns: 'sandbox', line: 'link set lo up' });
  steps.push(
    { op: 'ip', ns: 'sandbox', line: `addr add ${e.address}/${prefix} brd + dev ${e.ifname}` },
    { op: 'ip', ns: 'sandbox', line: `link set ${e.ifname} up` },
  );
  if (a.defaultRoute && !n.internal) {
    steps.push({ op: 'ip', ns: 'sandbox', line: `route add default via ${n.gateway} dev ${e.ifname}` });
  }
  steps.push(
    { op: 'ip', ns: 'host', line: `link set ${e.hostIf} master ${n.bridge} mtu ${n.mtu} up` },
    // Frames may leave by the port they came in on: a container reaching itself through a published port.
    { op: 'ip', ns: 'host', line: `link set ${e.hostIf} type bridge_slave hairpin on` },
  );
  for (const r of portRules(e)) steps.push({ op: 'rule', table: r.table, line: `-A ${r.spec}` });
  return { sandbox: { path: a.sandboxPath, create: a.createSandbox }, steps };
}

/** Detach: DNAT rules, the veth (its peer goes with it); the sandbox file when this was its last endpoint. */
export function detachPlan(e: EndpointRecord, opts: { removeSandbox?: string } = {}): NetPlan {
  const steps: NetStep[] = portRules(e).map((r) => ({ op: 'rule', table: r.table, line: `-D ${r.spec}` }));
  steps.push({ op: 'ip', ns: 'host', line: `link del ${e.hostIf}` });
  if (opts.removeSandbox) steps.push({ op: 'netns-remove', path: opts.removeSandbox });
  return { steps };
}

/** A plan as text, for --dry-run and tests. */
export function renderPlan(plan: NetPlan): string {
  const out: string[] = [];
  if (plan.sandbox) out.push(`# sandbox ${plan.sandbox.path}${plan.sandbox.create ? ' (create)' : ''}`);
  for (const s of plan.steps) {
    if (s.op === 'ip') out.push(`ip[${s.ns}] ${s.line}`);
    else if (s.op === 'rule') out.push(`iptables -t ${s.table} ${s.line}`);
    else if (s.op === 'sysctl')
      out.push(`sysctl ${s.key.replaceAll('/', '.')}=${s.value}${s.raiseOnly ? ' (if 0)' : ''}`);
    else out.push(`netns-remove ${s.path}`);
  }
  return out.join('\n');
}

/** The host interface name of an endpoint: hbx + 8 hex, stable for (owner, network). */
export function hostIfName(hash: string): string {
  return `hbx${hash.slice(0, 8)}`;
}

/** The tap of a VM's NIC: hbxt + 8 hex, told apart from containers' veths at a glance. */
export function tapIfName(hash: string): string {
  return `hbxt${hash.slice(0, 8)}`;
}

/** Our host-side links: containers' veth ends and VMs' taps. */
export const HOST_IF_RE = /^hbxt?[0-9a-f]{8}$/;

/**
 * A VM's attachment: a persistent tap in the host's namespace (QEMU opens it by name with script=no), enslaved to
 * the bridge; then the same DNAT rules as a container's. Detach is `detachPlan`: deleting the tap is enough.
 */
export function tapAttachPlan(n: NetworkRecord, e: EndpointRecord): NetPlan {
  const steps: NetStep[] = [
    { op: 'ip', ns: 'host', line: `tuntap add dev ${e.hostIf} mode tap` },
    { op: 'ip', ns: 'host', line: `link set ${e.hostIf} master ${n.bridge} mtu ${n.mtu} up` },
  ];
  for (const r of portRules(e)) steps.push({ op: 'rule', table: r.table, line: `-A ${r.spec}` });
  return { steps };
}

/**
 * Orders merged plan steps so each kind runs once (one process per kind): rule deletions, sandbox links, host
 * links, sysctls, rule additions, namespace removals. Steps of one kind keep their order.
 */
export function sortSteps(steps: readonly NetStep[]): NetStep[] {
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

/**
 * Whether a tagged rule belongs to this state root: it names one of our bridges, or DNATs into one of our subnets.
 * (Other roots on the host tag their rules the same way.)
 */
export function ruleIsOurs(line: string, bridges: ReadonlySet<string>, subnets: readonly Subnet[]): boolean {
  const dev = /(?:^|\s)-[io] (\S+)/.exec(line)?.[1];
  if (dev && bridges.has(dev)) return true;
  const to = /(?:--to-destination|-s) (\d+\.\d+\.\d+\.\d+)/.exec(line)?.[1];
  return to !== undefined && subnets.some((s) => contains(s, parseIPv4(to)));
}
