import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import {
  ConflictError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from '../core/errors.ts';
import { interpretArchive } from '../core/image/archive-load.ts';
import {
  type ArchiveFormat,
  ociLayerDescriptor,
  planArchive,
  type SaveImage,
} from '../core/image/archive-save.ts';
import { applyChanges } from '../core/image/changes.ts';
import { goTime, serializeConfig } from '../core/image/config-json.ts';
import { chainIds, type Digest, hexOf, shortId } from '../core/image/digest.ts';
import { type ImageInspect, inspectImage } from '../core/image/inspect.ts';
import { layerLabel } from '../core/image/layer-entry.ts';
import { type ImageFilters, matchesFilters } from '../core/image/list-filter.ts';
import {
  type ImageConfig,
  type ImageConfigFile,
  type ImageManifest,
  MEDIA_TYPE,
  type Platform,
} from '../core/image/oci.ts';
import { hostPlatform } from '../core/image/platform.ts';
import { familiarName, formatReference, parseReference, repositoryName } from '../core/image/reference.ts';
import type { ContentStore, LayerStore, StagedBlob } from '../core/image/stores.ts';
import { parseConfigFile, parseManifest } from '../core/image/validate.ts';
import type { Layout } from '../core/paths.ts';
import type { RegistryConnector } from '../drivers/registry/connector.ts';
import type { Database } from '../drivers/store/database.ts';
import type { EventLog } from './events/service.ts';
import type { PullOptions, PullResult, RegistryCredentials } from './image-pull.ts';
import type { PushOptions, PushResult } from './image-push.ts';
import type { References } from './references.ts';
import type { TransferStore } from './transfer-store.ts';

/**
 * The local image store: names → manifests → config + layer blobs (content store) → unpacked layers (layer store),
 * with the relations in the metadata database. Files are written first, out of sight (staging, temporary
 * directories); an image becomes visible only when its blobs are committed and its rows inserted in one
 * transaction. Deletion happens inside a transaction too, so a concurrent load never links to a blob that a
 * concurrent delete is removing.
 *
 * An image a container uses is never deleted from disk: `remove -f` by id hides it (removed = 1) until the last
 * such container is gone and `gc()` (or the next remove/prune) reclaims it.
 */
export interface ImageServiceOptions {
  layout: Layout;
  db: Database;
  events: EventLog;
  /** Which containers use an image: an image in use is not removed or pruned. */
  references: References;
  content?: ContentStore;
  layers?: LayerStore;
  platform?: Platform;
  now?: () => Date;
  registry?: RegistryOptions;
}

/** How pull and push reach registries; every field has a default. */
export interface RegistryOptions {
  configDir?: string; // config.json (credentials) and certs.d/; ~/.hyperbox by default
  insecure?: string[]; // registries (host or host:port) that may use plain HTTP and unverified TLS
  tlsVerify?: boolean; // false: like --tls-verify=false for every registry
  maxConcurrentDownloads?: number; // layers downloaded at once; 3 by default
  chunkSize?: number; // uploads larger than this go in PATCH chunks of this size; 16 MiB by default
  /**
   * false: no stored login is ever read, a transfer without credentials of its own is anonymous (the daemon: as
   * dockerd, it keeps none of its clients' secrets; they come with each request as X-Registry-Auth).
   */
  storedLogins?: boolean;
}

export interface ResolvedImage {
  id: Digest;
  ref: string; // the normalised name it was found by, or the id
  config: ImageConfig;
  chainIds: Digest[]; // base layer first
  /** What the image's config says it is built for (os, architecture, variant). */
  platform: Platform;
}

export interface ImageSummary {
  id: Digest;
  repoTags: string[]; // familiar
  repoDigests: string[];
  created: number; // unix seconds from the config, 0 when it has none
  size: number;
  containers: number;
}

export type DeleteItem = { Untagged: string } | { Deleted: string };

export interface ImportOptions {
  changes: string[];
  message?: string;
  stdin?: NodeJS.ReadableStream;
}

/** A fully prepared image: files staged or unpacked, rows not yet written. */
interface Prepared {
  id: Digest;
  manifestDigest: Digest;
  created: number | null;
  size: number;
  layers: Array<{ chainId: Digest; diffId: Digest; blobDigest: Digest; size: number }>;
  names: string[];
  repoDigests?: string[]; // `repository@sha256:...` for images that came from a registry
  blobs: StagedBlob[];
}

interface ImageRow {
  id: Digest;
  manifest_digest: Digest;
  created_at: number;
  size: number;
  created: number | null;
  removed: number;
}

const HEX_PREFIX = /^(?:sha256:)?([a-f0-9]{1,64})$/;
const FULL_ID = /^sha256:[a-f0-9]{64}$/;

export class ImageService {
  readonly #layout: Layout;
  readonly #db: Database;
  readonly #events: EventLog;
  readonly #refs: References;
  readonly #platform: Platform;
  readonly #now: () => Date;
  #content: ContentStore | undefined;
  #layers: LayerStore | undefined;
  readonly #registryOptions: RegistryOptions;
  /** Registry connectors: as configured, and one without TLS verification for `--tls-verify=false` transfers. */
  readonly #connectors = new Map<'configured' | 'unverified', RegistryConnector>();

  constructor(opts: ImageServiceOptions) {
    this.#registryOptions = opts.registry ?? {};
    this.#layout = opts.layout;
    this.#db = opts.db;
    this.#events = opts.events;
    this.#refs = opts.references;
    this.#content = opts.content;
    this.#layers = opts.layers;
    this.#platform = opts.platform ?? hostPlatform();
    this.#now = opts.now ?? (() => new Date());
  }

  // The drivers load lazily: `images` and `inspect` need neither tar-stream nor zlib.
  async #stores(): Promise<{ content: ContentStore; layers: LayerStore }> {
    if (!this.#content) {
      const { FileContentStore } = await import('../drivers/content/file-content-store.ts');
      this.#content = new FileContentStore({ layout: this.#layout });
    }
    if (!this.#layers) {
      const { FileLayerStore } = await import('../drivers/layers/file-layer-store.ts');
      this.#layers = new FileLayerStore({ layout: this.#layout });
    }
    return { content: this.#content, layers: this.#layers };
  }

  // ---------------------------------------------------------------- import, load, save

  async importRootfs(source: string, ref: string | undefined, opts: ImportOptions): Promise<{ id: Digest }> {
    const name = ref === undefined ? undefined : tagName(ref);
    const baseConfig = applyChanges({}, opts.changes); // refuse bad changes before reading anything
    this.#db.space.requireRoom(`cannot import ${ref ?? source}`);
    const { content, layers } = await this.#stores();
    const input = await this.#importSource(source, opts.stdin);
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
      const now = goTime(this.#now());
      const comment = opts.message ?? `Imported from ${source}`;
      const config: ImageConfigFile = {
        created: now,
        architecture: this.#platform.architecture,
        os: this.#platform.os,
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
      const prepared: Prepared = {
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
      this.#commit([prepared]);
      this.#events.record('image', 'import', prepared.id, {
        name: name === undefined ? prepared.id : familiarName(name),
      });
      return { id: prepared.id };
    } catch (err) {
      await Promise.all(blobs.map((b) => b.discard()));
      await this.#dropUnreferencedLayers(created);
      throw err;
    }
  }

  async #importSource(source: string, stdin: NodeJS.ReadableStream | undefined): Promise<Readable> {
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
      const { packDirectory } = await import('../drivers/layers/pack-dir.ts');
      return packDirectory(source);
    }
    return fs.createReadStream(source);
  }

  /** Loads a docker-archive or OCI archive; returns familiar names, or the id of an untagged image. */
  async load(input: string | NodeJS.ReadableStream): Promise<string[]> {
    this.#db.space.requireRoom('cannot load images');
    const { content, layers } = await this.#stores();
    const { StagedArchive } = await import('../drivers/content/archive-reader.ts');
    const stream =
      typeof input === 'string' ? fs.createReadStream(input) : Readable.from(input as AsyncIterable<Buffer>);
    const archive = await StagedArchive.read(stream, content);
    const created: Digest[] = [];
    const extra: StagedBlob[] = [];
    const committed = new Set<StagedBlob>();
    try {
      const images = await interpretArchive(archive, this.#platform);
      const prepared: Prepared[] = [];
      for (const image of images) {
        const diffIds = image.layers.map((l) => l.diffId);
        const chains = chainIds(diffIds);
        const preparedLayers: Prepared['layers'] = [];
        for (const [i, l] of image.layers.entries()) {
          const staged = archive.staged(l.member)!;
          const label = layerLabel(l.descriptor.digest);
          let size: number;
          if (await layers.has(chains[i]!)) {
            size = await this.#checkDiffId(staged.file, l.diffId, label);
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
      for (const c of this.#commit(prepared)) committed.add(c);
      const out: string[] = [];
      for (const p of prepared) {
        const shown = p.names.length > 0 ? p.names.map((n) => familiarName(n)) : [p.id];
        for (const s of shown) this.#events.record('image', 'load', p.id, { name: s });
        out.push(...shown);
      }
      return out;
    } catch (err) {
      await this.#dropUnreferencedLayers(created);
      throw err;
    } finally {
      await archive.discard(committed);
      for (const b of extra) if (!committed.has(b)) await b.discard();
    }
  }

  async #checkDiffId(blob: string, want: Digest, label: string): Promise<number> {
    const { diffIdOf } = await import('../drivers/layers/diff-id.ts');
    const { diffId, size } = await diffIdOf(blob);
    if (diffId !== want) {
      throw new InvalidArgumentError(
        `layer ${label}: content does not match its diff id (config says ${want}, content is ${diffId})`,
      );
    }
    return size;
  }

  async save(
    refs: string[],
    output: string | NodeJS.WritableStream,
    opts: { format: ArchiveFormat },
  ): Promise<void> {
    if (refs.length === 0) throw new InvalidArgumentError('save needs at least one image');
    const { content } = await this.#stores();
    const byId = new Map<Digest, string[]>();
    for (const ref of refs) {
      const r = this.#find(ref);
      const names = byId.get(r.id) ?? [];
      if (r.ref !== r.id && !r.ref.includes('@') && !names.includes(r.ref)) names.push(r.ref);
      byId.set(r.id, names);
    }
    const scratch = await fsp.mkdtemp(path.join(await this.#tmp(), 'save-'));
    try {
      const images: SaveImage[] = [];
      for (const [id, names] of byId) {
        const manifest = await this.#manifest(id);
        const layers = [];
        for (const d of manifest.layers) {
          const file = content.path(d.digest);
          const plain = d.mediaType === MEDIA_TYPE.ociLayer || d.mediaType === MEDIA_TYPE.dockerLayer;
          if (opts.format === 'oci-archive' || plain) {
            layers.push({ descriptor: ociLayerDescriptor(d), file });
          } else {
            const { decompressTo } = await import('../drivers/layers/diff-id.ts');
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
      const { writeArchive } = await import('../drivers/content/archive-writer.ts');
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
          this.#events.record('image', 'save', id, { name: n === id ? id : familiarName(n) });
        }
      }
    } finally {
      await fsp.rm(scratch, { recursive: true, force: true });
    }
  }

  async #tmp(): Promise<string> {
    await fsp.mkdir(this.#layout.tmp, { recursive: true, mode: 0o700 });
    return this.#layout.tmp;
  }

  /**
   * Makes prepared images visible: blobs renamed into place and rows inserted under one write lock. Returns the
   * staged blobs it committed. A layer that vanished since it was unpacked (a concurrent delete) fails the commit.
   */
  #commit(prepared: Prepared[]): Set<StagedBlob> {
    const committed = new Set<StagedBlob>();
    const sql = this.#db;
    this.#db.transaction(() => {
      for (const p of prepared) {
        const existing = sql.prepare('SELECT removed FROM images WHERE id = ?').get(p.id) as
          | { removed: number }
          | undefined;
        if (existing === undefined) {
          for (const b of p.blobs) {
            b.commit();
            committed.add(b);
          }
          for (const l of p.layers) {
            if (!fs.existsSync(this.#layers!.dir(l.chainId))) {
              throw new UnavailableError(
                `layer ${l.chainId} was removed while the image was stored: try again`,
              );
            }
          }
          sql
            .prepare(
              'INSERT INTO images (id, manifest_digest, created_at, size, created) VALUES (?, ?, ?, ?, ?)',
            )
            .run(p.id, p.manifestDigest, this.#now().getTime(), p.size, p.created);
          const insertLayer = sql.prepare(
            'INSERT INTO image_layers (image_id, position, chain_id, blob_digest) VALUES (?, ?, ?, ?)',
          );
          const insertChain = sql.prepare(
            'INSERT OR IGNORE INTO layers (chain_id, diff_id, parent, size) VALUES (?, ?, ?, ?)',
          );
          p.layers.forEach((l, i) => {
            insertLayer.run(p.id, i, l.chainId, l.blobDigest);
            insertChain.run(l.chainId, l.diffId, i === 0 ? null : p.layers[i - 1]!.chainId, l.size);
          });
        } else if (existing.removed) {
          sql.prepare('UPDATE images SET removed = 0 WHERE id = ?').run(p.id);
        }
        for (const name of p.names) this.#setTag(name, p.id);
        for (const name of p.repoDigests ?? []) this.#setRepoDigest(name, p.id);
      }
    });
    return committed;
  }

  #setRepoDigest(name: string, id: Digest): void {
    this.#db.prepare('INSERT OR REPLACE INTO image_digests (name, image_id) VALUES (?, ?)').run(name, id);
  }

  #repoDigestsOf(id: Digest): string[] {
    return (
      this.#db.prepare('SELECT name FROM image_digests WHERE image_id = ? ORDER BY name').all(id) as Array<{
        name: string;
      }>
    ).map((r) => r.name);
  }

  #setTag(name: string, id: Digest): void {
    this.#db.prepare('INSERT OR REPLACE INTO image_tags (name, image_id) VALUES (?, ?)').run(name, id);
  }

  // ---------------------------------------------------------------- registries (image-pull.ts, image-push.ts)

  async pull(ref: string, opts: PullOptions = {}): Promise<PullResult> {
    this.#db.space.requireRoom(`cannot pull ${ref}`);
    const { pullImage } = await import('./image-pull.ts');
    return pullImage(await this.#transferStore(opts), ref, opts);
  }

  async push(ref: string, opts: PushOptions = {}): Promise<PushResult> {
    const { pushImage } = await import('./image-push.ts');
    return pushImage(await this.#transferStore(opts), ref, opts);
  }

  async #connectorFor(kind: 'configured' | 'unverified'): Promise<RegistryConnector> {
    let connector = this.#connectors.get(kind);
    if (!connector) {
      const { RegistryConnector } = await import('../drivers/registry/connector.ts');
      const o = this.#registryOptions;
      const tlsVerify = kind === 'unverified' ? false : o.tlsVerify;
      connector = new RegistryConnector({
        configDir: o.configDir ?? path.join(os.homedir(), '.hyperbox'),
        ...(o.insecure ? { insecure: o.insecure } : {}),
        ...(tlsVerify !== undefined ? { tlsVerify } : {}),
        ...(o.storedLogins === false ? { storedLogins: false } : {}),
      });
      this.#connectors.set(kind, connector);
    }
    return connector;
  }

  /** The narrow view of this service that pull and push work through. */
  async #transferStore(opts: {
    credentials?: RegistryCredentials;
    tlsVerify?: boolean;
  }): Promise<TransferStore> {
    const { credentials } = opts;
    const { content, layers } = await this.#stores();
    const connector = await this.#connectorFor(opts.tlsVerify === false ? 'unverified' : 'configured');
    const sql = this.#db;
    return {
      content,
      layers,
      platform: this.#platform,
      maxConcurrentDownloads: this.#registryOptions.maxConcurrentDownloads ?? 3,
      chunkSize: this.#registryOptions.chunkSize ?? 16 * 1024 * 1024,
      registry: (name) =>
        credentials ? Promise.resolve(connector.clientWith(name, credentials)) : connector.client(name),
      layerSize: (chainId) =>
        (
          sql.prepare('SELECT size FROM layers WHERE chain_id = ?').get(chainId) as
            | { size: number }
            | undefined
        )?.size,
      imageExists: (id) => this.#row(id)?.removed === 0,
      commit: (image) => void this.#commit([image]),
      dropUnreferencedLayers: (chains) => this.#dropUnreferencedLayers(chains),
      sweep: async () => {
        const { sweepCrashLeftovers } = await import('./image-sweep.ts');
        const known = sql.prepare('SELECT 1 FROM layers WHERE chain_id = ?');
        await sweepCrashLeftovers({
          layout: this.#layout,
          layers,
          isKnownChain: (c) => known.get(c) !== undefined,
        });
      },
      record: (action, actorId, attributes) => this.#events.record('image', action, actorId, attributes),
      findForPush: (ref) => {
        const { id } = this.#find(ref);
        return { id, manifestDigest: this.#row(id)!.manifest_digest, repoDigests: this.#repoDigestsOf(id) };
      },
      addRepoDigest: (name, id) => this.#db.transaction(() => this.#setRepoDigest(name, id)),
      tmpDir: () => this.#tmp(),
    };
  }

  // ---------------------------------------------------------------- queries

  async list(opts: { all?: boolean; filters?: ImageFilters } = {}): Promise<ImageSummary[]> {
    const sql = this.#db;
    const rows = sql
      .prepare('SELECT * FROM images WHERE removed = 0 ORDER BY created_at DESC')
      .all() as unknown as ImageRow[];
    const tags = this.#tagsById();
    const counts = this.#refs.containerCountsByImage();
    const f = opts.filters ?? {};
    const bounds: { before?: number; since?: number } = {};
    if (f.before !== undefined) bounds.before = this.#createdOf((await this.resolve(f.before)).id);
    if (f.since !== undefined) bounds.since = this.#createdOf((await this.resolve(f.since)).id);
    const needLabels = (f.label?.length ?? 0) > 0;
    const out: ImageSummary[] = [];
    for (const r of rows) {
      const names = tags.get(r.id) ?? [];
      const labels = needLabels ? ((await this.#configFile(r.id)).config?.Labels ?? {}) : {};
      if (!matchesFilters({ names, labels, created: r.created ?? 0 }, f, bounds)) continue;
      out.push({
        id: r.id,
        repoTags: names.map((n) => familiarName(n)),
        repoDigests: this.#repoDigestsOf(r.id).map((n) => familiarName(n)),
        created: r.created ?? 0,
        size: r.size,
        containers: counts.get(r.id) ?? 0,
      });
    }
    return out;
  }

  #createdOf(id: Digest): number {
    return (
      (this.#db.prepare('SELECT created FROM images WHERE id = ?').get(id) as { created: number | null })
        .created ?? 0
    );
  }

  #tagsById(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const rows = this.#db.prepare('SELECT name, image_id FROM image_tags ORDER BY name').all() as Array<{
      name: string;
      image_id: string;
    }>;
    for (const r of rows) out.set(r.image_id, [...(out.get(r.image_id) ?? []), r.name]);
    return out;
  }

  #tagsOf(id: Digest): string[] {
    return (
      this.#db.prepare('SELECT name FROM image_tags WHERE image_id = ? ORDER BY name').all(id) as Array<{
        name: string;
      }>
    ).map((r) => r.name);
  }

  #containersUsing(id: Digest): string[] {
    return this.#refs.containersOfImage(id);
  }

  async inspect(ref: string): Promise<ImageInspect> {
    const r = this.#find(ref);
    const row = this.#row(r.id)!;
    const config = await this.#configFile(r.id);
    const chains = this.#chainIds(r.id);
    const layers = this.#layers ?? (await this.#stores()).layers;
    const out = inspectImage({
      id: r.id,
      names: this.#tagsOf(r.id),
      config,
      size: row.size,
      lowerDirs: chains.map((c) => layers.dir(c)).reverse(),
    });
    out.RepoDigests = this.#repoDigestsOf(r.id).map((n) => familiarName(n));
    return out;
  }

  /**
   * Finds an image by name (`busybox`, `busybox:1`, `host:5000/a/b:t`), by `name@sha256:<manifest digest>`, by
   * id, or by a unique id prefix (with or without `sha256:`). Names win over id prefixes, as in docker. A full id
   * (`sha256:<64 hex>`, as a container records it) also finds an image hidden by `remove -f`: the containers that
   * still use it start from its config.
   */
  async resolve(ref: string): Promise<ResolvedImage> {
    const found =
      FULL_ID.test(ref) && this.#row(ref as Digest) ? { id: ref as Digest, ref } : this.#find(ref);
    const config = await this.#configFile(found.id);
    return {
      id: found.id,
      ref: found.ref,
      config: config.config ?? {},
      chainIds: this.#chainIds(found.id),
      platform: {
        os: config.os,
        architecture: config.architecture,
        ...(config.variant ? { variant: config.variant } : {}),
      },
    };
  }

  #find(ref: string): { id: Digest; ref: string; byName: boolean } {
    const sql = this.#db;
    let parsed: ReturnType<typeof parseReference> | undefined;
    let parseError: unknown;
    try {
      if (!/^sha256:/.test(ref)) parsed = parseReference(ref);
    } catch (err) {
      parseError = err;
    }
    if (parsed?.digest !== undefined) {
      // A repo digest (an index's, as pulled) first, then any stored manifest.
      const row = (sql
        .prepare(
          'SELECT i.id FROM image_digests d JOIN images i ON i.id = d.image_id WHERE d.name = ? AND i.removed = 0',
        )
        .get(`${parsed.domain}/${parsed.path}@${parsed.digest}`) ??
        sql.prepare('SELECT id FROM images WHERE manifest_digest = ? AND removed = 0').get(parsed.digest)) as
        | { id: Digest }
        | undefined;
      if (row)
        return { id: row.id, ref: formatReference({ ...parsed, tag: undefined } as never), byName: true };
    } else if (parsed !== undefined) {
      const name = formatReference({ domain: parsed.domain, path: parsed.path, tag: parsed.tag ?? 'latest' });
      const row = sql.prepare('SELECT image_id FROM image_tags WHERE name = ?').get(name) as
        | { image_id: Digest }
        | undefined;
      if (row) return { id: row.image_id, ref: name, byName: true };
    }
    const hex = HEX_PREFIX.exec(ref);
    if (hex) {
      const rows = sql
        .prepare("SELECT id FROM images WHERE removed = 0 AND id LIKE ? ESCAPE '\\' LIMIT 2")
        .all(`sha256:${hex[1]}%`) as Array<{ id: Digest }>;
      if (rows.length > 1) {
        throw new InvalidArgumentError(
          `image id prefix ${JSON.stringify(ref)} is ambiguous: it matches several images`,
        );
      }
      if (rows.length === 1) return { id: rows[0]!.id, ref: rows[0]!.id, byName: false };
    }
    if (parseError !== undefined && !hex) throw parseError;
    throw new NotFoundError(`No such image: ${ref}`);
  }

  #row(id: Digest): ImageRow | undefined {
    return this.#db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
  }

  #chainIds(id: Digest): Digest[] {
    return (
      this.#db
        .prepare('SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY position')
        .all(id) as Array<{
        chain_id: Digest;
      }>
    ).map((r) => r.chain_id);
  }

  async #configFile(id: Digest): Promise<ImageConfigFile> {
    const { content } = await this.#stores();
    return parseConfigFile(JSON.parse((await content.read(id)).toString('utf8')), `image config ${id}`);
  }

  async #manifest(id: Digest): Promise<ImageManifest> {
    const row = this.#row(id);
    if (!row) throw new NotFoundError(`No such image: ${id}`);
    const { content } = await this.#stores();
    return parseManifest(JSON.parse((await content.read(row.manifest_digest)).toString('utf8')));
  }

  // ---------------------------------------------------------------- for the container engine

  /**
   * The overlay lower directories of an image, topmost first; layers missing on disk (a crash, a manual clean-up)
   * are unpacked again from their blobs first. Works for images hidden by `remove -f` too.
   */
  async lowerDirs(imageId: string): Promise<string[]> {
    const id = imageId.startsWith('sha256:') ? (imageId as Digest) : (`sha256:${imageId}` as Digest);
    if (!this.#row(id)) throw new NotFoundError(`No such image: ${imageId}`);
    const { content, layers } = await this.#stores();
    const rows = this.#db
      .prepare('SELECT chain_id, blob_digest FROM image_layers WHERE image_id = ? ORDER BY position')
      .all(id) as Array<{ chain_id: Digest; blob_digest: Digest }>;
    const diffIds = (await this.#configFile(id)).rootfs.diff_ids;
    for (const [i, r] of rows.entries()) {
      if (await layers.has(r.chain_id)) continue;
      const blob = content.path(r.blob_digest);
      if (!(await content.has(r.blob_digest))) {
        throw new FailedPreconditionError(
          `image ${shortId(id)}: layer blob ${r.blob_digest} is missing from the store`,
        );
      }
      await layers.unpack({
        blob,
        parent: rows[i - 1]?.chain_id,
        expectedDiffId: diffIds[i]!,
        label: layerLabel(r.blob_digest),
      });
    }
    return rows.map((r) => layers.dir(r.chain_id)).reverse();
  }

  /** A file of the image, read through its layers without a container (whiteouts honoured); undefined if absent. */
  async readFile(imageId: string, file: string): Promise<string | undefined> {
    const dirs = await this.lowerDirs(imageId);
    const { layers } = await this.#stores();
    const id = imageId.startsWith('sha256:') ? (imageId as Digest) : (`sha256:${imageId}` as Digest);
    const chains = this.#chainIds(id).reverse();
    const views = await Promise.all(
      dirs.map(async (dir, i) => ({ dir, opaque: new Set(await layers.opaqueDirs(chains[i]!)) })),
    );
    const { readFileFromLayers } = await import('../drivers/layers/read-file.ts');
    return (await readFileFromLayers(views, file))?.toString('utf8');
  }

  // ---------------------------------------------------------------- tag, remove, prune

  async tag(source: string, target: string): Promise<void> {
    const { id } = this.#find(source);
    const name = tagName(target);
    this.#db.space.requireRoom(`cannot tag ${target}`);
    this.#db.transaction(() => this.#setTag(name, id));
    this.#events.record('image', 'tag', id, { name: familiarName(name) });
  }

  async remove(ref: string, opts: { force: boolean }): Promise<DeleteItem[]> {
    const { content, layers } = await this.#stores();
    const found = this.#find(ref);
    const items: DeleteItem[] = [];
    const reclaim: Array<() => Promise<void>> = [];
    this.#db.transaction(() => {
      const tags = this.#tagsOf(found.id);
      const users = this.#containersUsing(found.id);
      const sql = this.#db;
      if (found.byName && !found.ref.includes('@')) {
        if (tags.length > 1 || (users.length > 0 && opts.force)) {
          sql.prepare('DELETE FROM image_tags WHERE name = ?').run(found.ref);
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
      sql.prepare('DELETE FROM image_tags WHERE image_id = ?').run(found.id);
      if (users.length > 0) {
        sql.prepare('UPDATE images SET removed = 1 WHERE id = ?').run(found.id);
      } else {
        reclaim.push(...this.#deleteImage(found.id, content, layers).reclaim);
      }
      items.push({ Deleted: found.id });
      reclaim.push(...this.#collectHidden(content, layers).reclaim);
    });
    for (const r of reclaim) await r();
    this.#db.space.settle();
    for (const item of items) {
      if ('Untagged' in item) this.#events.record('image', 'untag', found.id, { name: item.Untagged });
      else this.#events.record('image', 'delete', item.Deleted, { name: item.Deleted });
    }
    return items;
  }

  /** Removes dangling images (untagged, unused), or with `all` every image no container uses. */
  async prune(opts: { all: boolean }): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }> {
    const { content, layers } = await this.#stores();
    const deleted: DeleteItem[] = [];
    let spaceReclaimed = 0;
    const reclaim: Array<() => Promise<void>> = [];
    this.#db.transaction(() => {
      const sql = this.#db;
      const used = this.#refs.containerCountsByImage();
      const candidates = (
        sql
          .prepare(
            `SELECT id FROM images i WHERE removed = 0
             ${opts.all ? '' : 'AND NOT EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id)'}`,
          )
          .all() as Array<{ id: Digest }>
      ).filter((r) => !used.has(r.id));
      for (const { id } of candidates) {
        for (const t of this.#tagsOf(id)) deleted.push({ Untagged: familiarName(t) });
        sql.prepare('DELETE FROM image_tags WHERE image_id = ?').run(id);
        const r = this.#deleteImage(id, content, layers);
        spaceReclaimed += r.bytes;
        reclaim.push(...r.reclaim);
        deleted.push({ Deleted: id });
      }
      const hidden = this.#collectHidden(content, layers);
      spaceReclaimed += hidden.bytes;
      reclaim.push(...hidden.reclaim);
      deleted.push(...hidden.deleted.map((id) => ({ Deleted: id })));
    });
    for (const r of reclaim) await r();
    this.#db.space.settle();
    for (const item of deleted)
      if ('Deleted' in item) this.#events.record('image', 'delete', item.Deleted, {});
    this.#events.record('image', 'prune', '', { reclaimed: String(spaceReclaimed) });
    return { deleted, spaceReclaimed };
  }

  /** Reclaims images hidden by `remove -f` once no container uses them; the container engine calls it after rm. */
  async gc(): Promise<{ deleted: Digest[]; spaceReclaimed: number }> {
    // The common case, nothing hidden: one cheap read, no write lock, no store set-up.
    if (!this.#db.prepare('SELECT 1 FROM images WHERE removed = 1 LIMIT 1').get()) {
      return { deleted: [], spaceReclaimed: 0 };
    }
    const { content, layers } = await this.#stores();
    let result = { deleted: [] as Digest[], bytes: 0, reclaim: [] as Array<() => Promise<void>> };
    this.#db.transaction(() => {
      result = this.#collectHidden(content, layers);
    });
    for (const r of result.reclaim) await r();
    return { deleted: result.deleted, spaceReclaimed: result.bytes };
  }

  #collectHidden(
    content: ContentStore,
    layers: LayerStore,
  ): { deleted: Digest[]; bytes: number; reclaim: Array<() => Promise<void>> } {
    const used = this.#refs.containerCountsByImage();
    const rows = (
      this.#db.prepare('SELECT id FROM images WHERE removed = 1').all() as Array<{ id: Digest }>
    ).filter((r) => !used.has(r.id));
    const out = { deleted: [] as Digest[], bytes: 0, reclaim: [] as Array<() => Promise<void>> };
    for (const { id } of rows) {
      const r = this.#deleteImage(id, content, layers);
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
  #deleteImage(
    id: Digest,
    content: ContentStore,
    layers: LayerStore,
  ): { bytes: number; reclaim: Array<() => Promise<void>> } {
    const sql = this.#db;
    const row = this.#row(id);
    if (!row) return { bytes: 0, reclaim: [] };
    const layerRows = sql
      .prepare('SELECT chain_id, blob_digest FROM image_layers WHERE image_id = ?')
      .all(id) as Array<{ chain_id: Digest; blob_digest: Digest }>;
    sql.prepare('DELETE FROM images WHERE id = ?').run(id);
    let bytes = 0;
    const blobUsed = sql.prepare(
      `SELECT 1 FROM images WHERE id = ?1 OR manifest_digest = ?1
       UNION ALL SELECT 1 FROM image_layers WHERE blob_digest = ?1 LIMIT 1`,
    );
    for (const blob of new Set([id, row.manifest_digest, ...layerRows.map((l) => l.blob_digest)])) {
      if (blobUsed.get(blob)) continue;
      try {
        bytes += fs.statSync(content.path(blob)).size;
      } catch {
        // already gone
      }
      content.delete(blob);
    }
    const chainUsed = sql.prepare('SELECT 1 FROM image_layers WHERE chain_id = ? LIMIT 1');
    const reclaim: Array<() => Promise<void>> = [];
    for (const chain of new Set(layerRows.map((l) => l.chain_id))) {
      if (chainUsed.get(chain)) continue;
      const size = sql.prepare('SELECT size FROM layers WHERE chain_id = ?').get(chain) as
        | { size: number }
        | undefined;
      bytes += size?.size ?? 0;
      sql.prepare('DELETE FROM layers WHERE chain_id = ?').run(chain);
      reclaim.push(layers.remove(chain));
    }
    return { bytes, reclaim };
  }

  /** After a failed import or load: layer directories this call created that no image row refers to. */
  async #dropUnreferencedLayers(chains: Digest[]): Promise<void> {
    if (chains.length === 0) return;
    const { layers } = await this.#stores();
    const reclaim: Array<() => Promise<void>> = [];
    this.#db.transaction(() => {
      const used = this.#db.prepare('SELECT 1 FROM image_layers WHERE chain_id = ? LIMIT 1');
      for (const c of chains) if (!used.get(c)) reclaim.push(layers.remove(c));
    });
    for (const r of reclaim) await r();
  }
}

/** A target name for tag/import: normalised, and never a digest reference. */
function tagName(ref: string): string {
  const r = parseReference(ref);
  if (r.digest !== undefined) {
    throw new InvalidArgumentError(`refusing to create a tag with a digest reference: ${ref}`);
  }
  return `${repositoryName(r)}:${r.tag ?? 'latest'}`;
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

export type { ArchiveFormat, ImageConfig, ImageFilters, ImageInspect };

/** For the container engine: a file of an image, read through its layers without a container. */
export function readFileFromImage(
  images: ImageService,
  imageId: string,
  file: string,
): Promise<string | undefined> {
  return images.readFile(imageId, file);
}
