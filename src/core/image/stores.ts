import type { Readable } from 'node:stream';
import type { Digest } from './digest.ts';

/**
 * The two storage drivers behind the image service. Vocabulary: a "blob" is immutable content named by its
 * sha256 digest; a "staged" blob was written and verified but is not yet visible; an "unpacked layer" is a
 * layer's file system diff, named by its chain id, which overlayfs stacks read-only under containers.
 */
export interface ContentStore {
  /** Host path of a committed blob (for reading only). */
  path(digest: Digest): string;
  has(digest: Digest): Promise<boolean>;
  /** Size of a committed blob, undefined if absent. */
  size(digest: Digest): Promise<number | undefined>;
  /** Reads a small committed blob whole; refuses blobs over `maxBytes`. */
  read(digest: Digest, maxBytes?: number): Promise<Buffer>;
  /**
   * Streams `source` into the ingest area, hashing as it goes; when `expected` is given, a digest or size
   * mismatch rejects and leaves nothing behind. The result is invisible until `commit`.
   */
  stage(source: Readable, expected?: { digest?: Digest; size?: number }): Promise<StagedBlob>;
  /** Stages and commits in one go. */
  write(
    source: Readable | Uint8Array,
    expected?: { digest?: Digest; size?: number },
  ): Promise<{ digest: Digest; size: number }>;
  /** Synchronous for the same reason as `StagedBlob.commit`. */
  delete(digest: Digest): void;
  list(): Promise<Digest[]>;
}

export interface StagedBlob {
  readonly digest: Digest;
  readonly size: number;
  /** The staged file, readable until commit or discard. */
  readonly file: string;
  /**
   * Makes the blob visible (atomic rename); a blob already present is kept and the staged copy dropped.
   * Synchronous on purpose: the image service commits blobs inside its metadata transaction, so that a concurrent
   * garbage collection (which deletes inside its own transaction) can never remove a blob between the two.
   */
  commit(): void;
  discard(): Promise<void>;
}

export interface UnpackedLayer {
  diffId: Digest;
  chainId: Digest;
  size: number; // bytes of file content
  created: boolean; // false when another process unpacked the same chain id first
}

export interface LayerStore {
  /** The overlay lowerdir of an unpacked layer (it may not exist: see `has`). */
  dir(chainId: Digest): string;
  has(chainId: Digest): Promise<boolean>;
  /**
   * Unpacks a layer blob (gzip, zstd or plain tar, recognised by its bytes) on top of `parent`'s chain and makes
   * it visible atomically under its chain id. With `expectedDiffId`, content that does not hash to it is refused.
   * A refused layer leaves nothing behind.
   */
  unpack(opts: {
    /** The blob's file, or its bytes as they arrive (a pull unpacks while it downloads). */
    blob: string | Readable;
    parent: Digest | undefined;
    expectedDiffId?: Digest;
    label: string;
  }): Promise<UnpackedLayer>;
  /** Relative paths of the layer's opaque directories (for reading files without overlayfs). */
  opaqueDirs(chainId: Digest): Promise<string[]>;
  /**
   * Makes the layer disappear at once (a rename out of sight, synchronous so that it can run inside a metadata
   * transaction) and returns a function that reclaims the space afterwards.
   */
  remove(chainId: Digest): () => Promise<void>;
  list(): Promise<Digest[]>;
}
