import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Header } from 'tar-stream';
import { HyperboxError, InternalError, InvalidArgumentError } from '../../core/errors.ts';
import { classifyWhiteout, entryComponents, escapes } from '../../core/image/layer-entry.ts';
import { assertNoSymlinkBetween, resolveDirInRoot } from './scoped-path.ts';
import { makeNodes, type NodeSpec, setXattrs, type XattrSpec } from './special-files.ts';
import { type EntryMeta, feedExtractor, type TarEntry } from './tar-feed.ts';

/**
 * Unpacks one uncompressed layer tarball into `root` (an empty, private directory) as an overlayfs lower layer:
 * OCI whiteouts become overlay whiteouts (0/0 character devices), opaque markers become the
 * `trusted.overlay.opaque=y` attribute, and modes, owners, times, links, devices and fifos are kept.
 *
 * Containment: entry and link names are cleaned by core/image/layer-entry.ts ("/" is the layer root, ".." above it
 * is refused); parent directories are resolved through resolveDirInRoot (symbolic links followed inside `root`
 * only); the final component is never followed: whatever is there is removed first. Work that must wait for the
 * end (device nodes, attributes, directory modes) is dropped when a later entry replaces its path, and re-checked
 * for symbolic links before it runs.
 */
export interface ApplyOptions {
  label: string; // the layer, for messages: `sha256:ab12…`
  preserveOwnership: boolean; // lchown to the entry's uid/gid (needs root)
  scratchDir: string; // for the setfattr batch file
}

export interface ApplyResult {
  size: number; // bytes of regular file content
  opaqueDirs: string[]; // relative paths of directories marked opaque
}

/** Attributes a layer may carry. Others (trusted.overlay.* above all) would change how overlayfs reads the layer. */
function allowedXattr(name: string): boolean {
  return name.startsWith('user.') || name === 'security.capability';
}

export async function applyLayer(tar: Readable, root: string, opts: ApplyOptions): Promise<ApplyResult> {
  const { extract } = await import('./tar-stream.ts');
  const ex = extract();
  // Errors reach us through the iterator and the pipeline; without a listener streamx would also throw them.
  ex.on('error', () => {});
  const unpacker = new Unpacker(root, opts);
  const feeding = feedExtractor(tar, ex);
  feeding.catch(() => {}); // handled below; this only keeps an early failure from being "unhandled"
  try {
    for await (const entry of ex) {
      await unpacker.entry(entry);
      entry.resume();
    }
    await feeding;
  } catch (err) {
    ex.destroy();
    await feeding.catch(() => {});
    throw err;
  }
  await unpacker.finish();
  return { size: unpacker.size, opaqueDirs: unpacker.opaqueDirs() };
}

class Unpacker {
  readonly #root: string;
  readonly #opts: ApplyOptions;
  size = 0;
  // Deferred work, keyed by host path so that a replaced path drops it.
  readonly #nodes = new Map<string, NodeSpec & EntryMeta>();
  readonly #xattrs = new Map<string, XattrSpec[]>();
  readonly #dirs = new Map<string, EntryMeta>();
  readonly #opaque = new Set<string>();

  constructor(root: string, opts: ApplyOptions) {
    this.#root = root;
    this.#opts = opts;
  }

