import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { Digest } from '../../core/image/digest.ts';

/** A blob to upload, opened again for every retry or chunk. */
export interface BlobSource {
  digest: Digest;
  size: number;
  /** A stream of bytes [start, end) of the blob; called again for every retry or chunk. */
  open(start: number, end: number): Readable;
}

/** A blob kept in a file. */
export function fileSource(file: string, digest: Digest, size: number): BlobSource {
  return {
    digest,
    size,
    open: (start, end) =>
      end > start ? fs.createReadStream(file, { start, end: end - 1 }) : Readable.from([]),
  };
}
