import type { Digest } from '../../core/image/digest.ts';
import { type ImageFilters, matchesFilters } from '../../core/image/list-filter.ts';
import { familiarName } from '../../core/image/reference.ts';
import type { ImageDetails, ImageSummary } from '../api/images.ts';
import type { ImageContext } from './context.ts';
import { findImage, resolveImage } from './lookup.ts';

/** What `images` and `image inspect` need: reads only. */
export type ListingContext = Pick<ImageContext, 'store' | 'files' | 'refs'>;

/** The visible images, the most recently stored first, with their names and how many containers use each. */
export async function listImages(
  ctx: ListingContext,
  opts: { all?: boolean; filters?: ImageFilters } = {},
): Promise<ImageSummary[]> {
  const { store } = ctx;
  const rows = store.visibleRows();
  const tags = store.tagsById();
  const counts = ctx.refs.containerCountsByImage();
  const f = opts.filters ?? {};
  const createdOf = (id: Digest) => store.row(id)?.created ?? 0;
  const bounds: { before?: number; since?: number } = {};
  if (f.before !== undefined) bounds.before = createdOf((await resolveImage(ctx, f.before)).id);
  if (f.since !== undefined) bounds.since = createdOf((await resolveImage(ctx, f.since)).id);
  const needLabels = (f.label?.length ?? 0) > 0;
  const out: ImageSummary[] = [];
  for (const r of rows) {
    const names = tags.get(r.id) ?? [];
    const labels = needLabels ? ((await ctx.files.configFile(r.id)).config?.Labels ?? {}) : {};
    if (!matchesFilters({ names, labels, created: r.created ?? 0 }, f, bounds)) continue;
    out.push({
      id: r.id,
      repoTags: names.map((n) => familiarName(n)),
      repoDigests: store.repoDigestsOf(r.id).map((n) => familiarName(n)),
      created: r.created ?? 0,
      size: r.size,
      containers: counts.get(r.id) ?? 0,
    });
  }
  return out;
}

/** The record of the image a reference names: names, config, size and unpacked layers. */
export async function imageDetails(
  ctx: Pick<ImageContext, 'store' | 'files'>,
  ref: string,
): Promise<ImageDetails> {
  const { store } = ctx;
  const r = findImage(store, ref);
  const row = store.row(r.id)!;
  const config = await ctx.files.configFile(r.id);
  const { layers } = await ctx.files.stores();
  return {
    id: r.id,
    names: store.tagsOf(r.id),
    repoDigests: store.repoDigestsOf(r.id).map((n) => familiarName(n)),
    config,
    size: row.size,
    lowerDirs: store
      .chainIds(r.id)
      .map((c) => layers.dir(c))
      .reverse(),
  };
}