  async entry(entry: TarEntry): Promise<void> {
    const h = entry.header;
    try {
      await this.#entry(entry, h);
    } catch (err) {
      if (err instanceof HyperboxError) throw err;
      throw new InvalidArgumentError(
        `layer ${this.#opts.label}: cannot unpack entry ${JSON.stringify(h.name)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async #entry(entry: TarEntry, h: Header): Promise<void> {
    const label = this.#opts.label;
    const components = entryComponents(h.name, label);
    const type = h.type ?? 'file';
    const meta: EntryMeta = {
      mode: (h.mode ?? 0o644) & 0o7777,
      uid: h.uid ?? 0,
      gid: h.gid ?? 0,
      mtime: h.mtime ?? new Date(0),
    };
    if (components.length === 0) {
      if (type !== 'directory') throw escapes(label, h.name);
      this.#dirs.set(this.#root, meta);
      return;
    }
    const base = components.at(-1)!;
    const parent = await resolveDirInRoot(this.#root, components.slice(0, -1), {
      create: true,
      label,
      entry: h.name,
    });
    if (parent === undefined) throw new InternalError('unreachable: parent resolution with create');
    const wh = classifyWhiteout(base, label, h.name);
    if (wh.kind === 'meta') return;
    if (wh.kind === 'opaque') {
      this.#opaque.add(parent);
      return;
    }
    if (wh.kind === 'whiteout') {
      const target = path.join(parent, wh.target);
      await this.#clear(target);
      this.#nodes.set(target, {
        path: target,
        type: 'c',
        major: 0,
        minor: 0,
        mode: 0,
        uid: 0,
        gid: 0,
        mtime: meta.mtime,
      });
      return;
    }
    const target = path.join(parent, base);
    const xattrs = this.#xattrsOf(h, target);
    switch (type) {
      case 'directory': {
        const st = await fs.lstat(target).catch(() => undefined);
        if (!st?.isDirectory()) {
          await this.#clear(target);
          await fs.mkdir(target, { mode: 0o700 });
        }
        this.#dirs.set(target, meta);
        break;
      }
      case 'file':
      case 'contiguous-file':
        await this.#clear(target);
        await this.#writeFile(entry, target, meta);
        break;
      case 'symlink':
        await this.#clear(target);
        await fs.symlink(h.linkname ?? '', target);
        if (this.#opts.preserveOwnership) await fs.lchown(target, meta.uid, meta.gid);
        await fs.lutimes(target, meta.mtime, meta.mtime);
        return; // no attributes on symbolic links
      case 'link':
        await this.#hardlink(h, target);
        return; // a hard link shares its target's metadata
      case 'character-device':
      case 'block-device':
      case 'fifo':
        await this.#clear(target);
        this.#nodes.set(target, {
          path: target,
          type: type === 'fifo' ? 'p' : type === 'character-device' ? 'c' : 'b',
          major: h.devmajor ?? 0,
          minor: h.devminor ?? 0,
          ...meta,
        });
        break;
      default:
        throw new InvalidArgumentError(
          `layer ${label}: entry ${JSON.stringify(h.name)} has unsupported type ${JSON.stringify(type)}`,
        );
    }
    if (xattrs.length > 0) this.#xattrs.set(target, xattrs);
  }

  #xattrsOf(h: Header, target: string): XattrSpec[] {
    const pax = h.pax as Record<string, string> | null | undefined;
    if (!pax) return [];
    const out: XattrSpec[] = [];
    for (const [key, value] of Object.entries(pax)) {
      let name: string | undefined;
      let bytes: Buffer | undefined;
      if (key.startsWith('SCHILY.xattr.')) {
        name = key.slice('SCHILY.xattr.'.length);
        bytes = Buffer.from(value, 'utf8');
      } else if (key.startsWith('LIBARCHIVE.xattr.')) {
        name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
        bytes = Buffer.from(value, 'base64');
      }
      if (name !== undefined && bytes !== undefined && allowedXattr(name))
        out.push({ path: target, name, value: bytes });
    }
    return out;
  }

  /** Removes whatever is at `p` (never following it) and forgets deferred work at or below it. */
  async #clear(p: string): Promise<void> {
    const below = `${p}/`;
    for (const map of [this.#nodes, this.#xattrs, this.#dirs]) {
      for (const key of map.keys()) if (key === p || key.startsWith(below)) map.delete(key);
    }
    for (const key of this.#opaque) if (key === p || key.startsWith(below)) this.#opaque.delete(key);
    await fs.rm(p, { recursive: true, force: true });
  }

  async #writeFile(entry: TarEntry, target: string, meta: EntryMeta): Promise<void> {
    // 'wx' = O_CREAT|O_EXCL: never opens through a symbolic link, never writes an existing file.
    const fh = await fs.open(target, 'wx', 0o600);
    try {
      // Gather the tar reader's small chunks into writes of up to 1 MiB: far fewer syscalls and thread-pool trips.
      const pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        if (pendingBytes === 0) return;
        await fh.write(pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes));
        pending.length = 0;
        pendingBytes = 0;
      };
      for await (const chunk of entry) {
        pending.push(chunk as Buffer);
        pendingBytes += (chunk as Buffer).length;
        this.size += (chunk as Buffer).length;
        if (pendingBytes >= 1 << 20) await flush();
      }
      await flush();
      if (this.#opts.preserveOwnership) await fh.chown(meta.uid, meta.gid);
      await fh.chmod(meta.mode); // after chown, which clears set-id bits
      await fh.utimes(meta.mtime, meta.mtime);
    } finally {
      await fh.close();
    }
  }

  async #hardlink(h: Header, target: string): Promise<void> {
    const label = this.#opts.label;
    const linkname = h.linkname ?? '';
    const components = entryComponents(linkname, label);
    if (components.length === 0) throw escapes(label, linkname);
    const dir = await resolveDirInRoot(this.#root, components.slice(0, -1), {
      create: false,
      label,
      entry: h.name,
    });
    const source = dir === undefined ? undefined : path.join(dir, components.at(-1)!);
    const st = source === undefined ? undefined : await fs.lstat(source).catch(() => undefined);
    if (source === undefined || st === undefined) {
      throw new InvalidArgumentError(
        `layer ${label}: hard link ${JSON.stringify(h.name)} points to ${JSON.stringify(linkname)}, which is not in the layer`,
      );
    }
    if (st.isDirectory()) {
      throw new InvalidArgumentError(
        `layer ${label}: hard link ${JSON.stringify(h.name)} points to a directory`,
      );
    }
    if (source === target) return;
    await this.#clear(target);
    await fs.link(source, target);
  }

  /** The deferred work, in an order that works: nodes, their metadata, attributes, then directories deepest first. */
  async finish(): Promise<void> {
    const nodes = [...this.#nodes.values()];
    for (const n of nodes) await assertNoSymlinkBetween(this.#root, n.path);
    await makeNodes(nodes);
    for (const n of nodes) {
      if (this.#opts.preserveOwnership) await fs.lchown(n.path, n.uid, n.gid);
      await fs.chmod(n.path, n.mode);
      await fs.lutimes(n.path, n.mtime, n.mtime);
    }
    const xattrs = [...this.#xattrs.values()].flat();
    for (const dir of this.#opaque) {
      xattrs.push({ path: dir, name: 'trusted.overlay.opaque', value: Buffer.from('y') });
    }
    for (const x of xattrs) await assertNoSymlinkBetween(this.#root, x.path);
    await setXattrs(xattrs, this.#opts.scratchDir);
    const dirs = [...this.#dirs.entries()].sort((a, b) => b[0].length - a[0].length);
    for (const [dir, meta] of dirs) {
      if (dir !== this.#root) await assertNoSymlinkBetween(this.#root, dir);
      const st = await fs.lstat(dir);
      if (!st.isDirectory()) continue;
      if (this.#opts.preserveOwnership) await fs.lchown(dir, meta.uid, meta.gid);
      await fs.chmod(dir, meta.mode);
      await fs.lutimes(dir, meta.mtime, meta.mtime);
    }
    // Directories created implicitly (no entry of their own) keep 0755 from mkdir, as docker does.
  }

  opaqueDirs(): string[] {
    return [...this.#opaque].map((d) => path.relative(this.#root, d) || '.');
  }
}
