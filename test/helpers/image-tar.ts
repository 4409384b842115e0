import zlib from 'node:zlib';
import type { Header } from 'tar-stream';

/** One tar entry for generated test archives; `content` is for regular files. */
export type TarEntry = Partial<Header> & {
  name: string;
  content?: string | Buffer;
  pax?: Record<string, string>;
};

/** Builds a tar archive in memory with tar-stream (optionally gzip- or zstd-compressed). */
export async function makeTar(
  entries: TarEntry[],
  opts: { compress?: 'gzip' | 'zstd' } = {},
): Promise<Buffer> {
  const { pack } = await import('tar-stream');
  const p = pack();
  const chunks: Buffer[] = [];
  const collected = new Promise<void>((resolve, reject) => {
    p.on('data', (d: unknown) => {
      chunks.push(d as Buffer);
    });
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const e of entries) {
    const { content, ...header } = e;
    const body = content === undefined ? undefined : Buffer.from(content);
    await new Promise<void>((resolve, reject) => {
      const h: Partial<Header> & { name: string } = {
        mode: header.type === 'directory' ? 0o755 : 0o644,
        mtime: new Date(1_700_000_000_000),
        ...header,
      };
      if (body !== undefined) {
        p.entry({ ...h, size: body.length }, body, (err) => (err ? reject(err) : resolve()));
      } else {
        p.entry(h, (err) => (err ? reject(err) : resolve()));
      }
    });
  }
  p.finalize();
  await collected;
  const tar = Buffer.concat(chunks);
  if (opts.compress === 'gzip') return zlib.gzipSync(tar);
  if (opts.compress === 'zstd') return zlib.zstdCompressSync(tar);
  return tar;
}
