import fs from 'node:fs';
import { UnavailableError } from '../../core/errors.ts';
import type { Digest } from '../../core/image/digest.ts';
import type { LayerStore, StagedBlob } from '../../core/image/stores.ts';
import type { ImageStore, NewImageRows } from './store.ts';

/** A fully prepared image: files staged or unpacked, rows not yet written. */
export interface PreparedImage extends Omit<NewImageRows, 'createdAt'> {
  names: string[]; // normalised tags to point at the image
  repoDigests?: string[]; // `repository@sha256:...` for images that came from a registry
  blobs: StagedBlob[]; // staged, committed with the rows
}

/**
 * Makes prepared images visible: blobs renamed into place and rows inserted under one write lock. Returns the
 * staged blobs it committed. A layer that vanished since it was unpacked (a concurrent delete) fails the commit.
 * An image stored already keeps its rows (one hidden by `rmi -f` shows again) and gets the new names.
 */
export function commitImages(
  ctx: { store: ImageStore; layers: LayerStore; now: () => Date },
  prepared: PreparedImage[],
): Set<StagedBlob> {
  const committed = new Set<StagedBlob>();
  const { store } = ctx;
  store.transaction(() => {
    for (const p of prepared) {
      const existing = store.row(p.id);
      if (existing === undefined) {
        for (const b of p.blobs) {
          b.commit();
          committed.add(b);
        }
        for (const l of p.layers) {
          if (!fs.existsSync(ctx.layers.dir(l.chainId))) {
            throw new UnavailableError(
              `layer ${l.chainId} was removed while the image was stored: try again`,
            );
          }
        }
        store.insert({
          id: p.id,
          manifestDigest: p.manifestDigest,
          createdAt: ctx.now().getTime(),
          size: p.size,
          created: p.created,
          layers: p.layers,
        });
      } else if (existing.removed) {
        store.setHidden(p.id, false);
      }
      for (const name of p.names) store.setTag(name, p.id);
      for (const name of p.repoDigests ?? []) store.setRepoDigest(name, p.id);
    }
  });
  return committed;
}

/** After a failed import, load or pull: layer directories the call created that no image row refers to. */
export async function dropUnreferencedLayers(
  ctx: { store: ImageStore; layers: LayerStore },
  chains: Digest[],
): Promise<void> {
  if (chains.length === 0) return;
  const reclaim: Array<() => Promise<void>> = [];
  ctx.store.transaction(() => {
    for (const c of chains) if (!ctx.store.chainInUse(c)) reclaim.push(ctx.layers.remove(c));
  });
  for (const r of reclaim) await r();
}
