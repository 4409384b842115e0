import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Header, Pack } from 'tar-stream';

/**
 * Turns a directory into an uncompressed tar stream (a root file system for `import`), without following any
 * symbolic link. Kept: modes (set-id and sticky bits too), owners, mtimes, symbolic and hard links, device nodes,
 * fifos, and text-valued `user.*` attributes (via getfattr; tar-stream's PAX writer only handles text). Sockets are
 * skipped, as tar does. Entries are sorted, so the same tree gives the same bytes.
 */
export async function packDirectory(dir: string): Promise<Readable> {
  const { pack } = await import('./tar-stream.ts');
  const p = pack();
  const xattrs = await readXattrs(dir);
  void writeTree(p, dir, xattrs).then(
    () => p.finalize(),
    (err: unknown) => p.destroy(err as Error),
  );
  return p as unknown as Readable;
}

async function writeTree(p: Pack, root: string, xattrs: Map<string, Record<string, string>>): Promise<void> {
  const inodes = new Map<string, string>(); // dev:ino → first name, for hard links
  async function walk(rel: string): Promise<void> {
    const names = (await fsp.readdir(path.join(root, rel))).sort();
    for (const name of names) {
      const relName = rel === '' ? name : `${rel}/${name}`;
      const abs = path.join(root, relName);
      const st = await fsp.lstat(abs);
      const header: Partial<Header> & { name: string; pax?: Record<string, string> } = {
        name: relName,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtime: st.mtime,
      };
      const attrs = xattrs.get(abs);
      if (attrs)
        header.pax = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [`SCHILY.xattr.${k}`, v]));
      if (!st.isDirectory() && st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = inodes.get(key);
        if (first !== undefined) {
          await entry(p, { ...header, type: 'link', linkname: first, size: 0 });
          continue;
        }
        inodes.set(key, relName);
      }
      if (st.isDirectory()) {
        await entry(p, { ...header, type: 'directory' });
        await walk(relName);
      } else if (st.isFile()) {
        await new Promise<void>((resolve, reject) => {
          const sink = p.entry({ ...header, type: 'file', size: st.size }, (err) =>
            err ? reject(err) : resolve(),
          );
          pipeline(fs.createReadStream(abs), sink as unknown as NodeJS.WritableStream).catch(reject);
        });
      } else if (st.isSymbolicLink()) {
        await entry(p, { ...header, type: 'symlink', linkname: await fsp.readlink(abs) });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        await entry(p, {
          ...header,
          type: st.isCharacterDevice() ? 'character-device' : 'block-device',
          devmajor: Number((BigInt(st.rdev) >> 8n) & 0xfffn) | Number((BigInt(st.rdev) >> 32n) & ~0xfffn),
          devminor: Number(BigInt(st.rdev) & 0xffn) | Number((BigInt(st.rdev) >> 12n) & 0xffffff00n),
        });
      } else if (st.isFIFO()) {
        await entry(p, { ...header, type: 'fifo' });
      }
    }
  }
  await walk('');
}

function entry(p: Pack, header: Partial<Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    p.entry(header, (err) => (err ? reject(err) : resolve()));
  });
}

/** Every text-valued user.* attribute under `dir`, by absolute path; empty when getfattr is missing. */
function readXattrs(dir: string): Promise<Map<string, Record<string, string>>> {
  return new Promise((resolve) => {
    const out = new Map<string, Record<string, string>>();
    const child = spawn(
      'getfattr',
      ['-R', '-P', '-h', '-d', '-m', '^user\\.', '-e', 'hex', '--absolute-names', dir],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      text += d;
    });
    child.on('error', () => resolve(out));
    child.on('close', () => {
      let current: string | undefined;
      for (const line of text.split('\n')) {
        if (line.startsWith('# file: ')) current = unescapeOctal(line.slice(8));
        else if (current !== undefined && /^[^=]+=0x[0-9a-f]*$/.test(line)) {
          const eq = line.indexOf('=');
          const value = Buffer.from(line.slice(eq + 3), 'hex');
          if (!/^[\x20-\x7e]*$/.test(value.toString('latin1'))) continue; // binary: not representable
          const attrs = out.get(current) ?? {};
          attrs[line.slice(0, eq)] = value.toString('latin1');
          out.set(current, attrs);
        }
      }
      resolve(out);
    });
  });
}

function unescapeOctal(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(...Buffer.from(s[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
