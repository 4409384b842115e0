import type { Subnet } from '../../core/network/ip.ts';
import type { NetPlan } from '../../core/network/plan.ts';
import type { PortRequest } from '../../core/network/ports.ts';

/**
 * The edge that carries out network plans (core/network/plan.ts) and answers the few questions the engine needs
 * about the host. Everything it touches is named by the plan; it decides nothing about addresses or rules.
 *
 * Lifecycle of a sandbox: `apply` of an attach plan with `sandbox.create` makes the nsfs file (a persistent network
 * namespace bind-mounted at the given path, outside /run/netns), later plans reuse it, a detach plan with
 * `netns-remove` unmounts and deletes it.
 */
export interface NetworkDriver {
  /** How `ip` running inside a sandbox names the host's namespace (netns argument of `link add ... peer`). */
  readonly hostNetns: string;
  /** Carries a plan out in order; stops at the first failure (strict) or goes on past missing objects (loose). */
  apply(plan: NetPlan, opts?: { loose?: boolean }): Promise<void>;
  linkExists(name: string): boolean;
  /** The host's IPv4 routes (for picking subnets that clash with nothing). */
  hostRoutes(): Subnet[];
  /** "table:chain" for every HBX-* chain present. */
  presentChains(): Promise<Set<string>>;
  /** Host interfaces named hbx + 8 hex (our veth ends) or hbxt + 8 hex (VM taps). */
  hostInterfaces(): string[];
  /** The bridge a host interface is enslaved to, if any. */
  masterOf(name: string): string | undefined;
  /** Every rule line (iptables-save form, with its table) carrying an hbx-* comment tag. */
  taggedRules(): Promise<{ table: 'nat' | 'filter'; line: string }[]>;
  /** Whether a host socket for this port can be bound right now (nobody listens on it). */
  portFree(p: PortRequest): Promise<boolean>;
  /** The host's resolv.conf text. */
  hostResolvConf(): string;
  readonly dns: DnsServers;
}

/** One DNS server per user-defined network, bound to its gateway, answering from a hosts file. */
export interface DnsServers {
  /** Writes the hosts file, starts the server when it is not running, else makes it re-read the file. */
  update(net: { id: string; gateway: string }, hosts: string, upstream: readonly string[]): Promise<void>;
  stop(networkId: string): void;
  /** Ids of networks whose server has a pid file (running or not). */
  known(): string[];
}
