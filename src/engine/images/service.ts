import fsp from 'node:fs/promises';
import type { ArchiveFormat } from '../../core/image/archive-save.ts';
import type { Digest } from '../../core/image/digest.ts';
import type { ImageFilters } from '../../core/image/list-filter.ts';
import type { Platform } from '../../core/image/oci.ts';
import { hostPlatform } from '../../core/image/platform.ts';
import { familiarName } from '../../core/image/reference.ts';
import type { ContentStore, LayerStore } from '../../core/image/stores.ts';
import type { Layout } from '../../core/paths.ts';
import type { Database } from '../../drivers/store/database.ts';
import type {
  DeleteItem,
  ImageDetails,
  ImageEngine,
  ImageSummary,
  ImportOptions,
  PullOptions,
  PullResult,
  PushOptions,
  PushResult,
  ResolvedImage,
} from '../api/images.ts';
import type { EventLog } from '../events/service.ts';
import type { References } from '../references.ts';
import { loadArchive, saveArchive } from './archives.ts';
import type { ImageContext } from './context.ts';
import { ImageFiles } from './files.ts';
import { importRootfs } from './import.ts';
import { lowerDirs, readImageFile } from './layers.ts';
import { imageDetails, listImages } from './listing.ts';
import { findImage, resolveImage, tagName } from './lookup.ts';
import { RegistryConnectors, type RegistryOptions } from './registries.ts';
import { collectGarbage, pruneImages, removeImage } from './removal.ts';
import { ImageStore } from './store.ts';
import { openTransfer } from './transfer.ts';

export type { RegistryOptions };

/**
 * The local image store: names → manifests → config + layer blobs (content store) → unpacked layers (layer store),
 * with the relations in the metadata database (store.ts). Files are written first, out of sight (staging,
 * temporary directories); an image becomes visible only when its blobs are committed and its rows inserted in one
 * transaction (commit.ts). Deletion happens inside a transaction too (removal.ts), so a concurrent load never links
 * to a blob that a concurrent delete is removing.
 *
 * An image a container uses is never deleted from disk: `remove -f` by id hides it (removed = 1) until the last
 * such container is gone and `gc()` (or the next remove/prune) reclaims it.
 */
export interface ImageServiceOptions {
  layout: Layout;
  db: Database;
  events: EventLog;
  /** Which containers use an image: an image in use is not removed or pruned. */
  references: References;
  content?: ContentStore;
  layers?: LayerStore;
  platform?: Platform;
  now?: () => Date;
  registry?: RegistryOptions;
}

/** The image service: each operation is a part of its own (import.ts, archives.ts, ...) given a narrow context. */
export class ImageService implements ImageEngine {
  readonly #ctx: ImageContext;
  readonly #layout: Layout;
  readonly #registries: RegistryConnectors;

  constructor(opts: ImageServiceOptions) {
    this.#layout = opts.layout;
    this.#registries = new RegistryConnectors(opts.registry);
    const store = new ImageStore(opts.db);
    const layout = opts.layout;
    this.#ctx = {
      store,
      files: new ImageFiles({
        layout,
        store,
        ...(opts.content ? { content: opts.content } : {}),
        ...(opts.layers ? { layers: opts.layers } : {}),
      }),
      space: opts.db.space,
      refs: opts.references,
      record: (action, actorId, attributes) => opts.events.record('image', action, actorId, attributes),
      platform: opts.platform ?? hostPlatform(),
      now: opts.now ?? (() => new Date()),
      tmpDir: async () => {
        await fsp.mkdir(layout.tmp, { recursive: true, mode: 0o700 });
        return layout.tmp;
      },
    };
  }

  // ---------------------------------------------------------------- import, load, save

  importRootfs(source: string, ref: string | undefined, opts: ImportOptions): Promise<{ id: Digest }> {
    return importRootfs(this.#ctx, source, ref, opts);
  }

  /** Loads a docker-archive or OCI archive; returns familiar names, or the id of an untagged image. */
  load(input: string | NodeJS.ReadableStream): Promise<string[]> {
    return loadArchive(this.#ctx, input);
  }

  save(
    refs: string[],
    output: string | NodeJS.WritableStream,
    opts: { format: ArchiveFormat },
  ): Promise<void> {
    return saveArchive(this.#ctx, refs, output, opts);
  }

  // ---------------------------------------------------------------- registries (pull.ts, push.ts)

  async pull(ref: string, opts: PullOptions = {}): Promise<PullResult> {
    this.#ctx.space.requireRoom(`cannot pull ${ref}`);
    const { pullImage } = await import('./pull.ts');
    return pullImage(await this.#transfer(opts), ref, opts);
  }

  async push(ref: string, opts: PushOptions = {}): Promise<PushResult> {
    const { pushImage } = await import('./push.ts');
    return pushImage(await this.#transfer(opts), ref, opts);
  }

  #transfer(opts: PullOptions | PushOptions) {
    return openTransfer({ ...this.#ctx, layout: this.#layout, registries: this.#registries }, opts);
  }

  // ---------------------------------------------------------------- queries

  list(opts: { all?: boolean; filters?: ImageFilters } = {}): Promise<ImageSummary[]> {
    return listImages(this.#ctx, opts);
  }

  inspect(ref: string): Promise<ImageDetails> {
    return imageDetails(this.#ctx, ref);
  }

  /**
   * Finds an image by name, by `name@sha256:<manifest digest>`, by id, or by a unique id prefix (lookup.ts). A
   * full id also finds an image hidden by `remove -f`: the containers that still use it start from its config.
   */
  resolve(ref: string): Promise<ResolvedImage> {
    return resolveImage(this.#ctx, ref);
  }

  // ---------------------------------------------------------------- for the container engine

  /** The overlay lower directories of an image, topmost first (missing layers unpacked again first). */
  lowerDirs(imageId: string): Promise<string[]> {
    return lowerDirs(this.#ctx, imageId);
  }

  /** A file of the image, read through its layers without a container (whiteouts honoured); undefined if absent. */
  readFile(imageId: string, file: string): Promise<string | undefined> {
    return readImageFile(this.#ctx, imageId, file);
  }

  // ---------------------------------------------------------------- tag, remove, prune

  async tag(source: string, target: string): Promise<void> {
    const { store } = this.#ctx;
    const { id } = findImage(store, source);
    const name = tagName(target);
    this.#ctx.space.requireRoom(`cannot tag ${target}`);
    store.transaction(() => store.setTag(name, id));
    this.#ctx.record('tag', id, { name: familiarName(name) });
  }

  remove(ref: string, opts: { force: boolean }): Promise<DeleteItem[]> {
    return removeImage(this.#ctx, ref, opts);
  }

  /** Removes dangling images (untagged, unused), or with `all` every image no container uses. */
  prune(opts: { all: boolean }): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }> {
    return pruneImages(this.#ctx, opts);
  }

  /** Reclaims images hidden by `remove -f` once no container uses them; the container engine calls it after rm. */
  gc(): Promise<{ deleted: Digest[]; spaceReclaimed: number }> {
    return collectGarbage(this.#ctx);
  }
}
