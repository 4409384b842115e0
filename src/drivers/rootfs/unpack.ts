import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { Header } from 'tar-stream';
import { ConflictError, HyperboxError, InvalidArgumentError } from '../../core/errors.ts';
import { entryComponents } from '../../core/image/layer-entry.ts';
import { type EntryMeta, feedExtractor, type TarEntry } from '../layers/tar-feed.ts';
import type { DirChain, RootDir } from './in-root.ts';
import type { Dir, Node } from './pinned.ts';

/**
 * Unpacks a tar into a directory of a tree reached through descriptors (see in-root.ts), with docker's rules for
 * `cp`: entry names are confined to the destination (a leading "/" is dropped, a ".." above it is refused),
 * directories on the way are followed inside the tree's root and made (0755) when missing, the final name is
 * never followed (what is there is removed first, a directory merged with a directory), and with
 * `noOverwriteDirNonDir` a directory is never replaced by a non-directory nor the reverse. Files are created
 * O_EXCL|O_NOFOLLOW, links written as links, hard links resolved inside the destination, devices and FIFOs made
 * by mknod. Owners as `owner` says; modes and mtimes from the tar (directories' once everything below is in).
 * The tar is hostile: a container made it, or a client sent it.
 */
export interface UnpackOptions {
  /** From the tar (docker's daemon), one owner for everything, or none: files belong to whoever unpacks. */
  owner: 'tar' | 'none' | { uid: number; gid: number };
  noOverwriteDirNonDir: boolean;
  /** docker's RebaseArchiveEntries: the archive's top entry `from` is unpacked as `to`. */
  rebase?: { from: string; to: string };
  /** The destination as messages name it (`/data` in a container, `/tmp/out` on the host). */
  display: (pathInRoot: string) => string;
}

export async function unpackInto(
  tar: Readable,
  tree: RootDir,
  dest: DirChain,
  opts: UnpackOptions,
): Promise<void> {
  const { extract } = await import('../layers/tar-stream.ts');
  const ex = extract();
  ex.on('error', () => {}); // errors reach us through the iterator and the feeding promise
  const feeding = feedExtractor(tar, ex);
  feeding.catch(() => {}); // handled below; this only keeps an early failure from being "unhandled"
  const u = new Unpacker(tree, dest, opts);
  try {
    for await (const e of ex as AsyncIterable<TarEntry>) {
      await u.entry(e);
      e.resume();
    }
    await feeding;
    u.finish();
  } catch (err) {
    ex.destroy();
    await feeding.catch(() => {});
    throw err;
  } finally {
    u.close();
  }
}

class Unpacker {
  readonly #tree: RootDir;
  readonly #dest: DirChain;
  readonly #opts: UnpackOptions;
  readonly #destPath: string;
  /** The parent of the last entry, kept pinned for the next (a tar lists a directory's entries together). */
  #parent: { key: string; chain: DirChain & { close(): void } } | undefined;
  /** Something was removed since the chain was pinned: resolve again for the next entry (not this one's parent). */
  #stale = false;
  readonly #dirs: { components: string[]; meta: EntryMeta }[] = [];

  constructor(tree: RootDir, dest: DirChain, opts: UnpackOptions) {
    this.#tree = tree;
    this.#dest = dest;
    this.#opts = opts;
    this.#destPath = `/${dest.names.join('/')}`;
  }

  #show(components: readonly string[]): string {
    const p = [...this.#dest.names, ...components].join('/');
    return this.#opts.display(`/${p}`);
  }

