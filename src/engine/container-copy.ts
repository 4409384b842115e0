import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Header, type Pack, pack } from 'tar-stream';
import { parseCopyArgs } from '../core/container/copy-args.ts';
import { isActive } from '../core/container/state.ts';
import { InvalidArgumentError, NotFoundError } from '../core/errors.ts';
import { applyLayer } from '../drivers/layers/apply-layer.ts';
import { resolveDirInRoot } from '../drivers/layers/scoped-path.ts';
import { mountOverlay, unmount } from '../drivers/mounts/overlay.ts';
import type { ContainerService } from './containers.ts';

/** The streams `cp` reads and writes for `-`: a tar on stdin (`cp - CTR:DIR`) or stdout (`cp CTR:PATH -`). */
export interface CopyStreams {
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
}

/**
 * `cp` in both directions, as a tar stream between two roots: the container side is always resolved inside the
 * container's root (its symbolic links cannot point the copy at the host), and unpacking goes through the same
 * contained extractor as image layers. A running container is reached through /proc/<pid>/root, so its volumes
 * are seen as it sees them; a stopped one has its root file system mounted for the copy. With `-`, the tar itself
 * is the local side, as docker's archive API carries it. (Loaded only by `cp`: tar-stream stays out of every other
 * command's start-up.)
 */
export async function copyFiles(
  svc: ContainerService,
  src: string,
  dest: string,
  opts: { archive: boolean; followLink: boolean } & CopyStreams,
): Promise<void> {
  const req = parseCopyArgs(src, dest);
  switch (req.kind) {
    case 'tar-out': {
      const stdout = opts.stdout;
      if (!stdout) throw new InvalidArgumentError('cp to "-" needs an output stream for the tar');
      await archiveFromContainer(
        svc,
        req.from.container,
        req.from.path,
        async (_stat, tar) => {
          // Not ended: stdout is the command's, and outlives the copy.
          await pipeline(tar!, stdout, { end: false });
        },
        { statOnly: false },
      );
      return;
    }
    case 'tar-in':
      if (!opts.stdin) throw new InvalidArgumentError('cp from "-" needs an input stream with a tar');
      await extractIntoContainer(svc, req.to.container, req.to.path, opts.stdin);
      return;
    case 'from-container': {
      const rec = svc.get(req.from.container);
      await withContainerRoot(svc, rec.id, async (root) => {
        const source = await resolveInRoot(root, req.from.path, src);
        await copyInto(source, req.dest, {
          root: undefined,
          preserveOwnership: opts.archive,
          followLink: opts.followLink,
        });
      });
      return;
    }
    case 'into-container': {
      const rec = svc.get(req.to.container);
      await withContainerRoot(svc, rec.id, async (root) => {
        await copyInto(path.resolve(req.src), req.to.path, {
          root,
          preserveOwnership: true,
          followLink: opts.followLink,
        });
      });
      return;
    }
  }
}

async function withContainerRoot<T>(
  svc: ContainerService,
  id: string,
  fn: (root: string) => Promise<T>,
): Promise<T> {
  const rec = svc.get(id);
  if (isActive(rec.state.status) && rec.state.pid) return fn(`/proc/${rec.state.pid}/root`);
  const p = svc.paths(id);
  const lowerDirs = await svc.images.lowerDirs(rec.imageId);
  await mountOverlay({ lowerDirs, upperDir: p.upper, workDir: p.work, target: p.rootfs });
  try {
    return await fn(p.rootfs);
  } finally {
    await unmount(p.rootfs);
  }
}

/** The host path of `file` inside `root`, following links only inside it. */
async function resolveInRoot(root: string, file: string, arg: string): Promise<string> {
  const parts = file.split('/').filter((x) => x !== '' && x !== '.');
  const base = parts.pop();
  const dir = await resolveDirInRoot(root, parts, { create: false, label: 'container', entry: file });
  const full = base === undefined ? dir : dir && path.join(dir, base);
  if (!full || !fs.existsSync(full))
    throw new NotFoundError(`could not find the file ${file} in container ${arg.split(':')[0]}`);
  return full;
}

/**
 * Copies `source` (a host path, trusted) to `dest` (inside `root` when given): docker's rules, an existing
 * directory receives the source under its own name, anything else becomes the copy.
 */
