import { FailedPreconditionError, NotFoundError } from '../../core/errors.ts';
import { shortId } from '../../core/image/digest.ts';
import { layerLabel } from '../../core/image/layer-entry.ts';
import type { ImageContext } from './context.ts';
import { asImageId } from './lookup.ts';

/** What the container engine's reads of an image's layers need. */
export type LayersContext = Pick<ImageContext, 'store' | 'files'>;

/**
 * The overlay lower directories of an image, topmost first; layers missing on disk (a crash, a manual clean-up)
 * are unpacked again from their blobs first. Works for images hidden by `remove -f` too.
 */
export async function lowerDirs(ctx: LayersContext, imageId: string): Promise<string[]> {
  const id = asImageId(imageId);
  if (!ctx.store.row(id)) throw new NotFoundError(`No such image: ${imageId}`);
  const { content, layers } = await ctx.files.stores();
  const refs = ctx.store.layersOf(id);
  const diffIds = (await ctx.files.configFile(id)).rootfs.diff_ids;
  for (const [i, r] of refs.entries()) {
    if (await layers.has(r.chainId)) continue;
    const blob = content.path(r.blobDigest);
    if (!(await content.has(r.blobDigest))) {
      throw new FailedPreconditionError(
        `image ${shortId(id)}: layer blob ${r.blobDigest} is missing from the store`,
      );
    }
    await layers.unpack({
      blob,
      parent: refs[i - 1]?.chainId,
      expectedDiffId: diffIds[i]!,
      label: layerLabel(r.blobDigest),
    });
  }
  return refs.map((r) => layers.dir(r.chainId)).reverse();
}

/** A file of the image, read through its layers without a container (whiteouts honoured); undefined if absent. */
export async function readImageFile(
  ctx: LayersContext,
  imageId: string,
  file: string,
): Promise<string | undefined> {
  const dirs = await lowerDirs(ctx, imageId);
  const { layers } = await ctx.files.stores();
  const chains = ctx.store.chainIds(asImageId(imageId)).reverse();
  const views = await Promise.all(
    dirs.map(async (dir, i) => ({ dir, opaque: new Set(await layers.opaqueDirs(chains[i]!)) })),
  );
  const { readFileFromLayers } = await import('../../drivers/layers/read-file.ts');
  return (await readFileFromLayers(views, file))?.toString('utf8');
}
