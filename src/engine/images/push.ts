import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { InvalidArgumentError } from '../../core/errors.ts';
import { shortId } from '../../core/image/digest.ts';
import * as j from '../../core/image/json-check.ts';
import { type Descriptor, type ImageManifest, MEDIA_TYPE } from '../../core/image/oci.ts';
import { familiarName, parseReference, type Reference } from '../../core/image/reference.ts';
import { parseManifest } from '../../core/image/validate.ts';
import type { ProgressEvent } from '../../core/registry/progress.ts';
import { HashingStream } from '../../drivers/layers/hashing.ts';
import { type BlobSource, fileSource } from '../../drivers/registry/blob-source.ts';
import type { RegistryClient } from '../../drivers/registry/registry-client.ts';
import type { PushOptions, PushResult } from '../api/images.ts';
import type { TransferStore } from './transfer.ts';

/** Layers kept uncompressed (`import`, docker-archive loads) travel gzip'ed, as docker pushes them. */
const GZIP_OF: Record<string, string> = {
  [MEDIA_TYPE.ociLayer]: MEDIA_TYPE.ociLayerGzip,
  [MEDIA_TYPE.dockerLayer]: MEDIA_TYPE.dockerLayerGzip,
};

/**
 * Pushes an image under `ref` (a tag): each blob is skipped when the repository has it, mounted when the image
 * came from another repository of the same registry, uploaded otherwise (monolithic or chunked by size); then the
 * manifest. The manifest pushed is the stored one, unless layers of a locally made image had to be compressed on
 * the way: then it is the same manifest with the compressed layers' descriptors, naming exactly the blobs uploaded.
 */
export async function pushImage(
  store: TransferStore,
  input: string,
  opts: PushOptions = {},
): Promise<PushResult> {
  const parsed = parseReference(input);
  if (parsed.digest !== undefined) {
    throw new InvalidArgumentError(`cannot push a digest reference (${input}): push a tag`);
  }
  const ref: Reference = { domain: parsed.domain, path: parsed.path, tag: parsed.tag ?? 'latest' };
  const progress = opts.onProgress ?? (() => {});
  const found = store.findForPush(input);
  const storedBytes = await store.content.read(found.manifestDigest);
  const manifest = parseManifest(j.parseJson(storedBytes, 'manifest'), `manifest ${found.manifestDigest}`);
  const client = await store.registry(ref.domain);
  const mountFrom = found.repoDigests
    .map((r) => parseReference(r))
    .filter((r) => r.domain === ref.domain && r.path !== ref.path)
    .map((r) => r.path)[0];
  const scratch = await fsp.mkdtemp(path.join(await store.tmpDir(), `pull-${process.pid}-push-`));
  try {
    for (const d of manifest.layers) progress({ id: shortId(d.digest), status: 'Preparing' });
    // An image that came from a registry goes back exactly as it came (its digest stays valid, its blobs can be
    // mounted); one made here (import, load, commit) has its plain layers gzip'ed, as docker would.
    const compress = found.repoDigests.length === 0;
    const sources = await Promise.all(manifest.layers.map((d) => layerSource(store, d, scratch, compress)));
    const pushed: ImageManifest = {
      ...manifest,
      layers: sources.map((s) => s.descriptor),
    };
    const changed = sources.some((s, i) => s.descriptor.digest !== manifest.layers[i]!.digest);
    const limit = Math.max(1, store.maxConcurrentDownloads);
    const jobs = sources.map(
      (s) => () => pushBlob(store, client, ref.path, s.source, { mountFrom, progress, show: true }),
    );
    await runLimited(jobs, limit);
    const config = fileSource(
      store.content.path(manifest.config.digest),
      manifest.config.digest,
      manifest.config.size,
    );
    await pushBlob(store, client, ref.path, config, { mountFrom, progress, show: false });
    const bytes = changed ? Buffer.from(JSON.stringify(pushed)) : storedBytes;
    const mediaType = manifest.mediaType ?? MEDIA_TYPE.ociManifest;
    const digest = await client.putManifest(ref.path, ref.tag!, bytes, mediaType);
    store.addRepoDigest(`${ref.domain}/${ref.path}@${digest}`, found.id);
    store.record('push', familiarName(ref), { name: familiarName({ domain: ref.domain, path: ref.path }) });
    return { digest, size: bytes.length };
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}

async function layerSource(
  store: TransferStore,
  d: Descriptor,
  scratch: string,
  compress: boolean,
): Promise<{ descriptor: Descriptor; source: BlobSource }> {
  const file = store.content.path(d.digest);
  const gz = compress ? GZIP_OF[d.mediaType] : undefined;
  if (gz === undefined) return { descriptor: d, source: fileSource(file, d.digest, d.size) };
  const target = path.join(scratch, shortId(d.digest));
  const hashing = new HashingStream();
  await pipeline(
    fs.createReadStream(file),
    zlib.createGzip(),
    hashing,
    fs.createWriteStream(target, { flags: 'wx' }),
  );
  const digest = hashing.digest();
  const { platform: _p, ...rest } = d;
  const descriptor: Descriptor = { ...rest, mediaType: gz, digest, size: hashing.bytes };
  return { descriptor, source: fileSource(target, digest, hashing.bytes) };
}

async function pushBlob(
  store: TransferStore,
  client: RegistryClient,
  repo: string,
  blob: BlobSource,
  opts: { mountFrom: string | undefined; progress: (e: ProgressEvent) => void; show: boolean },
): Promise<void> {
  const id = shortId(blob.digest);
  const say = (e: Omit<ProgressEvent, 'id'>) => opts.show && opts.progress({ id, ...e });
  if ((await client.blobSize(repo, blob.digest, ['pull', 'push'])) !== undefined) {
    say({ status: 'Layer already exists' });
    return;
  }
  if (opts.mountFrom !== undefined && (await client.mountBlob(repo, blob.digest, opts.mountFrom))) {
    say({ status: `Mounted from ${opts.mountFrom}` });
    return;
  }
  say({ status: 'Pushing', current: 0, total: blob.size });
  await client.uploadBlob(repo, blob, {
    chunkSize: store.chunkSize,
    onProgress: (sent) => say({ status: 'Pushing', current: sent, total: blob.size }),
  });
  say({ status: 'Pushed' });
}

async function runLimited(jobs: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}
