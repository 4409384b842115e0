import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { assertsDirectory, containerPath, goFileMode } from '../../core/container/copy-plan.ts';
import { isActive } from '../../core/container/state.ts';
import { resolveUser } from '../../core/container/user.ts';
import { ConflictError, HyperboxError, InvalidArgumentError, NotFoundError } from '../../core/errors.ts';
import { mountOverlay, unmount } from '../../drivers/mounts/overlay.ts';
import { type Resolved, RootDir } from '../../drivers/rootfs/in-root.ts';
import { packNode } from '../../drivers/rootfs/pack.ts';
import { unpackInto } from '../../drivers/rootfs/unpack.ts';
import type { ContainerArchive, ContainerPathStat, ContainerRecord } from '../api/containers.ts';
import type { ContainerPaths } from './files.ts';
import { userFilesIn } from './rootfs-read.ts';

/**
 * docker's archive API on one container, in-process: the stat of a path (HEAD), a tar of it (GET), a tar unpacked
 * into a directory (PUT). Every path is resolved inside the container's root by the rootfs driver, never by name
 * from the host's root: a running container through /proc/<pid>/root (its volumes as it sees them), a stopped one
 * on its root file system, mounted for the call. Messages name paths as the container sees them. (Loaded only by
 * `cp` and the archive routes: tar-stream stays out of every other command's start-up.)
 */

/**
 * What the archive needs of the containers: a record by reference, its directories, and its image's layers (a
 * stopped container's overlay is mounted for the call). Not the service: this file is loaded only on demand.
 */
export interface ArchiveContext {
  get(ref: string): ContainerRecord;
  paths(id: string): ContainerPaths;
  lowerDirs(imageId: string): Promise<string[]>;
}

/** The archive API of the in-process engine. */
export function localArchive(ctx: ArchiveContext): ContainerArchive {
  return {
    check: async (ref) => {
      ctx.get(ref);
    },
    stat: (ref, file) => statContainerPath(ctx, ref, file),
    get: (ref, file, sink) => archiveFromContainer(ctx, ref, file, sink),
    put: (ref, dir, tar, opts) => extractIntoContainer(ctx, ref, dir, tar, opts),
  };
}

/** `HEAD /containers/{id}/archive`. */
export function statContainerPath(
  ctx: ArchiveContext,
  ref: string,
  file: string,
): Promise<ContainerPathStat> {
  return withContainerTree(ctx, ref, async (tree, rec) => {
    const found = lookupSource(tree, rec, file);
    try {
      return statOf(tree, found, file);
    } finally {
      found.release();
    }
  });
}

/**
 * `GET /containers/{id}/archive`: the stat of `file` and a tar of it whose top entry is its base name ("." for
 * "dir/.", "/" for the root, as docker names them), handed to `sink` while the container's tree is open.
 */
export function archiveFromContainer(
  ctx: ArchiveContext,
  ref: string,
  file: string,
  sink: (stat: ContainerPathStat, tar: Readable) => Promise<void>,
): Promise<void> {
  return withContainerTree(ctx, ref, async (tree, rec) => {
    const found = lookupSource(tree, rec, file);
    try {
      const stat = statOf(tree, found, file);
      await sink(stat, await packNode(found.node!, stat.name));
    } finally {
      found.release();
    }
  });
}

/**
 * `PUT /containers/{id}/archive`: unpacks a tar into the directory `dir` (a link to one is followed inside the
 * container). Owners come from the tar, as docker's daemon keeps them; with `copyUIDGID` and a container that has a
 * user, everything belongs to that user (looked up in the container's own /etc/passwd, where docker looks on the
 * host). `noOverwriteDirNonDir`: never a directory replaced by a non-directory or the reverse.
 */
export function extractIntoContainer(
  ctx: ArchiveContext,
  ref: string,
  dir: string,
  tar: Readable,
  opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean },
): Promise<void> {
  return withContainerTree(ctx, ref, async (tree, rec) => {
    const abs = containerPath(dir);
    let chain: ReturnType<RootDir['resolveDir']>;
    try {
      chain = tree.resolveDir(abs);
    } catch (err) {
      throw inContainerTerms(err, rec, dir, 'extraction point is not a directory');
    }
    try {
      const user =
        opts.copyUIDGID && rec.config.user ? resolveUser(rec.config.user, userFilesIn(tree)) : undefined;
      await unpackInto(tar, tree, chain, {
        owner: user ? { uid: user.uid, gid: user.gid } : 'tar',
        noOverwriteDirNonDir: opts.noOverwriteDirNonDir,
        display: (p) => p,
      });
    } finally {
      chain.close();
    }
  });
}

