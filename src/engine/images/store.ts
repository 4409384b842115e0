import type { Digest } from '../../core/image/digest.ts';
import type { Database } from '../../drivers/store/database.ts';

/** An image's row: `removed` = 1 hides an image `rmi -f` removed while a container still uses it. */
export interface ImageRow {
  id: Digest;
  manifest_digest: Digest;
  created_at: number;
  size: number;
  created: number | null;
  removed: number;
}

/** An image's layer at its position: the unpacked chain and the blob it came from. */
export interface LayerRef {
  chainId: Digest;
  blobDigest: Digest;
}

/** The rows of a new image, as `commit` inserts them. */
export interface NewImageRows {
  id: Digest;
  manifestDigest: Digest;
  createdAt: number; // when it was stored here, ms
  size: number;
  created: number | null; // the config's creation time, unix seconds
  layers: Array<{ chainId: Digest; diffId: Digest; blobDigest: Digest; size: number }>; // base first
}

/**
 * The image tables (images, image_layers, image_tags, image_digests, layers): the only module that writes or reads
 * them. Names are stored normalised (`docker.io/library/busybox:latest`). Multi-statement changes run inside
 * `transaction`; what a caller reads there and what it changes are one atomic step.
 */
export class ImageStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn);
  }

  // ---------------------------------------------------------------- images

  row(id: Digest): ImageRow | undefined {
    return this.#db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
  }

  /** Visible images, the most recently stored first. */
  visibleRows(): ImageRow[] {
    return this.#db
      .prepare('SELECT * FROM images WHERE removed = 0 ORDER BY created_at DESC')
      .all() as unknown as ImageRow[];
  }

  /** Visible images without a tag (dangling), or with `all` every visible image. */
  pruneCandidates(all: boolean): Digest[] {
    const rows = this.#db
      .prepare(
        `SELECT id FROM images i WHERE removed = 0
         ${all ? '' : 'AND NOT EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id)'}`,
      )
      .all() as Array<{ id: Digest }>;
    return rows.map((r) => r.id);
  }

  /** Images hidden by `rmi -f`, waiting for their last container to go. */
  hiddenIds(): Digest[] {
    return (this.#db.prepare('SELECT id FROM images WHERE removed = 1').all() as Array<{ id: Digest }>).map(
      (r) => r.id,
    );
  }

  anyHidden(): boolean {
    return this.#db.prepare('SELECT 1 FROM images WHERE removed = 1 LIMIT 1').get() !== undefined;
  }

  /** Up to two visible ids starting with `sha256:<hex>`: two mean the prefix is ambiguous. */
  idsWithPrefix(hex: string): Digest[] {
    const rows = this.#db
      .prepare("SELECT id FROM images WHERE removed = 0 AND id LIKE ? ESCAPE '\\' LIMIT 2")
      .all(`sha256:${hex}%`) as Array<{ id: Digest }>;
    return rows.map((r) => r.id);
  }

  /** The visible image a repo digest (`domain/path@sha256:...`) names, else the one with that manifest. */
  idByDigest(repoDigest: string, manifestDigest: string): Digest | undefined {
    const row = (this.#db
      .prepare(
        'SELECT i.id FROM image_digests d JOIN images i ON i.id = d.image_id WHERE d.name = ? AND i.removed = 0',
      )
      .get(repoDigest) ??
      this.#db
        .prepare('SELECT id FROM images WHERE manifest_digest = ? AND removed = 0')
        .get(manifestDigest)) as { id: Digest } | undefined;
    return row?.id;
  }

  /** Inserts a new image's rows, and the layers no other image brought yet. */
  insert(image: NewImageRows): void {
    this.#db
      .prepare('INSERT INTO images (id, manifest_digest, created_at, size, created) VALUES (?, ?, ?, ?, ?)')
      .run(image.id, image.manifestDigest, image.createdAt, image.size, image.created);
    const insertLayer = this.#db.prepare(
      'INSERT INTO image_layers (image_id, position, chain_id, blob_digest) VALUES (?, ?, ?, ?)',
    );
    const insertChain = this.#db.prepare(
      'INSERT OR IGNORE INTO layers (chain_id, diff_id, parent, size) VALUES (?, ?, ?, ?)',
    );
    image.layers.forEach((l, i) => {
      insertLayer.run(image.id, i, l.chainId, l.blobDigest);
      insertChain.run(l.chainId, l.diffId, i === 0 ? null : image.layers[i - 1]!.chainId, l.size);
    });
  }

  setHidden(id: Digest, hidden: boolean): void {
    this.#db.prepare('UPDATE images SET removed = ? WHERE id = ?').run(hidden ? 1 : 0, id);
  }

  /** Deletes the image's rows (its layer positions, tags and repo digests go with it). */
  delete(id: Digest): void {
    this.#db.prepare('DELETE FROM images WHERE id = ?').run(id);
  }

  // ---------------------------------------------------------------- layers of images

  /** The image's layers, base first. */
  layersOf(id: Digest): LayerRef[] {
    const rows = this.#db
      .prepare('SELECT chain_id, blob_digest FROM image_layers WHERE image_id = ? ORDER BY position')
      .all(id) as Array<{ chain_id: Digest; blob_digest: Digest }>;
    return rows.map((r) => ({ chainId: r.chain_id, blobDigest: r.blob_digest }));
  }

  chainIds(id: Digest): Digest[] {
    return this.layersOf(id).map((l) => l.chainId);
  }

  /** Whether any image row still names the blob (as its config, manifest or a layer). */
  blobInUse(digest: Digest): boolean {
    return (
      this.#db
        .prepare(
          `SELECT 1 FROM images WHERE id = ?1 OR manifest_digest = ?1
           UNION ALL SELECT 1 FROM image_layers WHERE blob_digest = ?1 LIMIT 1`,
        )
        .get(digest) !== undefined
    );
  }

  /** Whether any image is made of the unpacked layer. */
  chainInUse(chainId: Digest): boolean {
    return (
      this.#db.prepare('SELECT 1 FROM image_layers WHERE chain_id = ? LIMIT 1').get(chainId) !== undefined
    );
  }

  /** Unpacked size of a layer the metadata knows, undefined if it knows none. */
  layerSize(chainId: Digest): number | undefined {
    return (
      this.#db.prepare('SELECT size FROM layers WHERE chain_id = ?').get(chainId) as
        | { size: number }
        | undefined
    )?.size;
  }

  deleteLayer(chainId: Digest): void {
    this.#db.prepare('DELETE FROM layers WHERE chain_id = ?').run(chainId);
  }

  // ---------------------------------------------------------------- names

  /** The image a tag (normalised) points at. */
  tagTarget(name: string): Digest | undefined {
    return (
      this.#db.prepare('SELECT image_id FROM image_tags WHERE name = ?').get(name) as
        | { image_id: Digest }
        | undefined
    )?.image_id;
  }

  setTag(name: string, id: Digest): void {
    this.#db.prepare('INSERT OR REPLACE INTO image_tags (name, image_id) VALUES (?, ?)').run(name, id);
  }

  deleteTag(name: string): void {
    this.#db.prepare('DELETE FROM image_tags WHERE name = ?').run(name);
  }

  deleteTagsOf(id: Digest): void {
    this.#db.prepare('DELETE FROM image_tags WHERE image_id = ?').run(id);
  }

  /** The image's tags, sorted. */
  tagsOf(id: Digest): string[] {
    return (
      this.#db.prepare('SELECT name FROM image_tags WHERE image_id = ? ORDER BY name').all(id) as Array<{
        name: string;
      }>
    ).map((r) => r.name);
  }

  /** Every tag, sorted, by image id. */
  tagsById(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const rows = this.#db.prepare('SELECT name, image_id FROM image_tags ORDER BY name').all() as Array<{
      name: string;
      image_id: string;
    }>;
    for (const r of rows) out.set(r.image_id, [...(out.get(r.image_id) ?? []), r.name]);
    return out;
  }

  setRepoDigest(name: string, id: Digest): void {
    this.#db.prepare('INSERT OR REPLACE INTO image_digests (name, image_id) VALUES (?, ?)').run(name, id);
  }

  /** The image's repo digests (`domain/path@sha256:...`), sorted. */
  repoDigestsOf(id: Digest): string[] {
    return (
      this.#db.prepare('SELECT name FROM image_digests WHERE image_id = ? ORDER BY name').all(id) as Array<{
        name: string;
      }>
    ).map((r) => r.name);
  }
}
