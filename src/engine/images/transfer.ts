import type { Digest } from '../../core/image/digest.ts';
import type { Platform } from '../../core/image/oci.ts';
import type { ContentStore, LayerStore, StagedBlob } from '../../core/image/stores.ts';
import type { Layout } from '../../core/paths.ts';
import type { RegistryClient } from '../../drivers/registry/registry-client.ts';
import type { RegistryCredentials } from '../api/images.ts';
import { commitImages, dropUnreferencedLayers } from './commit.ts';
import type { ImageContext } from './context.ts';
import { findImage } from './lookup.ts';
import type { RegistryConnectors } from './registries.ts';

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

/** What a transfer port is made of. */
export type TransferContext = Pick<
  ImageContext,
  'store' | 'files' | 'platform' | 'now' | 'record' | 'tmpDir'
> & {
  layout: Layout;
  registries: RegistryConnectors;
};

/** The port pull and push work through, for one transfer with its own credentials and TLS choice. */
export async function openTransfer(
  ctx: TransferContext,
  opts: { credentials?: RegistryCredentials; tlsVerify?: boolean },
): Promise<TransferStore> {
  const { credentials } = opts;
  const { store } = ctx;
  const { content, layers } = await ctx.files.stores();
  const connector = await ctx.registries.get(opts.tlsVerify === false ? 'unverified' : 'configured');
  const options = ctx.registries.options;
  return {
    content,
    layers,
    platform: ctx.platform,
    maxConcurrentDownloads: options.maxConcurrentDownloads ?? 3,
    chunkSize: options.chunkSize ?? 16 * 1024 * 1024,
    registry: (name) =>
      credentials ? Promise.resolve(connector.clientWith(name, credentials)) : connector.client(name),
    layerSize: (chainId) => store.layerSize(chainId),
    imageExists: (id) => store.row(id)?.removed === 0,
    commit: (image) => void commitImages({ store, layers, now: ctx.now }, [image]),
    dropUnreferencedLayers: (chains) => dropUnreferencedLayers({ store, layers }, chains),
    sweep: async () => {
      const { sweepCrashLeftovers } = await import('./sweep.ts');
      await sweepCrashLeftovers({
        layout: ctx.layout,
        layers,
        isKnownChain: (c) => store.layerSize(c) !== undefined,
      });
    },
    record: (action, actorId, attributes) => ctx.record(action, actorId, attributes),
    findForPush: (ref) => {
      const { id } = findImage(store, ref);
      return { id, manifestDigest: store.row(id)!.manifest_digest, repoDigests: store.repoDigestsOf(id) };
    },
    addRepoDigest: (name, id) => store.transaction(() => store.setRepoDigest(name, id)),
    tmpDir: () => ctx.tmpDir(),
  };
}
