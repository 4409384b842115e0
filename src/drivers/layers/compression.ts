import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { InvalidArgumentError } from '../../core/errors.ts';

/**
 * Layer and archive compression, recognised by magic bytes rather than by media type or file name: archives in
 * the wild lie about both.
 */
export type Compression = 'gzip' | 'zstd' | 'none';

export function detectCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) {
    throw new InvalidArgumentError('bzip2-compressed input is not supported (use gzip, zstd or plain tar)');
  }
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58) {
    throw new InvalidArgumentError('xz-compressed input is not supported (use gzip, zstd or plain tar)');
  }
  return 'none';
}

const MAGIC_BYTES = 4;

/**
 * A transform that looks at the first bytes and decompresses if they say so; plain input passes through.
 * `compression` tells afterwards what it found.
 */
export class AutoDecompress extends Transform {
  #head: Buffer[] = [];
  #headLength = 0;
  #decided = false;
  #inner: Transform | undefined;
  compression: Compression | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.#decided) {
      this.#forward(chunk, cb);
      return;
    }
    this.#head.push(chunk);
    this.#headLength += chunk.length;
    if (this.#headLength < MAGIC_BYTES) {
      cb();
      return;
    }
    this.#decideAndForward(cb);
  }

  override _flush(cb: TransformCallback): void {
    if (this.#decided) {
      this.#end(cb);
      return;
    }
    this.#decideAndForward((err) => (err ? cb(err) : this.#end(cb)));
  }

  #decideAndForward(cb: TransformCallback): void {
    const head = Buffer.concat(this.#head);
    this.#head = [];
    try {
      this.compression = detectCompression(head);
    } catch (err) {
      cb(err as Error);
      return;
    }
    this.#decided = true;
    if (this.compression !== 'none') {
      // Large output chunks: every chunk costs a trip through the tar reader, the hash and the file writer.
      const chunkSize = 256 * 1024;
      const inner =
        this.compression === 'gzip'
          ? zlib.createGunzip({ chunkSize })
          : zlib.createZstdDecompress({ chunkSize });
      inner.on('data', (d: Buffer) => this.push(d));
      inner.on('error', (err) =>
        this.destroy(new InvalidArgumentError(`cannot decompress ${this.compression} input: ${err.message}`)),
      );
      this.#inner = inner;
    }
    if (head.length === 0) cb();
    else this.#forward(head, cb);
  }

  #forward(chunk: Buffer, cb: TransformCallback): void {
    const inner = this.#inner;
    if (inner === undefined) cb(null, chunk);
    else if (inner.write(chunk)) cb();
    else inner.once('drain', () => cb());
  }

  #end(cb: TransformCallback): void {
    const inner = this.#inner;
    if (inner === undefined) {
      cb();
      return;
    }
    inner.once('end', () => cb());
    inner.end();
  }
}
