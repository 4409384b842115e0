import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pack } from 'tar-stream';
import type { ArchiveMember } from '../../core/image/archive-save.ts';

/** Streams archive members into a tar (uncompressed, fixed times and owners: the same images give the same bytes). */
export async function writeArchive(members: readonly ArchiveMember[], output: Writable): Promise<void> {
  const { pack } = await import('../layers/tar-stream.ts');
  const p = pack();
  const writing = pipeline(p as unknown as NodeJS.ReadableStream, output);
  try {
    for (const m of members) await addMember(p, m);
    p.finalize();
  } catch (err) {
    p.destroy(err as Error);
    await writing.catch(() => {});
    throw err;
  }
  await writing;
}

const MTIME = new Date(0);

function addMember(p: Pack, m: ArchiveMember): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    const base = { name: m.name, mtime: MTIME, uid: 0, gid: 0 };
    if (m.kind === 'dir') {
      p.entry({ ...base, type: 'directory', mode: 0o755 }, done);
    } else if (m.kind === 'bytes') {
      p.entry({ ...base, type: 'file', mode: 0o644, size: m.bytes.length }, m.bytes, done);
    } else {
      const sink = p.entry({ ...base, type: 'file', mode: 0o644, size: m.size }, done);
      pipeline(fs.createReadStream(m.file), sink as unknown as NodeJS.WritableStream).catch(reject);
    }
  });
}
