import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError } from '../../core/errors.ts';
import { chainIds, type Digest, hexOf, isDigest } from '../../core/image/digest.ts';
import type { LayerStore, UnpackedLayer } from '../../core/image/stores.ts';
import type { Layout } from '../../core/paths.ts';
import { applyLayer } from './apply-layer.ts';
import { AutoDecompress } from './compression.ts';
import { HashingStream } from './hashing.ts';

const OPAQUE_FILE = 'opaque.json';

/**
 * Unpacked layers under `layout.layers/<chain id hex>/`: `diff/` is the overlay lowerdir, `opaque.json` lists the
 * opaque directories (overlayfs keeps them in an xattr that Node cannot read). A layer is unpacked into a private
 * directory under `layout.tmp` and renamed into place, so a crash never leaves a half layer visible and two
 * processes unpacking the same layer both succeed: the second rename fails and that copy is thrown away.
 */
export class FileLayerStore implements LayerStore {
  readonly #layout: Layout;
  readonly #preserveOwnership: boolean;

  constructor(opts: { layout: Layout; preserveOwnership?: boolean }) {
    this.#layout = opts.layout;
    this.#preserveOwnership = opts.preserveOwnership ?? process.getuid?.() === 0;
  }

  dir(chainId: Digest): string {
    return path.join(this.#layout.layers, hexOf(chainId), 'diff');
  }

  async has(chainId: Digest): Promise<boolean> {
    return fs.existsSync(this.dir(chainId));
  }

  async unpack(opts: {
    blob: string | Readable;
    parent: Digest | undefined;
    expectedDiffId?: Digest;
    label: string;
  }): Promise<UnpackedLayer> {
    await fsp.mkdir(this.#layout.tmp, { recursive: true, mode: 0o700 });
    await fsp.mkdir(this.#layout.layers, { recursive: true, mode: 0o711 });
    // The pid in the name lets a later run tell a crashed unpack (owner gone) from a running one.
    const work = await fsp.mkdtemp(path.join(this.#layout.tmp, `unpack-${process.pid}-`));
    try {
      const diff = path.join(work, 'diff');
      await fsp.mkdir(diff);
      const hashing = new HashingStream();
      const decompress = new AutoDecompress();
      const applying = applyLayer(hashing, diff, {
        label: opts.label,
        preserveOwnership: this.#preserveOwnership,
        scratchDir: work,
      });
      const feeding = pipeline(
        typeof opts.blob === 'string' ? fs.createReadStream(opts.blob) : opts.blob,
        decompress,
        hashing,
      ).catch((err: unknown) => {
        hashing.destroy(err as Error);
        throw err;
      });
      const [result] = await Promise.all([applying, feeding]);
      const diffId = hashing.digest();
      if (opts.expectedDiffId !== undefined && diffId !== opts.expectedDiffId) {
        throw new InvalidArgumentError(
          `layer ${opts.label}: content does not match its diff id (config says ${opts.expectedDiffId}, content is ${diffId})`,
        );
      }
      const chainId = opts.parent === undefined ? diffId : chainIds([opts.parent, diffId])[1]!;
      await fsp.writeFile(path.join(work, OPAQUE_FILE), JSON.stringify(result.opaqueDirs));
      const final = path.join(this.#layout.layers, hexOf(chainId));
      let created = true;
      try {
        await fsp.rename(work, final);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
        created = false; // someone else unpacked it meanwhile: theirs is as good as ours
      }
      if (!created) await fsp.rm(work, { recursive: true, force: true });
      return { diffId, chainId, size: result.size, created };
    } catch (err) {
      await fsp.rm(work, { recursive: true, force: true });
      throw err;
    }
  }

  async opaqueDirs(chainId: Digest): Promise<string[]> {
    try {
      const parsed = JSON.parse(
        await fsp.readFile(path.join(this.#layout.layers, hexOf(chainId), OPAQUE_FILE), 'utf8'),
      );
      return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string') : [];
    } catch {
      return [];
    }
  }

  /** Renames the layer out of sight first, so that a concurrent reader never sees it half deleted. */
  remove(chainId: Digest): () => Promise<void> {
    const dir = path.join(this.#layout.layers, hexOf(chainId));
    fs.mkdirSync(this.#layout.tmp, { recursive: true, mode: 0o700 });
    const doomed = path.join(this.#layout.tmp, `removing-${hexOf(chainId)}-${process.pid}-${Date.now()}`);
    try {
      fs.renameSync(dir, doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return async () => {};
      throw err;
    }
    return () => fsp.rm(doomed, { recursive: true, force: true });
  }

  async list(): Promise<Digest[]> {
    const names = await fsp.readdir(this.#layout.layers).catch(() => [] as string[]);
    return names.map((n) => `sha256:${n}`).filter(isDigest);
  }
}
