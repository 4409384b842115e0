import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { InvalidArgumentError } from '../../../core/errors.ts';
import { chainIds, type Digest, hexOf, sha256 } from '../../../core/image/digest.ts';
import type { LayerStore, UnpackedLayer } from '../../../core/image/stores.ts';

/**
 * A LayerStore for tests: reads the whole blob, takes plain or gzip tars of regular files and directories only
 * (what test images hold: no links, devices, whiteouts or ownership), and writes them under `dir/<chain hex>/`.
 * No staging, no crash-safety; `unpacks` counts the calls, to see what a service unpacked again.
 */
export class FakeLayerStore implements LayerStore {
  readonly #dir: string;
  unpacks = 0;

  constructor(dir: string) {
    this.#dir = dir;
    fs.mkdirSync(dir, { recursive: true });
  }

  dir(chainId: Digest): string {
    return path.join(this.#dir, hexOf(chainId));
  }

  async has(chainId: Digest): Promise<boolean> {
    return fs.existsSync(this.dir(chainId));
  }

  async unpack(opts: Parameters<LayerStore['unpack']>[0]): Promise<UnpackedLayer> {
    this.unpacks++;
    let bytes = typeof opts.blob === 'string' ? fs.readFileSync(opts.blob) : await readAll(opts.blob);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = zlib.gunzipSync(bytes);
    const diffId = sha256(bytes);
    if (opts.expectedDiffId !== undefined && diffId !== opts.expectedDiffId) {
      throw new InvalidArgumentError(
        `layer ${opts.label}: content does not match its diff id (config says ${opts.expectedDiffId}, content is ${diffId})`,
      );
    }
    const chainId = opts.parent === undefined ? diffId : chainIds([opts.parent, diffId])[1]!;
    const target = this.dir(chainId);
    const entries = readTar(bytes);
    const size = entries.reduce((n, e) => n + (e.data?.length ?? 0), 0);
    if (fs.existsSync(target)) return { diffId, chainId, size, created: false };
    fs.mkdirSync(target);
    for (const e of entries) {
      const p = path.join(target, e.name);
      if (e.data === undefined) fs.mkdirSync(p, { recursive: true });
      else {
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, e.data);
      }
    }
    return { diffId, chainId, size, created: true };
  }

  async opaqueDirs(): Promise<string[]> {
    return [];
  }

  remove(chainId: Digest): () => Promise<void> {
    fs.rmSync(this.dir(chainId), { recursive: true, force: true });
    return async () => {};
  }

  async list(): Promise<Digest[]> {
    return fs.readdirSync(this.#dir).map((n) => `sha256:${n}` as Digest);
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** The regular files (with data) and directories of a ustar archive. */
function readTar(tar: Buffer): Array<{ name: string; data?: Buffer }> {
  const out: Array<{ name: string; data?: Buffer }> = [];
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number) =>
      header
        .subarray(start, start + len)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const name = field(0, 100).replace(/^\.\//, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const body = off + 512;
    if (type === '5') out.push({ name });
    else if (type === '0') out.push({ name, data: Buffer.from(tar.subarray(body, body + size)) });
    else throw new InvalidArgumentError(`the fake layer store reads files and directories only: ${name}`);
    off = body + Math.ceil(size / 512) * 512;
  }
  return out;
}
