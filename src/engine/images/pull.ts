import fsp from 'node:fs/promises';
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { HyperboxError, InvalidArgumentError, NotFoundError } from '../../core/errors.ts';
import { chainIds, type Digest, shortId } from '../../core/image/digest.ts';
import * as j from '../../core/image/json-check.ts';
import { layerLabel } from '../../core/image/layer-entry.ts';
import { type Descriptor, INDEX_MEDIA_TYPES, type Platform } from '../../core/image/oci.ts';
import { checkRunnableOs } from '../../core/image/platform.ts';
import {
  familiarName,
  familiarRepository,
  formatReference,
  parseReference,
  type Reference,
} from '../../core/image/reference.ts';
import type { StagedBlob } from '../../core/image/stores.ts';
import { parseConfigFile, parseIndex, parseManifest } from '../../core/image/validate.ts';
import { formatPlatform, parsePlatformSpec, selectManifest } from '../../core/registry/platform-select.ts';
import type { ProgressEvent } from '../../core/registry/progress.ts';
import { isTransientError } from '../../core/registry/retry.ts';
import type { RegistryClient } from '../../drivers/registry/registry-client.ts';
import type { PullOptions, PullResult } from '../api/images.ts';
import type { StagedImage, TransferStore } from './transfer.ts';

const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
const LAYER_ATTEMPTS = 3;
const PROGRESS_INTERVAL_MS = 100;

/**
 * Pulls an image: resolves the reference (an index or manifest list picks the platform), downloads the config
 * and the missing layers, N at a time, each in one streaming pass (HTTP body → content-store ingest, verified
 * against digest and size, and at the same time → decompression → unpacking, verified against the config's diff
 * id), then commits everything in one transaction. Until then nothing is visible; on failure the staged blobs
 * are dropped and so are the layer directories this pull created that no image uses.
 */
export async function pullImage(
  store: TransferStore,
  input: string,
  opts: PullOptions = {},
): Promise<PullResult> {
  const parsed = parseReference(input);
  if (opts.allTags) {
    if (parsed.tag !== undefined || parsed.digest !== undefined) {
      throw new InvalidArgumentError("tag can't be used with --all-tags/-a");
    }
    const client = await store.registry(parsed.domain);
    const tags = await client.listTags(parsed.path);
    if (tags.length === 0) throw new NotFoundError(`repository ${familiarRepository(parsed)} has no tags`);
    let last: PullResult | undefined;
    for (const tag of tags) last = await pullOne(store, { ...parsed, tag }, opts);
    return last!;
  }
  const ref: Reference =
    parsed.digest !== undefined
      ? { domain: parsed.domain, path: parsed.path, digest: parsed.digest }
      : { domain: parsed.domain, path: parsed.path, tag: parsed.tag ?? 'latest' };
  return pullOne(store, ref, opts);
}

