import fs from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../../core/image/digest.ts';
import { AutoDecompress } from './compression.ts';
import { HashingStream } from './hashing.ts';

/** The diff id of a layer blob: the sha256 of its uncompressed bytes (and how many there are). */
export async function diffIdOf(blob: string): Promise<{ diffId: Digest; size: number }> {
  const hashing = new HashingStream();
  const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
  await pipeline(fs.createReadStream(blob), new AutoDecompress(), hashing, sink);
  return { diffId: hashing.digest(), size: hashing.bytes };
}

/** Writes the uncompressed bytes of a layer blob to `target` (docker-archive wants plain tars). */
export async function decompressTo(blob: string, target: string): Promise<{ diffId: Digest; size: number }> {
  const hashing = new HashingStream();
  await pipeline(
    fs.createReadStream(blob),
    new AutoDecompress(),
    hashing,
    fs.createWriteStream(target, { flags: 'wx' }),
  );
  return { diffId: hashing.digest(), size: hashing.bytes };
}
