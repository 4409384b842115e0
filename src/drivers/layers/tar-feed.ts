import type { Readable } from 'node:stream';
import type { Extract, Header } from 'tar-stream';

/**
 * Pipes a Node stream into tar-stream's extractor (a streamx stream, which Node's typings do not accept as a
 * pipeline stage) and settles when the extractor has consumed everything or failed. Callers read the entries
 * concurrently, so they must attach a handler to the returned promise at once: a truncated archive rejects it
 * while they are still iterating.
 */
export function feedExtractor(source: Readable, ex: Extract): Promise<void> {
  return new Promise((resolve, reject) => {
    source.on('error', (err) => {
      ex.destroy(err);
      reject(err);
    });
    ex.on('error', reject);
    ex.on('close', () => reject(new Error('the tar stream ended early')));
    ex.on('finish', resolve);
    source.pipe(ex as unknown as NodeJS.WritableStream);
  });
}

/** A tar entry as tar-stream's extractor yields it, and what the unpackers keep of its header until the end. */
export interface TarEntry extends AsyncIterable<unknown> {
  header: Header;
  resume(): unknown;
}

export interface EntryMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}
