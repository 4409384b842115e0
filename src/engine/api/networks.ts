import type { PortBinding } from '../../core/network/ports.ts';
import type { NetworkInspect } from '../../core/network/types.ts';
import type { NetworkAttachment, NetworkCreateOptions } from '../networks.ts';
import type { Awaitable } from './awaitable.ts';

export interface NetworkEngine {
  create(opts: NetworkCreateOptions): Awaitable<NetworkInspect>;
  list(): Awaitable<NetworkInspect[]>;
  inspect(ref: string): Awaitable<NetworkInspect>;
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
