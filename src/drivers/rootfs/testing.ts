import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pack } from '../layers/tar-stream.ts';

/**
 * Test helpers for trees and tars (no test of their own): what a canary directory is compared with, a tar built
 * entry by entry as a hostile peer could send it, and a stream's bytes.
 */

/** Everything below `dir` a copy could change: name, type and mode, owner, mtime (to the second), content. */
export function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = path.join(rel, name);
      const st = fs.lstatSync(path.join(dir, r));
      const what = st.isSymbolicLink()
        ? `-> ${fs.readlinkSync(path.join(dir, r))}`
        : st.isFile()
          ? fs.readFileSync(path.join(dir, r), 'utf8')
          : '';
      out.push(
        `${r} ${(st.mode & 0o170777).toString(8)} ${st.uid}:${st.gid} ${Math.floor(st.mtimeMs / 1000)} ${what}`,
      );
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

export function tarOf(
  entries: { name: string; type?: string; linkname?: string; body?: string; mode?: number }[],
): Readable {
  const p = pack();
  for (const { body, ...header } of entries)
    p.entry({ mode: 0o644, mtime: new Date(1_600_000_000_000), ...header } as never, body ?? '');
  p.finalize();
  return p as unknown as Readable;
}

export async function streamBytes(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
