import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { InvalidArgumentError } from '../../core/errors.ts';
import { interpretArchive } from '../../core/image/archive-load.ts';
import {
  type ArchiveFormat,
  ociLayerDescriptor,
  planArchive,
  type SaveImage,
} from '../../core/image/archive-save.ts';
import { chainIds, type Digest, hexOf } from '../../core/image/digest.ts';
import { layerLabel } from '../../core/image/layer-entry.ts';
import { MEDIA_TYPE } from '../../core/image/oci.ts';
import { familiarName } from '../../core/image/reference.ts';
import type { StagedBlob } from '../../core/image/stores.ts';
import { commitImages, dropUnreferencedLayers, type PreparedImage } from './commit.ts';
import type { ImageContext } from './context.ts';
import { findImage } from './lookup.ts';

/** What `load` and `save` need. */
export type ArchiveContext = Pick<
  ImageContext,
  'store' | 'files' | 'space' | 'record' | 'platform' | 'now' | 'tmpDir'
>;

/**
 * Loads a docker-archive or OCI archive: layers unpacked (or, unpacked already, checked against their diff ids),
 * then every image of it committed at once. Returns familiar names, or the id of an untagged image.
 */
export async function loadArchive(
  ctx: ArchiveContext,
  input: string | NodeJS.ReadableStream,
): Promise<string[]> {
  ctx.space.requireRoom('cannot load images');
  const { content, layers } = await ctx.files.stores();
  const { StagedArchive } = await import('../../drivers/content/archive-reader.ts');
  const stream =
    typeof input === 'string' ? fs.createReadStream(input) : Readable.from(input as AsyncIterable<Buffer>);
  const archive = await StagedArchive.read(stream, content);
  const created: Digest[] = [];
  const extra: StagedBlob[] = [];
  const committed = new Set<StagedBlob>();
  try {
    const images = await interpretArchive(archive, ctx.platform);
    const prepared: PreparedImage[] = [];
    for (const image of images) {
      const diffIds = image.layers.map((l) => l.diffId);
      const chains = chainIds(diffIds);
      const preparedLayers: PreparedImage['layers'] = [];
      for (const [i, l] of image.layers.entries()) {
        const staged = archive.staged(l.member)!;
        const label = layerLabel(l.descriptor.digest);
        let size: number;
        if (await layers.has(chains[i]!)) {
          size = await checkDiffId(staged.file, l.diffId, label);
        } else {
          const u = await layers.unpack({
            blob: staged.file,
            parent: chains[i - 1],
            expectedDiffId: l.diffId,
            label,
          });
          if (u.created) created.push(u.chainId);
          size = u.size;
        }
        preparedLayers.push({ chainId: chains[i]!, diffId: l.diffId, blobDigest: staged.digest, size });
      }
      const manifestBlob =
        archive.staged(`blobs/sha256/${hexOf(image.manifestDigest)}`) ??
        (await content.stage(Readable.from([image.manifestBytes])));
      const blobs = [
        archive.staged(image.configMember)!,
        ...image.layers.map((l) => archive.staged(l.member)!),
      ];
      if (!blobs.includes(manifestBlob)) blobs.push(manifestBlob);
      if (!archive.has(`blobs/sha256/${hexOf(image.manifestDigest)}`)) extra.push(manifestBlob);
      const createdAt =
        image.config.created === undefined ? null : Math.floor(Date.parse(image.config.created) / 1000);
      prepared.push({
        id: image.manifest.config.digest,
        manifestDigest: manifestBlob.digest,
        created: createdAt,
        size: preparedLayers.reduce((a, l) => a + l.size, 0),
        layers: preparedLayers,
        names: image.names,
        blobs,
      });
    }
    for (const c of commitImages({ store: ctx.store, layers, now: ctx.now }, prepared)) committed.add(c);
    const out: string[] = [];
    for (const p of prepared) {
      const shown = p.names.length > 0 ? p.names.map((n) => familiarName(n)) : [p.id];
      for (const s of shown) ctx.record('load', p.id, { name: s });
      out.push(...shown);
    }
    return out;
  } catch (err) {
    await dropUnreferencedLayers({ store: ctx.store, layers }, created);
    throw err;
  } finally {
    await archive.discard(committed);
    for (const b of extra) if (!committed.has(b)) await b.discard();
  }
}

async function checkDiffId(blob: string, want: Digest, label: string): Promise<number> {
  const { diffIdOf } = await import('../../drivers/layers/diff-id.ts');
  const { diffId, size } = await diffIdOf(blob);
  if (diffId !== want) {
    throw new InvalidArgumentError(
      `layer ${label}: content does not match its diff id (config says ${want}, content is ${diffId})`,
    );
  }
  return size;
}

/** Writes the images as a docker-archive or an OCI archive; a file appears only once complete. */
export async function saveArchive(
  ctx: ArchiveContext,

  refs: string[],
  output: string | NodeJS.WritableStream,
  opts: { format: ArchiveFormat },
): Promise<void> {
  if (refs.length === 0) throw new InvalidArgumentError('save needs at least one image');
  const { content } = await ctx.files.stores();
  const byId = new Map<Digest, string[]>();
  for (const ref of refs) {
    const r = findImage(ctx.store, ref);
    const names = byId.get(r.id) ?? [];
    if (r.ref !== r.id && !r.ref.includes('@') && !names.includes(r.ref)) names.push(r.ref);
    byId.set(r.id, names);
  }
  const scratch = await fsp.mkdtemp(path.join(await ctx.tmpDir(), 'save-'));
  try {
    const images: SaveImage[] = [];
    for (const [id, names] of byId) {
      const manifest = await ctx.files.manifest(id);
      const layers = [];
      for (const d of manifest.layers) {
        const file = content.path(d.digest);
        const plain = d.mediaType === MEDIA_TYPE.ociLayer || d.mediaType === MEDIA_TYPE.dockerLayer;
        if (opts.format === 'oci-archive' || plain) {
          layers.push({ descriptor: ociLayerDescriptor(d), file });
        } else {
          const { decompressTo } = await import('../../drivers/layers/diff-id.ts');
          const target = path.join(scratch, hexOf(d.digest));
          const { diffId, size } = await decompressTo(file, target);
          layers.push({
            descriptor: { mediaType: MEDIA_TYPE.ociLayer, digest: diffId, size },
            file: target,
          });
        }
      }
      images.push({ id, names, configFile: content.path(id), configSize: manifest.config.size, layers });
    }
    const members = planArchive(images, opts.format);
    const { writeArchive } = await import('../../drivers/content/archive-writer.ts');
    if (typeof output === 'string') {
      const tmp = `${output}.tmp-${process.pid}`;
      try {
        await writeArchive(members, fs.createWriteStream(tmp, { flags: 'w', mode: 0o644 }));
        await fsp.rename(tmp, output);
      } catch (err) {
        await fsp.rm(tmp, { force: true });
        throw err;
      }
    } else {
      await writeArchive(members, output as Writable);
    }
    for (const [id, names] of byId) {
      for (const n of names.length ? names : [id]) {
        ctx.record('save', id, { name: n === id ? id : familiarName(n) });
      }
    }
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}
