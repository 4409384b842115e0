import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseCopyArgs } from '../../core/container/copy-args.ts';
import {
  assertsDirectory,
  type CopyDest,
  type CopyPlan,
  type CopySource,
  followedSource,
  goClean,
  kindOfGoMode,
  planCopy,
  preserveTrailing,
  splitPathDirEntry,
} from '../../core/container/copy-plan.ts';
import { HyperboxError, InvalidArgumentError, NotFoundError } from '../../core/errors.ts';
import { RootDir } from '../../drivers/rootfs/in-root.ts';
import { packNode } from '../../drivers/rootfs/pack.ts';
import { unpackInto } from '../../drivers/rootfs/unpack.ts';
import type { ContainerArchive, ContainerPathStat, CopyStreams } from '../api/containers.ts';

/**
 * `cp SRC DEST` the way docker's CLI does it: stat the container side, plan with docker's rules
 * (core/container/copy-plan.ts), then a tar between the local path and the container. The local side goes through
 * the same rootfs driver as the container's: a tar coming out of a container is hostile, and unpacking it is
 * confined to the destination directory (its links written, never followed; its ".." refused).
 */
export async function copyFiles(
  archive: ContainerArchive,
  src: string,
  dest: string,
  opts: { archive: boolean; followLink: boolean } & CopyStreams,
): Promise<void> {
  const req = parseCopyArgs(src, dest);
  // First, so that a missing container is named as such, not taken for a missing path.
  await archive.check(
    req.kind === 'from-container' || req.kind === 'tar-out' ? req.from.container : req.to.container,
  );
  switch (req.kind) {
    case 'tar-out': {
      const stdout = opts.stdout;
      if (!stdout) throw new InvalidArgumentError('cp to "-" needs an output stream for the tar');
      // Not ended: stdout is the command's, and outlives the copy.
      await archive.get(req.from.container, req.from.path, (_stat, tar) =>
        pipeline(tar, stdout, { end: false }),
      );
      return;
    }
    case 'tar-in': {
      const stdin = opts.stdin;
      if (!stdin) throw new InvalidArgumentError('cp from "-" needs an input stream with a tar');
      const { container, path: p } = req.to;
      const dst = await destInContainer(archive, container, p);
      if (!dst.exists) throw new NotFoundError(`Could not find the file ${p} in container ${container}`);
      if (!dst.isDir) throw new InvalidArgumentError(`destination "${container}:${p}" must be a directory`);
      await archive.put(container, dst.path, stdin as Readable, {
        noOverwriteDirNonDir: true,
        copyUIDGID: opts.archive,
      });
      return;
    }
    case 'from-container':
      return fromContainer(archive, req.from.container, req.from.path, req.dest, opts);
    case 'into-container':
      return intoContainer(archive, req.src, req.to.container, req.to.path, opts);
  }
}

async function fromContainer(
  archive: ContainerArchive,
  container: string,
  file: string,
  dest: string,
  opts: { archive: boolean; followLink: boolean },
): Promise<void> {
  const local = preserveTrailing(path.resolve(dest), dest);
  validateOutputPath(local);
  let srcPath = file;
  let rebaseName: string | undefined;
  if (opts.followLink) {
    // -L: the link's target is copied, resolved inside the container, under the link's own name.
    const st = await archive.stat(container, file).catch(() => undefined);
    if (st && kindOfGoMode(st.mode) === 'symlink')
      ({ path: srcPath, rebaseName } = followedSource(file, st.linkTarget));
  }
  await archive.get(container, srcPath, async (stat, tar) => {
    const source: CopySource = {
      path: srcPath,
      isDir: kindOfGoMode(stat.mode) === 'dir',
      ...(rebaseName ? { rebaseName } : {}),
    };
    const plan = planCopy(source, localDest(local));
    await unpackOnHost(tar, plan, { top: stat.name, owner: opts.archive ? 'tar' : 'none' });
  });
}

async function intoContainer(
  archive: ContainerArchive,
  src: string,
  container: string,
  file: string,
  opts: { archive: boolean; followLink: boolean },
): Promise<void> {
  const dst = await destInContainer(archive, container, file);
  const source = localSource(preserveTrailing(path.resolve(src), src), opts.followLink);
  const plan = planCopy(source, dst);
  await RootDir.with('/', 'host', async (host) => {
    const r = host.resolve(source.path, { follow: assertsDirectory(source.path) });
    try {
      if (!r.node) throw new NotFoundError(`lstat ${source.path}: no such file or directory`);
      await archive.put(container, plan.dir, await packNode(r.node, plan.name), {
        noOverwriteDirNonDir: true,
        copyUIDGID: opts.archive,
      });
    } finally {
      r.release();
    }
  });
}

/**
 * docker's CLI on a destination in a container: a link is followed (its target, as the daemon evaluated it, even
 * when dangling: the copy then creates it), a missing path is fine (its parent must exist), devices are refused.
 */
