import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgumentError, NotFoundError } from '../../../core/errors.ts';
import { type Digest, hexOf, sha256 } from '../../../core/image/digest.ts';
import type { ContentStore, StagedBlob } from '../../../core/image/stores.ts';
import { stageAndCommit } from '../stage-and-commit.ts';

/**
 * A ContentStore for tests: the index of committed blobs in memory, their bytes in plain files under `dir` (callers
 * read blobs by path), no fsync and no crash-safety. `failCommits` makes the next commits throw, to test what a
 * service does when a blob cannot be made visible.
 */
export class FakeContentStore implements ContentStore {
  readonly #dir: string;
  readonly #blobs = new Map<Digest, number>(); // committed: digest → size
  /** How many of the next commits throw. */
  failCommits = 0;

  constructor(dir: string) {
    this.#dir = dir;
    fs.mkdirSync(path.join(dir, 'staged'), { recursive: true });
  }

  path(digest: Digest): string {
    return path.join(this.#dir, hexOf(digest));
  }

  async has(digest: Digest): Promise<boolean> {
    return this.#blobs.has(digest);
  }

  async size(digest: Digest): Promise<number | undefined> {
    return this.#blobs.get(digest);
  }

  async read(digest: Digest, maxBytes = 16 * 1024 * 1024): Promise<Buffer> {
    const size = this.#blobs.get(digest);
    if (size === undefined) throw new NotFoundError(`blob ${digest} not found in the content store`);
    if (size > maxBytes)
      throw new InvalidArgumentError(`blob ${digest} is ${size} bytes, more than ${maxBytes} allowed`);
    return fs.readFileSync(this.path(digest));
  }

  async stage(source: Readable, expected: { digest?: Digest; size?: number } = {}): Promise<StagedBlob> {
    const chunks: Buffer[] = [];
    for await (const c of source) chunks.push(Buffer.from(c as Uint8Array));
    const bytes = Buffer.concat(chunks);
    const digest = sha256(bytes);
    if (expected.size !== undefined && bytes.length !== expected.size) {
      throw new InvalidArgumentError(
        `blob: size mismatch: expected ${expected.size} bytes, got ${bytes.length}`,
      );
    }
    if (expected.digest !== undefined && digest !== expected.digest) {
      throw new InvalidArgumentError(`${expected.digest}: content does not match its digest (got ${digest})`);
    }
    const file = path.join(this.#dir, 'staged', randomBytes(8).toString('hex'));
    fs.writeFileSync(file, bytes);
    return {
      digest,
      size: bytes.length,
      file,
      commit: () => {
        if (this.failCommits > 0) {
          this.failCommits--;
          throw new Error(`injected: cannot commit ${digest}`);
        }
        if (!this.#blobs.has(digest)) fs.renameSync(file, this.path(digest));
        else fs.rmSync(file, { force: true });
        this.#blobs.set(digest, bytes.length);
      },
      discard: async () => fs.rmSync(file, { force: true }),
    };
  }

  async write(
    source: Readable | Uint8Array,
    expected?: { digest?: Digest; size?: number },
  ): Promise<{ digest: Digest; size: number }> {
    return stageAndCommit(this, source, expected);
  }

  delete(digest: Digest): void {
    this.#blobs.delete(digest);
    fs.rmSync(this.path(digest), { force: true });
  }

  async list(): Promise<Digest[]> {
    return [...this.#blobs.keys()];
  }
}
