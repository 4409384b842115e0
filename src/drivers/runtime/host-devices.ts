import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { OciDevice } from '../../core/container/oci-types.ts';

// Created by runc itself in every container, or file systems of their own.
const SKIP = new Set([
  'null',
  'zero',
  'full',
  'random',
  'urandom',
  'tty',
  'console',
  'ptmx',
  'pts',
  'shm',
  'mqueue',
]);

/** The host's device nodes for --privileged, as OCI `linux.devices` entries (paths as seen in the container). */
export async function listHostDevices(devRoot = '/dev'): Promise<OciDevice[]> {
  const out: OciDevice[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (dir === devRoot && SKIP.has(entry.name)) continue;
      if (entry.isDirectory()) {
        await walk(full);
        continue;
      }
      if (!entry.isCharacterDevice() && !entry.isBlockDevice()) continue;
      const st = await lstat(full, { bigint: true });
      out.push({
        path: path.join('/dev', path.relative(devRoot, full)),
        type: entry.isCharacterDevice() ? 'c' : 'b',
        major: Number(((st.rdev >> 8n) & 0xfffn) | ((st.rdev >> 32n) & ~0xfffn)),
        minor: Number((st.rdev & 0xffn) | ((st.rdev >> 12n) & ~0xffn)),
        fileMode: Number(st.mode & 0o777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
      });
    }
  };
  await walk(devRoot);
  return out;
}