  #components(name: string): string[] {
    let parts: string[];
    try {
      parts = entryComponents(name, 'cp');
    } catch (err) {
      throw new InvalidArgumentError(
        `archive entry ${JSON.stringify(name)} would land outside ${this.#opts.display(this.#destPath)}`,
        { cause: err },
      );
    }
    const r = this.#opts.rebase;
    if (!r) return parts;
    const from = r.from === '.' || r.from === '/' ? [] : entryComponents(r.from, 'cp');
    const to = r.to === '.' ? [] : entryComponents(r.to, 'cp');
    if (from.every((c, i) => parts[i] === c)) return [...to, ...parts.slice(from.length)];
    return parts;
  }

  async entry(e: TarEntry): Promise<void> {
    const h = e.header;
    try {
      await this.#entry(e, h);
    } catch (err) {
      if (err instanceof HyperboxError) throw err;
      throw new InvalidArgumentError(
        `cannot unpack archive entry ${JSON.stringify(h.name)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async #entry(e: TarEntry, h: Header): Promise<void> {
    const type: string = h.type ?? 'file';
    if (type === 'pax-global-header') return;
    const components = this.#components(h.name);
    const meta: EntryMeta = {
      mode: (h.mode ?? 0o644) & 0o7777,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      mtime: h.mtime ?? new Date(0),
    };
    // The destination itself (`.` in a tar of a directory's contents): merged, as docker does.
    if (components.length === 0) return;
    const base = components.at(-1)!;
    const parent = this.#parentDir(components.slice(0, -1));
    const existing = parent.lookup(base);
    if (existing) {
      const isDir = existing.kind === 'dir';
      existing.close();
      const wantDir = type === 'directory';
      if (this.#opts.noOverwriteDirNonDir && isDir !== wantDir) {
        throw new ConflictError(
          isDir
            ? `cannot overwrite directory ${JSON.stringify(this.#show(components))} with non-directory ${JSON.stringify(this.#show([]))}`
            : `cannot overwrite non-directory ${JSON.stringify(this.#show(components))} with directory ${JSON.stringify(this.#show([]))}`,
        );
      }
      if (!(isDir && wantDir)) {
        parent.removeAll(base);
        this.#stale = true; // what was removed may have been a directory the cached chain pins
      }
    }
    const owner = this.#owner(meta);
    switch (type) {
      case 'directory':
        parent.mkdirIfMissing(base, 0o700);
        this.#dirs.push({ components, meta });
        return;
      case 'file':
      case 'contiguous-file': {
        const fd = parent.createFile(base, 0o600);
        try {
          await writeAll(fd, e);
          if (owner) fs.fchownSync(fd, owner.uid, owner.gid);
          fs.fchmodSync(fd, meta.mode); // after chown, which clears set-id bits
          fs.futimesSync(fd, meta.mtime, meta.mtime);
        } finally {
          this.#tree.release(fd);
        }
        return;
      }
      case 'symlink':
        parent.symlink(h.linkname ?? '', base);
        if (owner) parent.lchown(base, owner.uid, owner.gid);
        parent.lutimes(base, meta.mtime);
        return;
      case 'link':
        this.#hardlink(h, parent, base);
        return;
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        await parent.mknod(base, {
          type: type === 'fifo' ? 'p' : type === 'character-device' ? 'c' : 'b',
          major: h.devmajor ?? 0,
          minor: h.devminor ?? 0,
        });
        const node = parent.lookup(base);
        if (!node) return; // removed meanwhile
        try {
          node.setMeta({ ...(owner ?? {}), mode: meta.mode, mtime: meta.mtime });
        } finally {
          node.close();
        }
        return;
      }
      default:
        throw new InvalidArgumentError(
          `archive entry ${JSON.stringify(h.name)} has unsupported type ${JSON.stringify(type)}`,
        );
    }
  }

  #owner(meta: EntryMeta): { uid: number; gid: number } | undefined {
    const o = this.#opts.owner;
    if (o === 'none') return undefined;
    if (o === 'tar') return { uid: meta.uid, gid: meta.gid };
    return o;
  }

  /** The directory for `components` below the destination: followed inside the root, made when missing. */
  #parentDir(components: string[]) {
    const key = components.join('/');
    if (this.#parent?.key !== key || this.#stale) {
      this.#stale = false;
      this.#dropParent();
      const chain = this.#tree.resolveDir(key, { create: true, from: this.#dest });
      this.#parent = { key, chain };
    }
    return this.#parent!.chain.dirs.at(-1)!;
  }

  #dropParent(): void {
    this.#parent?.chain.close();
    this.#parent = undefined;
  }

  /** A hard link's target is a name in the destination, found without following its final component. */
  #hardlink(h: Header, parent: Dir, base: string): void {
    const linkname = h.linkname ?? '';
    const target = this.#components(linkname);
    const missing = () =>
      new InvalidArgumentError(
        `archive entry ${JSON.stringify(h.name)} is a hard link to ${JSON.stringify(linkname)}, which is not in it`,
      );
    if (target.length === 0) throw missing();
    let r: ReturnType<RootDir['resolve']>;
    try {
      r = this.#tree.resolve(target.join('/'), { follow: false, from: this.#dest });
    } catch (err) {
      throw Object.assign(missing(), { cause: err });
    }
    try {
      const node: Node | undefined = r.node;
      if (!node || !r.parent) throw missing();
      if (node.kind === 'dir')
        throw new InvalidArgumentError(
          `archive entry ${JSON.stringify(h.name)} is a hard link to a directory`,
        );
      parent.link(r.parent, r.name, base);
    } finally {
      r.release();
    }
  }

  /** Directories' metadata, deepest first, on whatever directory is at each name now (nothing else). */
  finish(): void {
    this.#dropParent();
    const dirs = [...this.#dirs].sort((a, b) => b.components.length - a.components.length);
    for (const { components, meta } of dirs) {
      const r = this.#tree.resolve(components.join('/'), { follow: false, from: this.#dest });
      try {
        if (r.node?.kind === 'dir')
          r.node.setMeta({ ...(this.#owner(meta) ?? {}), mode: meta.mode, mtime: meta.mtime });
      } finally {
        r.release();
      }
    }
  }

  close(): void {
    this.#dropParent();
  }
}

/** An entry's content, gathered into writes of up to 1 MiB (far fewer system calls than tar's small chunks). */
async function writeAll(fd: number, e: TarEntry): Promise<void> {
  const pending: Buffer[] = [];
  let bytes = 0;
  const flush = async () => {
    if (bytes === 0) return;
    const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending, bytes);
    pending.length = 0;
    bytes = 0;
    let off = 0;
    while (off < buf.length) {
      off += await new Promise<number>((resolve, reject) =>
        fs.write(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n))),
      );
    }
  };
  for await (const chunk of e) {
    pending.push(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    if (bytes >= 1 << 20) await flush();
  }
  await flush();
}
