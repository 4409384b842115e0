import fs from 'node:fs';
import { ConflictError } from '../../core/errors.ts';
import { type Digest, shortId } from '../../core/image/digest.ts';
import { familiarName } from '../../core/image/reference.ts';
import type { ContentStore, LayerStore } from '../../core/image/stores.ts';
import type { DeleteItem } from '../api/images.ts';
import type { ImageContext } from './context.ts';
import { findImage } from './lookup.ts';
import type { ImageStore } from './store.ts';

/** What `rmi`, `image prune` and the collection of hidden images need. */
export type RemovalContext = Pick<ImageContext, 'store' | 'files' | 'refs' | 'space' | 'record'>;

/** Callbacks that empty, after the transaction, the layer directories it renamed away. */
type Reclaim = Array<() => Promise<void>>;

/**
 * `rmi`, docker's rules: a name of an image with other names, or of one a container uses (with `force`), is only
 * untagged; otherwise the image goes with all its names, refused while a container uses it or another repository
 * names it unless forced. An image a container uses is never deleted from disk: `force` hides it (removed = 1)
 * until the last such container is gone.
 */
export async function removeImage(
  ctx: RemovalContext,
  ref: string,
  opts: { force: boolean },
): Promise<DeleteItem[]> {
  const { content, layers } = await ctx.files.stores();
  const { store } = ctx;
  const found = findImage(store, ref);
  const items: DeleteItem[] = [];
  const reclaim: Reclaim = [];
  store.transaction(() => {
    const tags = store.tagsOf(found.id);
    const users = ctx.refs.containersOfImage(found.id);
    if (found.byName && !found.ref.includes('@')) {
      if (tags.length > 1 || (users.length > 0 && opts.force)) {
        store.deleteTag(found.ref);
        items.push({ Untagged: familiarName(found.ref) });
        return;
      }
      if (users.length > 0) {
        throw new ConflictError(
          `unable to remove repository reference "${ref}" (must force) - container ${shortId(users[0]!)} is using its referenced image ${shortId(found.id)}`,
        );
      }
    } else {
      if (users.length > 0 && !opts.force) {
        throw new ConflictError(
          `conflict: unable to delete ${shortId(found.id)} (must be forced) - image is being used by stopped container ${shortId(users[0]!)}`,
        );
      }
      if (tags.length > 1 && !opts.force) {
        throw new ConflictError(
          `conflict: unable to delete ${shortId(found.id)} (must be forced) - image is referenced in multiple repositories`,
        );
      }
    }
    for (const t of tags) items.push({ Untagged: familiarName(t) });
    if (found.byName && found.ref.includes('@')) items.unshift({ Untagged: familiarName(found.ref) });
    store.deleteTagsOf(found.id);
    if (users.length > 0) {
      store.setHidden(found.id, true);
    } else {
      reclaim.push(...deleteImage(store, found.id, content, layers).reclaim);
    }
    items.push({ Deleted: found.id });
    reclaim.push(...collectHidden(ctx, content, layers).reclaim);
  });
  for (const r of reclaim) await r();
  ctx.space.settle();
  for (const item of items) {
    if ('Untagged' in item) ctx.record('untag', found.id, { name: item.Untagged });
    else ctx.record('delete', item.Deleted, { name: item.Deleted });
  }
  return items;
}

/** Removes dangling images (untagged, unused), or with `all` every image no container uses. */
export async function pruneImages(
  ctx: RemovalContext,
  opts: { all: boolean },
): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }> {
  const { content, layers } = await ctx.files.stores();
  const { store } = ctx;
  const deleted: DeleteItem[] = [];
  let spaceReclaimed = 0;
  const reclaim: Reclaim = [];
  store.transaction(() => {
    const used = ctx.refs.containerCountsByImage();
    for (const id of store.pruneCandidates(opts.all).filter((c) => !used.has(c))) {
      for (const t of store.tagsOf(id)) deleted.push({ Untagged: familiarName(t) });
      store.deleteTagsOf(id);
      const r = deleteImage(store, id, content, layers);
      spaceReclaimed += r.bytes;
      reclaim.push(...r.reclaim);
      deleted.push({ Deleted: id });
    }
    const hidden = collectHidden(ctx, content, layers);
    spaceReclaimed += hidden.bytes;
    reclaim.push(...hidden.reclaim);
    deleted.push(...hidden.deleted.map((id) => ({ Deleted: id })));
  });
  for (const r of reclaim) await r();
  ctx.space.settle();
  for (const item of deleted) if ('Deleted' in item) ctx.record('delete', item.Deleted, {});
  ctx.record('prune', '', { reclaimed: String(spaceReclaimed) });
  return { deleted, spaceReclaimed };
}

/** Reclaims images hidden by `remove -f` once no container uses them; the container engine calls it after rm. */
export async function collectGarbage(
  ctx: Pick<ImageContext, 'store' | 'files' | 'refs'>,
): Promise<{ deleted: Digest[]; spaceReclaimed: number }> {
  // The common case, nothing hidden: one cheap read, no write lock, no store set-up.
  if (!ctx.store.anyHidden()) return { deleted: [], spaceReclaimed: 0 };
  const { content, layers } = await ctx.files.stores();
  let result = { deleted: [] as Digest[], bytes: 0, reclaim: [] as Reclaim };
  ctx.store.transaction(() => {
    result = collectHidden(ctx, content, layers);
  });
  for (const r of result.reclaim) await r();
  return { deleted: result.deleted, spaceReclaimed: result.bytes };
}

/** Inside the caller's transaction: deletes the hidden images no container uses any more. */
function collectHidden(
  ctx: Pick<ImageContext, 'store' | 'refs'>,
  content: ContentStore,
  layers: LayerStore,
): { deleted: Digest[]; bytes: number; reclaim: Reclaim } {
  const used = ctx.refs.containerCountsByImage();
  const out = { deleted: [] as Digest[], bytes: 0, reclaim: [] as Reclaim };
  for (const id of ctx.store.hiddenIds().filter((h) => !used.has(h))) {
    const r = deleteImage(ctx.store, id, content, layers);
    out.deleted.push(id);
    out.bytes += r.bytes;
    out.reclaim.push(...r.reclaim);
  }
  return out;
}

/**
 * Deletes an image's rows, then the blobs and unpacked layers no remaining image refers to. Runs inside the
 * caller's transaction; layer directories vanish by rename at once and are emptied by `reclaim` afterwards.
 */
function deleteImage(
  store: ImageStore,
  id: Digest,
  content: ContentStore,
  layers: LayerStore,
): { bytes: number; reclaim: Reclaim } {
  const row = store.row(id);
  if (!row) return { bytes: 0, reclaim: [] };
  const layerRefs = store.layersOf(id);
  store.delete(id);
  let bytes = 0;
  for (const blob of new Set([id, row.manifest_digest, ...layerRefs.map((l) => l.blobDigest)])) {
    if (store.blobInUse(blob)) continue;
    try {
      bytes += fs.statSync(content.path(blob)).size;
    } catch {
      // already gone
    }
    content.delete(blob);
  }
  const reclaim: Reclaim = [];
  for (const chain of new Set(layerRefs.map((l) => l.chainId))) {
    if (store.chainInUse(chain)) continue;
    bytes += store.layerSize(chain) ?? 0;
    store.deleteLayer(chain);
    reclaim.push(layers.remove(chain));
  }
  return { bytes, reclaim };
}
