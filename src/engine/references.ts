import { shortId } from '../core/ids.ts';
import { DEFAULT_NETWORK } from '../core/network/types.ts';
import type { ContainerRecord } from './api/containers.ts';
import type { VmRecord } from './api/vms.ts';

/**
 * Who uses a thing another domain owns: the one answer to "is this image, volume, network or base image in use",
 * for removals, prune, filters and counts. The domain that owns the thing asks here instead of reading the users'
 * tables; the users' domains (containers, VMs, and builds later) are read through their records. Called inside the
 * owner's transaction, the answer and the removal it allows are one atomic step (one SQLite connection).
 */
export interface References {
  /** Ids of the containers made from the image (`sha256:...`), oldest first. */
  containersOfImage(imageId: string): string[];
  /** How many containers each image has, by image id; an image with none is absent. */
  containerCountsByImage(): ReadonlyMap<string, number>;
  /** Ids of the containers whose mounts name the volume, oldest first. */
  containersOfVolume(name: string): string[];
  /**
   * Who is configured on the network, running or not (docker refuses `network rm` while any is): each as
   * `container web (3f2a1b7c9d0e)` or `vm db (0a1b2c3d4e5f)`.
   */
  usersOfNetwork(n: { id: string; name: string; isDefault: boolean }): string[];
  /** The VMs made from the base image, as `vm NAME`. */
  vmsOfBaseImage(name: string): string[];
}

export interface ReferenceSources {
  /** Every container record, in creation order. */
  containers: () => readonly ContainerRecord[];
  /** Every VM record, in creation order. */
  vms: () => readonly VmRecord[];
  /** The id of the network a configuration names (by name, id or id prefix); undefined when none matches. */
  networkIdOf: (ref: string) => string | undefined;
}

export function recordReferences(src: ReferenceSources): References {
  const oldestFirst = <T extends { createdAt: number }>(rows: readonly T[]): T[] =>
    [...rows].sort((a, b) => a.createdAt - b.createdAt);
  const names = (refs: readonly string[], n: { id: string; name: string; isDefault: boolean }): boolean =>
    refs.some((ref) => {
      if (ref === n.name || ref === n.id) return true;
      if (ref === DEFAULT_NETWORK) return n.isDefault;
      return src.networkIdOf(ref) === n.id;
    });
  return {
    containersOfImage: (imageId) =>
      oldestFirst(src.containers())
        .filter((c) => c.imageId === imageId)
        .map((c) => c.id),
    containerCountsByImage: () => {
      const counts = new Map<string, number>();
      for (const c of src.containers()) counts.set(c.imageId, (counts.get(c.imageId) ?? 0) + 1);
      return counts;
    },
    containersOfVolume: (name) =>
      oldestFirst(src.containers())
        .filter((c) => c.config.mounts.some((m) => m.type === 'volume' && m.source === name))
        .map((c) => c.id),
    usersOfNetwork: (n) => [
      ...oldestFirst(src.containers())
        .filter((c) => c.config.networkMode === 'bridge')
        .filter((c) =>
          names(c.config.networks?.length ? c.config.networks.map((a) => a.network) : [DEFAULT_NETWORK], n),
        )
        .map((c) => `container ${c.name} (${shortId(c.id)})`),
      ...oldestFirst(src.vms())
        .filter((v) =>
          names(
            v.config.networks.map((a) => a.network),
            n,
          ),
        )
        .map((v) => `vm ${v.name} (${shortId(v.id)})`),
    ],
    vmsOfBaseImage: (name) =>
      oldestFirst(src.vms())
        .filter((v) => v.config.boot.kind === 'image' && v.config.boot.image === name)
        .map((v) => `vm ${v.name}`),
  };
}

/** Nothing uses anything: for a domain tested alone, with no containers or VMs around it. */
export const NO_USERS: References = recordReferences({
  containers: () => [],
  vms: () => [],
  networkIdOf: () => undefined,
});
