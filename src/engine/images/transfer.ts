import type { Digest } from '../../core/image/digest.ts';
import type { Platform } from '../../core/image/oci.ts';
import type { ContentStore, LayerStore, StagedBlob } from '../../core/image/stores.ts';
import type { RegistryClient } from '../../drivers/registry/registry-client.ts';

/**
 * What pull and push need from the image service: a narrow port, so that pull.ts and push.ts never
 * reach into the service's tables and a pulled image is committed on exactly the path `load` uses.
 */
export interface StagedImage {
  id: Digest; // the config digest
  manifestDigest: Digest; // the stored (platform) manifest
  created: number | null;
  size: number;
  layers: Array<{ chainId: Digest; diffId: Digest; blobDigest: Digest; size: number }>;
  names: string[]; // normalised tags to point at the image
  repoDigests: string[]; // `docker.io/library/busybox@sha256:...`
  blobs: StagedBlob[]; // staged, committed with the rows
}

export interface TransferStore {
  content: ContentStore;
  layers: LayerStore;
  platform: Platform;
  maxConcurrentDownloads: number;
  registry(name: string): Promise<RegistryClient>;
  /** Unpacked size of a layer the metadata knows, undefined if it knows none. */
  layerSize(chainId: Digest): number | undefined;
  imageExists(id: Digest): boolean;
  /** Makes the image visible (blobs renamed, rows inserted, tags set) in one transaction. */
  commit(image: StagedImage): void;
  dropUnreferencedLayers(chains: Digest[]): Promise<void>;
  /** Removes what crashed pulls left behind (ingest files, unpack directories). */
  sweep(): Promise<void>;
  record(action: 'pull' | 'push', actorId: string, attributes: Record<string, string>): void;
  /** For push: the image a reference names, with its stored manifest and the repositories it came from. */
  findForPush(ref: string): { id: Digest; manifestDigest: Digest; repoDigests: string[] };
  addRepoDigest(name: string, id: Digest): void;
  tmpDir(): Promise<string>;
  chunkSize: number;
}