async function pullOne(store: TransferStore, ref: Reference, opts: PullOptions): Promise<PullResult> {
  await store.sweep();
  const progress = opts.onProgress ?? (() => {});
  const want: Platform = opts.platform ? parsePlatformSpec(opts.platform) : store.platform;
  // Before the registry is asked anything: an image for another OS could never run here.
  checkRunnableOs(want.os, store.platform);
  const client = await store.registry(ref.domain);
  const repo = ref.path;
  const top = await client.getManifest(repo, ref.digest ?? ref.tag!, opts.signal);
  let manifestBytes = top.bytes;
  let manifestDigest = top.digest;
  if (INDEX_MEDIA_TYPES.includes(top.mediaType)) {
    const index = parseIndex(j.parseJson(top.bytes, 'index'), `index ${top.digest}`);
    const chosen = selectManifest(index, want);
    const child = await client.getManifest(repo, chosen.digest, opts.signal);
    if (child.bytes.length !== chosen.size) {
      throw new InvalidArgumentError(
        `manifest ${chosen.digest}: size mismatch: index says ${chosen.size} bytes, got ${child.bytes.length}`,
      );
    }
    if (INDEX_MEDIA_TYPES.includes(child.mediaType)) {
      throw new InvalidArgumentError(`manifest ${chosen.digest}: nested indexes are not supported`);
    }
    manifestBytes = child.bytes;
    manifestDigest = child.digest;
  }
  const manifest = parseManifest(j.parseJson(manifestBytes, 'manifest'), `manifest ${manifestDigest}`);
  const staged: StagedBlob[] = [];
  const created: Digest[] = [];
  try {
    const id = manifest.config.digest;
    // An image we have (pulled under another name, loaded, or this tag again) needs no blob from the registry.
    const known = store.imageExists(id) && (await store.content.has(id));
    let configBytes: Buffer;
    if (known) configBytes = await store.content.read(id);
    else {
      const configBlob = await fetchConfig(store, client, repo, manifest.config, opts.signal);
      staged.push(configBlob);
      configBytes = await fsp.readFile(configBlob.file);
    }
    const config = parseConfigFile(j.parseJson(configBytes, 'image config'), `image config ${id}`);
    checkRunnableOs(config.os, store.platform);
    if (opts.platform && (config.os !== want.os || config.architecture !== want.architecture)) {
      throw new NotFoundError(
        `image ${formatReference(ref)} is ${formatPlatform(config)}, which does not match the requested platform ${formatPlatform(want)}`,
      );
    }
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new InvalidArgumentError(
        `manifest ${manifestDigest} lists ${manifest.layers.length} layers but its config has ${diffIds.length} diff ids`,
      );
    }
    const chains = chainIds(diffIds);
    const layers: StagedImage['layers'] = [];
    if (known) {
      for (const [i, d] of manifest.layers.entries()) {
        progress({ id: shortId(d.digest), status: 'Already exists' });
        layers.push({
          chainId: chains[i]!,
          diffId: diffIds[i]!,
          blobDigest: d.digest,
          size: store.layerSize(chains[i]!) ?? 0,
        });
      }
    } else {
      const results = await pullLayers(store, client, repo, manifest.layers, {
        diffIds,
        chains,
        progress,
        staged,
        created,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      layers.push(...results);
    }
    const manifestBlob = await store.content.stage(Readable.from([manifestBytes]), {
      digest: manifestDigest,
    });
    staged.push(manifestBlob);
    const repository = `${ref.domain}/${ref.path}`;
    const image: StagedImage = {
      id,
      manifestDigest,
      created: config.created === undefined ? null : Math.floor(Date.parse(config.created) / 1000),
      size: layers.reduce((a, l) => a + l.size, 0),
      layers,
      names: ref.tag !== undefined ? [`${repository}:${ref.tag}`] : [],
      repoDigests: [`${repository}@${top.digest}`],
      blobs: staged,
    };
    store.commit(image);
    const familiar = familiarName(ref);
    store.record('pull', familiar, { name: familiarRepository(ref) });
    return { ref: familiar, digest: top.digest, id };
  } catch (err) {
    await Promise.all(staged.map((b) => b.discard()));
    await store.dropUnreferencedLayers(created);
    throw err;
  }
}

async function fetchConfig(
  store: TransferStore,
  client: RegistryClient,
  repo: string,
  d: Descriptor,
  signal: AbortSignal | undefined,
): Promise<StagedBlob> {
  if (d.size > MAX_CONFIG_BYTES) {
    throw new InvalidArgumentError(
      `image config ${d.digest} is ${d.size} bytes, more than ${MAX_CONFIG_BYTES}`,
    );
  }
  return withRetries(async () => {
    const { body, length } = await client.getBlob(repo, d.digest, signal);
    checkLength(d, length, body);
    return store.content.stage(body.pipe(new SizeGuard(d)), { digest: d.digest, size: d.size });
  });
}

interface LayerContext {
  diffIds: Digest[];
  chains: Digest[];
  progress: (e: ProgressEvent) => void;
  staged: StagedBlob[];
  created: Digest[];
  signal?: AbortSignal;
}

async function pullLayers(
  store: TransferStore,
  client: RegistryClient,
  repo: string,
  descriptors: Descriptor[],
  ctx: LayerContext,
): Promise<StagedImage['layers']> {
  const out: StagedImage['layers'] = new Array(descriptors.length);
  const todo: number[] = [];
  for (const [i, d] of descriptors.entries()) {
    const chainId = ctx.chains[i]!;
    const known = store.layerSize(chainId);
    if (known !== undefined && (await store.layers.has(chainId)) && (await store.content.has(d.digest))) {
      ctx.progress({ id: shortId(d.digest), status: 'Already exists' });
      out[i] = { chainId, diffId: ctx.diffIds[i]!, blobDigest: d.digest, size: known };
    } else {
      ctx.progress({ id: shortId(d.digest), status: 'Pulling fs layer' });
      todo.push(i);
    }
  }
  const limit = Math.max(1, store.maxConcurrentDownloads);
  for (const i of todo.slice(limit)) ctx.progress({ id: shortId(descriptors[i]!.digest), status: 'Waiting' });
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < todo.length) {
      const i = todo[next++]!;
      try {
        out[i] = await pullLayer(store, client, repo, descriptors[i]!, i, ctx);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const workers = Array.from({ length: Math.min(limit, todo.length) }, worker);
  const settled = await Promise.allSettled(workers);
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return out;
}

async function pullLayer(
  store: TransferStore,
  client: RegistryClient,
  repo: string,
  d: Descriptor,
  i: number,
  ctx: LayerContext,
): Promise<StagedImage['layers'][number]> {
  const id = shortId(d.digest);
  const chainId = ctx.chains[i]!;
  const diffId = ctx.diffIds[i]!;
  const parent = ctx.chains[i - 1];
  const label = layerLabel(d.digest);
  return withRetries(async () => {
    const haveLayer = store.layerSize(chainId) !== undefined && (await store.layers.has(chainId));
    const haveBlob = await store.content.has(d.digest);
    if (haveBlob && !haveLayer) {
      // The blob survived (another image has it) but the unpacked layer did not: unpack from the file.
      ctx.progress({ id, status: 'Extracting', current: 0, total: d.size });
      const u = await store.layers.unpack({
        blob: store.content.path(d.digest),
        parent,
        expectedDiffId: diffId,
        label,
      });
      if (u.created) ctx.created.push(u.chainId);
      ctx.progress({ id, status: 'Pull complete' });
      return { chainId, diffId, blobDigest: d.digest, size: u.size };
    }
    const { body, length } = await client.getBlob(repo, d.digest, ctx.signal);
    checkLength(d, length, body);
    const counted = body.pipe(
      new SizeGuard(d, (n) => ctx.progress({ id, status: 'Downloading', current: n, total: d.size })),
    );
    body.on('error', (err) => counted.destroy(err));
    const toStore = new PassThrough();
    const toUnpack = haveLayer ? undefined : new PassThrough();
    counted.pipe(toStore);
    if (toUnpack) counted.pipe(toUnpack);
    counted.on('error', (err) => {
      toStore.destroy(err);
      toUnpack?.destroy(err);
    });
    const staging = store.content.stage(toStore, { digest: d.digest, size: d.size }).then((b) => {
      ctx.staged.push(b);
      ctx.progress({ id, status: 'Verifying Checksum' });
      ctx.progress({ id, status: 'Download complete' });
      return b;
    });
    staging.catch((err: Error) => {
      body.destroy(err);
      toUnpack?.destroy(err);
    });
    let unpacking: Promise<{ size: number }>;
    if (toUnpack) {
      unpacking = store.layers.unpack({ blob: toUnpack, parent, expectedDiffId: diffId, label }).then((u) => {
        if (u.created) ctx.created.push(u.chainId);
        return u;
      });
      unpacking.catch((err: Error) => body.destroy(err));
    } else {
      unpacking = Promise.resolve({ size: store.layerSize(chainId) ?? 0 });
    }
    const [s, u] = await Promise.allSettled([staging, unpacking]);
    // The content store's verdict names the blob and says what was wrong with it: prefer it.
    if (s.status === 'rejected') throw namedError(d.digest, s.reason);
    if (u.status === 'rejected') throw namedError(d.digest, u.reason);
    ctx.progress({ id, status: 'Extracting', current: d.size, total: d.size });
    ctx.progress({ id, status: 'Pull complete' });
    return { chainId, diffId, blobDigest: d.digest, size: u.value.size };
  });
}

function namedError(digest: Digest, err: unknown): unknown {
  if (!(err instanceof Error) || err.message.includes(digest) || err.message.includes(layerLabel(digest)))
    return err;
  if (err instanceof HyperboxError) {
    return new (err.constructor as typeof InvalidArgumentError)(`blob ${digest}: ${err.message}`, {
      cause: err,
    });
  }
  return err;
}

function checkLength(d: Descriptor, length: number | undefined, body: Readable): void {
  if (length !== undefined && length !== d.size) {
    body.destroy();
    throw new InvalidArgumentError(
      `${d.digest}: size mismatch: expected ${d.size} bytes, registry sends ${length}`,
    );
  }
}

/** Counts bytes, reports progress at most every 100 ms, and stops a body that grows past the expected size. */
class SizeGuard extends Transform {
  readonly #d: Descriptor;
  readonly #report: ((n: number) => void) | undefined;
  #bytes = 0;
  #last = 0;

  constructor(d: Descriptor, report?: (n: number) => void) {
    super();
    this.#d = d;
    this.#report = report;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#d.size) {
      cb(
        new InvalidArgumentError(
          `${this.#d.digest}: size mismatch: expected ${this.#d.size} bytes, got more`,
        ),
      );
      return;
    }
    const now = Date.now();
    if (this.#report && (now - this.#last >= PROGRESS_INTERVAL_MS || this.#bytes === this.#d.size)) {
      this.#last = now;
      this.#report(this.#bytes);
    }
    cb(null, chunk);
  }
}

/** A layer whose connection broke half-way is fetched again from the start, a bounded number of times. */
async function withRetries<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const transient = isTransientError(err) || isTransientError((err as { cause?: unknown })?.cause);
      if (!transient || attempt >= LAYER_ATTEMPTS) throw err;
    }
  }
}
