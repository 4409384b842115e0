import type { Platform } from '../../core/image/oci.ts';
import type { SpaceKeeper } from '../../drivers/store/space-keeper.ts';
import type { References } from '../references.ts';
import type { ImageFiles } from './files.ts';
import type { ImageStore } from './store.ts';

/**
 * What the parts of the image service share. Each part takes only the members it names (`Pick<ImageContext, ...>`),
 * never the service, so that a part can be tested alone and no part imports the service.
 */
export interface ImageContext {
  store: ImageStore;
  files: ImageFiles;
  /** The state root's space policy: adding asks `requireRoom`, removing ends with `settle`. */
  space: SpaceKeeper;
  /** Which containers use an image: an image in use is not removed or pruned. */
  refs: References;
  /** An image event (`pull`, `delete`, `untag`...) for `hyperbox events`. */
  record: (action: string, actorId: string, attributes: Record<string, string>) => void;
  platform: Platform;
  now: () => Date;
  /** The state root's temporary directory, created on first use. */
  tmpDir: () => Promise<string>;
}
