import { NotFoundError } from '../../core/errors.ts';
import type { Digest } from '../../core/image/digest.ts';
import type { ImageConfigFile, ImageManifest } from '../../core/image/oci.ts';
import type { ContentStore, LayerStore } from '../../core/image/stores.ts';
import { parseConfigFile, parseManifest } from '../../core/image/validate.ts';
import type { Layout } from '../../core/paths.ts';
import type { ImageStore } from './store.ts';

/**
 * The files of images: the content store (blobs: configs, manifests, compressed layers) and the layer store
 * (unpacked layers), and an image's config and manifest read from them. The drivers load lazily: `images` and
 * `inspect` need neither tar-stream nor zlib.
 */
export class ImageFiles {
  readonly #layout: Layout;
  readonly #store: ImageStore;
  #content: ContentStore | undefined;
  #layers: LayerStore | undefined;

  constructor(opts: { layout: Layout; store: ImageStore; content?: ContentStore; layers?: LayerStore }) {
    this.#layout = opts.layout;
    this.#store = opts.store;
    this.#content = opts.content;
    this.#layers = opts.layers;
  }

  async stores(): Promise<{ content: ContentStore; layers: LayerStore }> {
    if (!this.#content) {
      const { FileContentStore } = await import('../../drivers/content/file-content-store.ts');
      this.#content = new FileContentStore({ layout: this.#layout });
    }
    if (!this.#layers) {
      const { FileLayerStore } = await import('../../drivers/layers/file-layer-store.ts');
      this.#layers = new FileLayerStore({ layout: this.#layout });
    }
    return { content: this.#content, layers: this.#layers };
  }

  async configFile(id: Digest): Promise<ImageConfigFile> {
    const { content } = await this.stores();
    return parseConfigFile(JSON.parse((await content.read(id)).toString('utf8')), `image config ${id}`);
  }

  async manifest(id: Digest): Promise<ImageManifest> {
    const row = this.#store.row(id);
    if (!row) throw new NotFoundError(`No such image: ${id}`);
    const { content } = await this.stores();
    return parseManifest(JSON.parse((await content.read(row.manifest_digest)).toString('utf8')));
  }
}
