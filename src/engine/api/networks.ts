import type { PortBinding, PortRequest } from '../../core/network/ports.ts';
import type { EndpointRecord, NetworkRecord, NetworkReport, OwnerKind } from '../../core/network/types.ts';
import type { Awaitable } from './awaitable.ts';

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

export interface NetworkEngine {
  create(opts: NetworkCreateOptions): Awaitable<NetworkRecord>;
  list(): Awaitable<NetworkReport[]>;
  inspect(ref: string): Awaitable<NetworkReport>;
  remove(ref: string): Promise<void>;
  /** Removes unused networks; returns their names. */
  prune(): Promise<string[]>;
  /** Attaches a running container (its record's id and name) to one more network. */
  connect(
    ref: string,
    owner: { id: string; name: string },
    att?: Omit<NetworkAttachment, 'network'>,
  ): Promise<unknown>;
  disconnect(ref: string, ownerId: string): Promise<void>;
  /** Published ports of a container. */
  ports(ownerId: string): Awaitable<PortBinding[]>;
}