/**
 * Runs `fn` with the container's tree open. Running: its root as its processes see it; the descriptor pins it, so
 * an exit meanwhile does not move the copy elsewhere. Stopped: its overlay mounted on its rootfs directory, and
 * unmounted when `fn` is done (every descriptor into it closed first).
 */
async function withContainerTree<T>(
  ctx: ArchiveContext,
  ref: string,
  fn: (tree: RootDir, rec: ContainerRecord) => Promise<T>,
): Promise<T> {
  const rec = ctx.get(ref);
  const label = `container ${rec.name}`;
  const p = ctx.paths(rec.id);
  if (isActive(rec.state.status) && rec.state.pid) {
    return RootDir.with(`/proc/${rec.state.pid}/root`, label, (tree) => {
      // The root it pivoted into is our overlay mount: anything else means the recorded pid is no longer the
      // container's (it exited and the number was reused), and that root may be the host's.
      const ours = fs.statSync(p.rootfs, { throwIfNoEntry: false });
      const st = tree.root.self(false).stat;
      if (!ours || ours.dev !== st.dev || ours.ino !== st.ino)
        throw new ConflictError(
          `container ${rec.name} is not running (its process ${rec.state.pid} is gone)`,
        );
      return fn(tree, rec);
    });
  }
  const lowerDirs = await ctx.lowerDirs(rec.imageId);
  await mountOverlay({ lowerDirs, upperDir: p.upper, workDir: p.work, target: p.rootfs });
  try {
    return await RootDir.with(p.rootfs, label, (tree) => fn(tree, rec));
  } finally {
    await unmount(p.rootfs);
  }
}

/**
 * The source of a copy, docker's ResolvePath: the directories on the way followed inside the root, the final name
 * too when the path asserts a directory ("dir/", "link/."), else a link is the link itself.
 */
function lookupSource(
  tree: RootDir,
  rec: ContainerRecord,
  file: string,
): Resolved & { node: NonNullable<Resolved['node']> } {
  const abs = containerPath(file);
  let r: Resolved;
  try {
    r = tree.resolve(abs, { follow: assertsDirectory(abs) });
  } catch (err) {
    throw inContainerTerms(err, rec, file, 'not a directory');
  }
  if (!r.node) {
    r.release();
    throw notFound(rec, file);
  }
  if (assertsDirectory(abs) && r.node.kind !== 'dir') {
    r.release();
    throw new InvalidArgumentError(`${rec.name}:${file}: not a directory`);
  }
  return r as Resolved & { node: NonNullable<Resolved['node']> };
}

function statOf(tree: RootDir, found: Resolved, file: string): ContainerPathStat {
  const node = found.node!;
  const st = node.stat;
  const abs = containerPath(file);
  let linkTarget = '';
  if (node.kind === 'symlink') {
    // docker's form: the link evaluated inside the container, an absolute path, whether it exists or not.
    try {
      const t = tree.resolve(abs, { follow: true });
      linkTarget = t.path;
      t.release();
    } catch {
      linkTarget = found.parent ? found.parent.readlink(found.name) : '';
    }
  }
  return {
    name: abs === '/' ? '/' : path.posix.basename(abs) || '/',
    size: st.size,
    mode: goFileMode(node.kind, st.mode),
    mtime: st.mtime.toISOString(),
    linkTarget,
  };
}

function notFound(rec: ContainerRecord, file: string): NotFoundError {
  return new NotFoundError(`Could not find the file ${file} in container ${rec.name}`);
}

/** A failed lookup in docker's words: missing is "Could not find the file", a file on the way is `notDir`. */
function inContainerTerms(err: unknown, rec: ContainerRecord, file: string, notDir: string): unknown {
  if (!(err instanceof HyperboxError)) return err;
  if (err.code === 'NotFound') return new NotFoundError(notFound(rec, file).message, { cause: err });
  if (/not a directory$/.test(err.message)) return new InvalidArgumentError(`${rec.name}:${file}: ${notDir}`);
  return err;
}