async function copyInto(
  source: string,
  dest: string,
  opts: { root: string | undefined; preserveOwnership: boolean; followLink: boolean },
): Promise<void> {
  const srcStat = opts.followLink ? await fsp.stat(source) : await fsp.lstat(source);
  const contentsOnly = source.endsWith('/.') || dest.endsWith('/');
  const destParts = dest.split('/').filter((x) => x !== '' && x !== '.');
  let destDir: string | undefined;
  let name: string;
  const root = opts.root ?? '/';
  const existing = await resolveDirInRoot(root, destParts, {
    create: false,
    label: 'destination',
    entry: dest,
  }).catch(() => undefined);
  if (existing) {
    destDir = existing;
    name = contentsOnly && srcStat.isDirectory() ? '' : path.basename(source);
  } else {
    name = destParts.pop() ?? '';
    destDir = await resolveDirInRoot(root, destParts, { create: false, label: 'destination', entry: dest });
    if (!destDir) throw new NotFoundError(`no such directory: ${path.posix.dirname(dest)}`);
  }
  const tar = packPath(source, name, { followTop: opts.followLink });
  const scratch = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'hbx-cp-'));
  try {
    await applyLayer(tar, destDir, {
      label: 'cp',
      preserveOwnership: opts.preserveOwnership,
      scratchDir: scratch,
    });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** A tar stream of `source` with its top entry named `name` ('' = the directory's contents only). */
function packPath(source: string, name: string, opts: { followTop: boolean }): Readable {
  const p = pack();
  const emit = async (abs: string, rel: string, follow: boolean): Promise<void> => {
    const st = follow ? await fsp.stat(abs) : await fsp.lstat(abs);
    const header: Partial<Header> & { name: string } = {
      name: rel,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: st.mtime,
    };
    if (st.isDirectory()) {
      if (rel !== '') await entry(p, { ...header, type: 'directory' });
      for (const child of (await fsp.readdir(abs)).sort())
        await emit(path.join(abs, child), rel ? `${rel}/${child}` : child, false);
    } else if (st.isSymbolicLink()) {
      await entry(p, { ...header, type: 'symlink', linkname: await fsp.readlink(abs) });
    } else if (st.isFile()) {
      await new Promise<void>((resolve, reject) => {
        const sink = p.entry({ ...header, type: 'file', size: st.size }, (err) =>
          err ? reject(err) : resolve(),
        );
        pipeline(fs.createReadStream(abs), sink).catch(reject);
      });
    }
  };
  void emit(source.replace(/\/\.$/, ''), name, opts.followTop).then(
    () => p.finalize(),
    (err: unknown) => p.destroy(err as Error),
  );
  return p as unknown as Readable;
}

function entry(p: Pack, header: Partial<Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => p.entry(header, (err) => (err ? reject(err) : resolve())));
}

/** What docker's archive API says about a path in a container (`X-Docker-Container-Path-Stat`). */
export interface ContainerPathStat {
  name: string;
  size: number;
  /** Go's os.FileMode: permission bits plus 1<<31 for a directory, 1<<27 for a symbolic link. */
  mode: number;
  mtime: string;
  linkTarget: string;
}

/**
 * `GET /containers/{id}/archive`: the stat of `file` inside the container and a tar of it whose top entry is
 * its base name, handed to `sink` while the container's root is reachable (a stopped one is mounted meanwhile).
 */
export async function archiveFromContainer(
  svc: ContainerService,
  ref: string,
  file: string,
  sink: (stat: ContainerPathStat, tar: Readable | undefined) => Promise<void>,
  opts: { statOnly: boolean },
): Promise<void> {
  const rec = svc.get(ref);
  await withContainerRoot(svc, rec.id, async (root) => {
    const source = await resolveInRoot(root, file, `${rec.name}:${file}`);
    const st = await fsp.lstat(source);
    const link = st.isSymbolicLink() ? await fsp.readlink(source) : '';
    const name = path.posix.basename(file) || '/';
    const stat: ContainerPathStat = {
      name,
      size: st.size,
      // Added, not OR'ed: JavaScript's bitwise operators are 32-bit signed and 1<<31 would turn negative.
      mode: (st.mode & 0o777) + (st.isDirectory() ? 2 ** 31 : 0) + (st.isSymbolicLink() ? 2 ** 27 : 0),
      mtime: st.mtime.toISOString(),
      linkTarget: link,
    };
    if (opts.statOnly) return sink(stat, undefined);
    const top = file.endsWith('/.') ? '' : name === '/' ? '' : name;
    await sink(stat, packPath(source, top, { followTop: false }));
  });
}

/**
 * `PUT /containers/{id}/archive`: unpacks a tar into the directory `dir` inside the container, through the same
 * contained extractor as image layers (no entry can land outside the container's root).
 */
export async function extractIntoContainer(
  svc: ContainerService,
  ref: string,
  dir: string,
  tar: NodeJS.ReadableStream,
): Promise<void> {
  const rec = svc.get(ref);
  await withContainerRoot(svc, rec.id, async (root) => {
    const parts = dir.split('/').filter((x) => x !== '' && x !== '.');
    const destDir = await resolveDirInRoot(root, parts, { create: false, label: 'destination', entry: dir });
    if (!destDir) {
      // Not found, or found but not a directory: docker's CLI stats first and says which.
      const found = await resolveInRoot(root, dir, rec.name).catch(() => undefined);
      if (!found) throw new NotFoundError(`Could not find the file ${dir} in container ${rec.name}`);
      throw new InvalidArgumentError(`destination "${rec.name}:${dir}" must be a directory`);
    }
    const scratch = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'hbx-cp-'));
    try {
      await applyLayer(tar as Readable, destDir, {
        label: 'cp',
        preserveOwnership: true,
        scratchDir: scratch,
      });
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });
}
