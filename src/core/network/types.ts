import type { PortBinding } from './ports.ts';

/** The default network every container joins unless told otherwise (docker's `bridge`). */
export const DEFAULT_NETWORK = 'bridge';
export const DEFAULT_BRIDGE_DEVICE = 'hbx0';
export const DEFAULT_SUBNET = '172.17.0.0/16';
export const DEFAULT_MTU = 1500;

/** A network as stored: a Linux bridge with an IPv4 subnet. Addresses are dotted quads, subnets CIDR text. */
export interface NetworkRecord {
  readonly id: string; // 64 hex
  readonly name: string;
  readonly created: number; // ms since epoch
  readonly driver: 'bridge';
  readonly subnet: string;
  readonly gateway: string;
  readonly ipRange: string | undefined;
  readonly internal: boolean;
  readonly bridge: string; // the Linux bridge device
  readonly mtu: number;
  readonly options: Record<string, string>;
  readonly labels: Record<string, string>;
  /** The default `bridge` network: no DNS for container names, as docker's. */
  readonly isDefault: boolean;
}

export type OwnerKind = 'container' | 'vm';

/**
 * One attachment of a container (or, later, a VM's tap) to a network: the lease it holds, the link that carries it
 * and the ports published through it. Vocabulary: the *sandbox* is the container's network namespace; the *host
 * interface* is the veth end (or tap) in the host's namespace, enslaved to the network's bridge.
 */
export interface EndpointRecord {
  readonly id: string; // 64 hex
  readonly networkId: string;
  readonly ownerId: string;
  readonly kind: OwnerKind;
  readonly ownerName: string;
  readonly aliases: readonly string[];
  readonly address: string;
  readonly mac: string;
  readonly hostIf: string; // hbx + 8 hex
  readonly ifname: string; // eth0, eth1, ...
  readonly ports: readonly PortBinding[];
  readonly created: number;
}

/** A network with the endpoints on it now: what `network ls` and `network inspect` show, in the engine's words. */
export interface NetworkReport extends NetworkRecord {
  readonly endpoints: readonly EndpointRecord[];
}
