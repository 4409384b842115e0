import type { Subnet } from '../../core/network/ip.ts';
import type { NetPlan } from '../../core/network/plan.ts';
import type { PortRequest } from '../../core/network/ports.ts';

/**
 * The edge that carries out network plans (core/network/plan.ts) and answers the few questions the engine needs
 * about the host. Everything it touches is named by the plan; it decides nothing about addresses, names or rules.
 *
 * Vocabulary:
 * - a *sandbox* is a network namespace kept alive by a bind mount on a file (under `<run root>/netns/`, not
 *   /run/netns): a container joins it through its OCI spec, the engine names it by path;
 * - a *host interface* is an endpoint's link in the host's namespace: a veth end (`hbx` + 8 hex) whose peer is in a
 *   sandbox, or a VM's tap (`hbxt` + 8 hex); either is enslaved to its network's *bridge*;
 * - a *tagged rule* is an iptables rule carrying a comment `hbx-net:<id>` or `hbx-ep:<id>`: how reconcile finds the
 *   rules of networks and endpoints that are gone.
 *
 * Lifecycle of a sandbox: `apply` of a plan whose `sandbox.create` is set makes the file and the namespace (before its
 * first sandbox step); later plans name the same path with `create` unset and run their sandbox steps in it; a
 * `netns-remove` step unmounts and deletes the file, and the namespace goes with its links (their host ends too).
 *
 * `apply` runs the steps in order, each kind batched into as few processes as it can. Strict (the default): it
 * stops at the first step that fails and throws; what ran before it stays (the engine undoes it with a loose plan).
 * Loose: a step that fails (most often: its object is already gone) is skipped and the rest still run; nothing is
 * thrown. Loose plans are how removal and clean-up stay idempotent.
 *
 * The questions (`linkExists`, `hostInterfaces`, `masterOf`, `presentChains`, `taggedRules`) read the host as it is
 * now: a plan applied before is seen at once. `dns` keeps one DNS server per user network.
 */
export interface NetworkDriver {
  /** How `ip` running inside a sandbox names the host's namespace (netns argument of `link add ... peer`). */
  readonly hostNetns: string;
  /** Carries a plan out in order; stops at the first failure (strict) or goes on past missing objects (loose). */
  apply(plan: NetPlan, opts?: { loose?: boolean }): Promise<void>;
  /** Whether a link of that name exists in the host's namespace (a bridge: whether it must be brought up). */
  linkExists(name: string): boolean;
  /** The host's IPv4 routes (for picking subnets that clash with nothing). */
  hostRoutes(): Subnet[];
  /** "table:chain" for every HBX-* chain present. */
  presentChains(): Promise<Set<string>>;
  /** Host interfaces named hbx + 8 hex (our veth ends) or hbxt + 8 hex (VM taps). */
  hostInterfaces(): string[];
  /** The bridge a host interface is enslaved to, if any. */
  masterOf(name: string): string | undefined;
  /** Every rule line (iptables-save form, `-A CHAIN ...`, with its table) carrying an hbx-* comment tag. */
  taggedRules(): Promise<{ table: 'nat' | 'filter'; line: string }[]>;
  /** Whether a host socket for this port can be bound right now (nobody listens on it). */
  portFree(p: PortRequest): Promise<boolean>;
  /** The host's resolv.conf text. */
  hostResolvConf(): string;
  readonly dns: DnsServers;
}

/**
 * One DNS server per user-defined network, bound to its gateway, answering from a hosts file and forwarding other
 * names upstream. The gateway address must be on the host (the network's bridge up) before `update`.
 */
export interface DnsServers {
  /** Writes the hosts file, starts the server when it is not running, else makes it re-read the file. */
  update(net: { id: string; gateway: string }, hosts: string, upstream: readonly string[]): Promise<void>;
  /** Stops the server and forgets its files; nothing happens when there is none. */
  stop(networkId: string): void;
  /** Ids of networks whose server has a pid file (running or not). */
  known(): string[];
}
