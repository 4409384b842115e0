import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { Readable } from 'node:stream';
import { InvalidArgumentError, NotFoundError } from '../../core/errors.ts';
import { applyChanges } from '../../core/image/changes.ts';
import { goTime, serializeConfig } from '../../core/image/config-json.ts';
import type { Digest } from '../../core/image/digest.ts';
import { layerLabel } from '../../core/image/layer-entry.ts';
import { type ImageConfigFile, type ImageManifest, MEDIA_TYPE } from '../../core/image/oci.ts';
import { familiarName } from '../../core/image/reference.ts';
import type { StagedBlob } from '../../core/image/stores.ts';
import type { ImportOptions } from '../api/images.ts';
import { commitImages, dropUnreferencedLayers, type PreparedImage } from './commit.ts';
import type { ImageContext } from './context.ts';
import { tagName } from './lookup.ts';

/** What `import` needs: the store and files, the space policy, the events, the platform and the clock. */
export type ImportContext = Pick<ImageContext, 'store' | 'files' | 'space' | 'record' | 'platform' | 'now'>;

/**
 * `import`: a root file system (a tar, possibly compressed, a directory, or standard input) becomes a one-layer
 * image made here, with a config of the host's platform and the `--change` instructions applied.
 */
export async function importRootfs(
  ctx: ImportContext,
  source: string,
  ref: string | undefined,
  opts: ImportOptions,
): Promise<{ id: Digest }> {
  const name = ref === undefined ? undefined : tagName(ref);
  const baseConfig = applyChanges({}, opts.changes); // refuse bad changes before reading anything
  ctx.space.requireRoom(`cannot import ${ref ?? source}`);
  const { content, layers } = await ctx.files.stores();
  const input = await importSource(source, opts.stdin);
  const layerBlob = await content.stage(input);
  const created: Digest[] = [];
  const blobs: StagedBlob[] = [layerBlob];
  try {
    const unpacked = await layers.unpack({
      blob: layerBlob.file,
      parent: undefined,
      label: layerLabel(layerBlob.digest),
    });
    if (unpacked.created) created.push(unpacked.chainId);
    const now = goTime(ctx.now());
    const comment = opts.message ?? `Imported from ${source}`;
    const config: ImageConfigFile = {
      created: now,
      architecture: ctx.platform.architecture,
      os: ctx.platform.os,
      config: baseConfig,
      rootfs: { type: 'layers', diff_ids: [unpacked.diffId] },
      history: [{ created: now, comment }],
    };
    const configBytes = serializeConfig(config);
    const configBlob = await content.stage(Readable.from([configBytes]));
    blobs.push(configBlob);
    const head = await readHead(layerBlob.file);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociManifest,
      config: { mediaType: MEDIA_TYPE.ociConfig, digest: configBlob.digest, size: configBlob.size },
      layers: [{ mediaType: layerMediaType(head), digest: layerBlob.digest, size: layerBlob.size }],
    };
    const manifestBlob = await content.stage(Readable.from([Buffer.from(JSON.stringify(manifest))]));
    blobs.push(manifestBlob);
    const prepared: PreparedImage = {
      id: configBlob.digest,
      manifestDigest: manifestBlob.digest,
      created: Math.floor(Date.parse(now) / 1000),
      size: unpacked.size,
      layers: [
        {
          chainId: unpacked.chainId,
          diffId: unpacked.diffId,
          blobDigest: layerBlob.digest,
          size: unpacked.size,
        },
      ],
      names: name === undefined ? [] : [name],
      blobs,
    };
    commitImages({ store: ctx.store, layers, now: ctx.now }, [prepared]);
    ctx.record('import', prepared.id, {
      name: name === undefined ? prepared.id : familiarName(name),
    });
    return { id: prepared.id };
  } catch (err) {
    await Promise.all(blobs.map((b) => b.discard()));
    await dropUnreferencedLayers({ store: ctx.store, layers }, created);
    throw err;
  }
}

async function importSource(source: string, stdin: NodeJS.ReadableStream | undefined): Promise<Readable> {
  if (source === '-') {
    if (!stdin) throw new InvalidArgumentError('import from "-" needs standard input');
    return Readable.from(stdin as AsyncIterable<Buffer>);
  }
  let st: fs.Stats;
  try {
    st = await fsp.stat(source);
  } catch (err) {
    throw new NotFoundError(`import source ${JSON.stringify(source)} does not exist`, { cause: err });
  }
  if (st.isDirectory()) {
    const { packDirectory } = await import('../../drivers/layers/pack-dir.ts');
    return packDirectory(source);
  }
  return fs.createReadStream(source);
}

async function readHead(file: string): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function layerMediaType(head: Uint8Array): string {
  if (head[0] === 0x1f && head[1] === 0x8b) return MEDIA_TYPE.ociLayerGzip;
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd)
    return MEDIA_TYPE.ociLayerZstd;
  return MEDIA_TYPE.ociLayer;
}