async function destInContainer(
  archive: ContainerArchive,
  container: string,
  file: string,
): Promise<CopyDest> {
  const dst: CopyDest = { path: file, exists: false, isDir: false };
  let st = await statIfThere(archive, container, file);
  if (st && kindOfGoMode(st.mode) === 'symlink') {
    dst.path = st.linkTarget;
    st = await statIfThere(archive, container, st.linkTarget);
  }
  if (!st) return dst;
  const kind = kindOfGoMode(st.mode);
  if (kind !== 'dir' && kind !== 'file' && kind !== 'symlink')
    throw new InvalidArgumentError(
      `destination "${container}:${file}" must be a directory or a regular file: got ${kind === 'char' || kind === 'block' ? 'a device' : 'an irregular file'}`,
    );
  return { ...dst, exists: true, isDir: kind === 'dir' };
}

async function statIfThere(
  archive: ContainerArchive,
  container: string,
  file: string,
): Promise<ContainerPathStat | undefined> {
  try {
    return await archive.stat(container, file);
  } catch (err) {
    // Missing, or not reachable as a path: the copy may still create it (the put says if it cannot).
    if (err instanceof HyperboxError && (err.code === 'NotFound' || err.code === 'InvalidArgument'))
      return undefined;
    throw err;
  }
}

/** docker's ValidateOutputPath: the destination's directory must exist; an existing one must be a dir or a file. */
function validateOutputPath(local: string): void {
  const dir = path.dirname(goClean(local));
  if (!fs.existsSync(dir)) throw new NotFoundError(`invalid output path: directory "${dir}" does not exist`);
  const st = fs.statSync(local, { throwIfNoEntry: false });
  if (st && !st.isDirectory() && !st.isFile())
    throw new InvalidArgumentError(`invalid output path: "${local}" must be a directory or a regular file`);
}

/**
 * docker's CopyInfoDestinationPath on the local side (the user's own paths: links followed, at most 10), and the
 * parent of a missing destination must be a directory.
 */
function localDest(local: string): CopyDest {
  let p = local;
  for (let i = 0; i <= 10; i++) {
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st) {
      const parent = fs.statSync(splitPathDirEntry(p).dir, { throwIfNoEntry: false });
      if (!parent)
        throw new NotFoundError(
          `invalid output path: directory "${splitPathDirEntry(p).dir}" does not exist`,
        );
      if (!parent.isDirectory()) throw new InvalidArgumentError('not a directory');
      return { path: p, exists: false, isDir: false };
    }
    if (!st.isSymbolicLink()) return { path: p, exists: true, isDir: st.isDirectory() };
    const target = fs.readlinkSync(p);
    p = path.isAbsolute(target) ? target : path.join(splitPathDirEntry(p).dir, target);
  }
  throw new InvalidArgumentError(`too many symlinks in ${local}`);
}

/**
 * docker's CopyInfoSourcePath on the local side: the directories on the way followed (with -L the whole path), and
 * the name the copy takes when a followed link renamed it.
 */
function localSource(local: string, followLink: boolean): CopySource {
  const missing = (cause?: unknown) =>
    new NotFoundError(`lstat ${local}: no such file or directory`, cause ? { cause } : undefined);
  let resolved: string;
  let rebaseName: string | undefined;
  try {
    if (followLink) ({ path: resolved, rebaseName } = followedSource(local, fs.realpathSync(local)));
    else {
      const cut = local.lastIndexOf('/') + 1;
      const realDir = fs.realpathSync(local.slice(0, cut) || '.');
      resolved = `${realDir === '/' ? '' : realDir}/${local.slice(cut)}`;
      const base = path.posix.basename(local);
      if (local.endsWith('/') && path.posix.basename(resolved) !== base) rebaseName = base;
    }
  } catch (err) {
    throw missing(err);
  }
  // lstat, as docker: a trailing "/" or "/." makes the kernel follow the final link, nothing else does.
  const st = fs.lstatSync(resolved, { throwIfNoEntry: false });
  if (!st) throw missing();
  return { path: resolved, isDir: st.isDirectory(), ...(rebaseName ? { rebaseName } : {}) };
}

/** Unpacks a container's tar on the host, confined to `plan.dir`; its top entry `top` becomes `plan.name`. */
async function unpackOnHost(
  tar: Readable,
  plan: CopyPlan,
  opts: { top: string; owner: 'tar' | 'none' },
): Promise<void> {
  await RootDir.with(plan.dir, `destination ${plan.dir}`, async (tree) => {
    await unpackInto(tar, tree, tree.chain, {
      owner: opts.owner,
      noOverwriteDirNonDir: true,
      rebase: { from: opts.top, to: plan.name },
      display: (p) => (p === '/' ? plan.dir : path.join(plan.dir, p)),
    });
  });
}
