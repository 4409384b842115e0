import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError, NotFoundError } from '../../core/errors.ts';
import { type Digest, hexOf, isDigest } from '../../core/image/digest.ts';
import type { ContentStore, StagedBlob } from '../../core/image/stores.ts';
import type { Layout } from '../../core/paths.ts';
import { HashingStream } from '../layers/hashing.ts';
import { stageAndCommit } from './stage-and-commit.ts';

/**
 * Blobs as files: `layout.blobs/<hex>`, read-only. A blob is written to `layout.ingest`, hashed while it streams,
 * fsync'ed, checked against the expected digest and size, and only then renamed into place: a crash leaves at
 * most an orphan in ingest, never a wrong or partial blob under its name.
 */
export class FileContentStore implements ContentStore {
  readonly #layout: Layout;

  constructor(opts: { layout: Layout }) {
    this.#layout = opts.layout;
  }

  path(digest: Digest): string {
    return path.join(this.#layout.blobs, hexOf(digest));
  }

  async has(digest: Digest): Promise<boolean> {
    return (await this.size(digest)) !== undefined;
  }

  async size(digest: Digest): Promise<number | undefined> {
    try {
      return (await fsp.stat(this.path(digest))).size;
    } catch {
      return undefined;
    }
  }

  async read(digest: Digest, maxBytes = 16 * 1024 * 1024): Promise<Buffer> {
    const size = await this.size(digest);
    if (size === undefined) throw new NotFoundError(`blob ${digest} not found in the content store`);
    if (size > maxBytes)
      throw new InvalidArgumentError(`blob ${digest} is ${size} bytes, more than ${maxBytes} allowed`);
    return fsp.readFile(this.path(digest));
  }

  async stage(source: Readable, expected: { digest?: Digest; size?: number } = {}): Promise<StagedBlob> {
    await fsp.mkdir(this.#layout.ingest, { recursive: true, mode: 0o700 });
    const file = path.join(this.#layout.ingest, `${process.pid}-${randomBytes(8).toString('hex')}`);
    const hashing = new HashingStream();
    try {
      const out = fs.createWriteStream(file, { flags: 'wx', mode: 0o444 });
      await pipeline(source, hashing, out);
      const fd = await fsp.open(file, 'r');
      try {
        await fd.sync();
      } finally {
        await fd.close();
      }
      const digest = hashing.digest();
      const what = expected.digest ?? 'blob';
      if (expected.size !== undefined && hashing.bytes !== expected.size) {
        throw new InvalidArgumentError(
          `${what}: size mismatch: expected ${expected.size} bytes, got ${hashing.bytes}`,
        );
      }
      if (expected.digest !== undefined && digest !== expected.digest) {
        throw new InvalidArgumentError(
          `${expected.digest}: content does not match its digest (got ${digest})`,
        );
      }
      return this.#staged(file, digest, hashing.bytes);
    } catch (err) {
      await fsp.rm(file, { force: true });
      throw err;
    }
  }

  #staged(file: string, digest: Digest, size: number): StagedBlob {
    const target = this.path(digest);
    const blobs = this.#layout.blobs;
    return {
      digest,
      size,
      file,
      commit() {
        fs.mkdirSync(blobs, { recursive: true, mode: 0o711 });
        if (fs.existsSync(target)) {
          fs.rmSync(file, { force: true });
          return;
        }
        fs.renameSync(file, target);
        const dir = fs.openSync(blobs, 'r');
        try {
          fs.fsyncSync(dir); // the rename itself survives a crash
        } finally {
          fs.closeSync(dir);
        }
      },
      async discard() {
        await fsp.rm(file, { force: true });
      },
    };
  }

  async write(
    source: Readable | Uint8Array,
    expected?: { digest?: Digest; size?: number },
  ): Promise<{ digest: Digest; size: number }> {
    return stageAndCommit(this, source, expected);
  }

  delete(digest: Digest): void {
    fs.rmSync(this.path(digest), { force: true });
  }

  async list(): Promise<Digest[]> {
    const names = await fsp.readdir(this.#layout.blobs).catch(() => [] as string[]);
    return names.map((n) => `sha256:${n}`).filter(isDigest);
  }
}
