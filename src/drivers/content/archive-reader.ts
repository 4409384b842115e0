import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { ArchiveFiles } from '../../core/image/archive-load.ts';
import type { ContentStore, StagedBlob } from '../../core/image/stores.ts';
import { AutoDecompress } from '../layers/compression.ts';
import { feedExtractor } from '../layers/tar-feed.ts';

/**
 * Reads an image archive (docker-archive or OCI layout, gzip, zstd or plain tar) into the content store's
 * staging area: every regular file is staged and hashed, nothing is visible. Symbolic and hard links between
 * archive members (`docker save` links shared layers) are resolved inside the archive only.
 */
export class StagedArchive implements ArchiveFiles {
  readonly #files = new Map<string, StagedBlob>();
  readonly #links = new Map<string, string>(); // name → target, already made relative to the archive root
  readonly #superseded: StagedBlob[] = [];

  static async read(input: Readable, store: ContentStore): Promise<StagedArchive> {
    const { extract } = await import('../layers/tar-stream.ts');
    const archive = new StagedArchive();
    const ex = extract();
    // Errors reach us through the iterator and the pipeline; without a listener streamx would also throw them.
    ex.on('error', () => {});
    const decompress = new AutoDecompress();
    input.on('error', (err) => decompress.destroy(err));
    const feeding = feedExtractor(input.pipe(decompress), ex);
    feeding.catch(() => {}); // handled below; this only keeps an early failure from being "unhandled"
    try {
      for await (const entry of ex) {
        const h = entry.header;
        const name = archiveName(h.name);
        if (h.type === 'file' || h.type === 'contiguous-file' || h.type == null) {
          const staged = await store.stage(entry as unknown as Readable);
          archive.#put(name, staged);
        } else if (h.type === 'symlink' || h.type === 'link') {
          const linkname = h.linkname ?? '';
          const target =
            h.type === 'link' ? archiveName(linkname) : path.posix.join(path.posix.dirname(name), linkname);
          archive.#links.set(name, archiveName(target));
        }
        entry.resume();
      }
      await feeding;
    } catch (err) {
      ex.destroy();
      await feeding.catch(() => {});
      await archive.discard();
      if (err instanceof InvalidArgumentError) throw err;
      throw new InvalidArgumentError(`cannot read the image archive: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return archive;
  }

  #put(name: string, staged: StagedBlob): void {
    const old = this.#files.get(name);
    if (old) this.#superseded.push(old);
    this.#files.set(name, staged);
    this.#links.delete(name);
  }

  /** The staged file a member name leads to, following links within the archive. */
  staged(name: string): StagedBlob | undefined {
    let n = archiveName(name);
    for (let hops = 0; hops < 40; hops++) {
      const f = this.#files.get(n);
      if (f) return f;
      const next = this.#links.get(n);
      if (next === undefined) return undefined;
      n = next;
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.staged(name) !== undefined;
  }

  stat(name: string): { digest: StagedBlob['digest']; size: number } | undefined {
    const s = this.staged(name);
    return s && { digest: s.digest, size: s.size };
  }

  async read(name: string, maxBytes = 16 * 1024 * 1024): Promise<Buffer> {
    const s = this.staged(name);
    if (!s) throw new InvalidArgumentError(`the archive has no ${JSON.stringify(name)}`);
    if (s.size > maxBytes) {
      throw new InvalidArgumentError(
        `archive member ${JSON.stringify(name)} is ${s.size} bytes, more than ${maxBytes}`,
      );
    }
    return fsp.readFile(s.file);
  }

  async head(name: string, bytes: number): Promise<Buffer> {
    const s = this.staged(name);
    if (!s) throw new InvalidArgumentError(`the archive has no ${JSON.stringify(name)}`);
    const fh = await fsp.open(s.file, 'r');
    try {
      const buf = Buffer.alloc(bytes);
      const { bytesRead } = await fh.read(buf, 0, bytes, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  /** Drops every staged file not in `keep` (the ones the caller committed). */
  async discard(keep: ReadonlySet<StagedBlob> = new Set()): Promise<void> {
    for (const s of [...this.#files.values(), ...this.#superseded]) {
      if (!keep.has(s)) await s.discard();
    }
  }
}

/** Member names relative to the archive root: "./a//b" → "a/b"; names that climb out of it are refused. */
function archiveName(name: string): string {
  const n = path.posix.normalize(`/${name}`).slice(1).replace(/\/$/, '');
  if (name.split('/').includes('..') && path.posix.normalize(name).startsWith('..')) {
    throw new InvalidArgumentError(`archive member ${JSON.stringify(name)} escapes the archive`);
  }
  return n;
}
