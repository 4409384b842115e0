import os from 'node:os';
import path from 'node:path';
import type { ContainerConfig, MountRequest } from '../../core/container/config.ts';
import { initialState } from '../../core/container/state.ts';
import { validateContainerConfig } from '../../core/container/validate.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import { generateName, newId, validateName } from '../../core/ids.ts';
import {
  checkImagePlatform,
  checkRunnableOs,
  foreignArchitectureWarning,
  hostPlatform,
} from '../../core/image/platform.ts';
import { type LogConfig, mergeLogConfig } from '../../core/logs/log-config.ts';
import { DEFAULT_NETWORK } from '../../core/network/types.ts';
import { parsePlatformSpec } from '../../core/registry/platform-select.ts';
import type { ContainerRecord, CreateRequest } from '../api/containers.ts';
import type { ImageService } from '../images/service.ts';
import type { NetworkService } from '../networks/service.ts';
import type { ContainerStore } from './store.ts';

/** What a create needs: the image, the names taken, the networks named, the engine's log defaults, room on disk. */
export interface CreateContext {
  store: Pick<ContainerStore, 'nameTaken' | 'get'>;
  images: Pick<ImageService, 'resolve'>;
  networks: Pick<NetworkService, 'record'>;
  logDefaults(): LogConfig;
  requireRoom(what: string): void;
  checkCpuset(config: Pick<ContainerConfig, 'resources'>): void;
}

/**
 * The record a create request makes, every rule checked (values, platform, name, networks, CPUs) before anything
 * is stored; with the warnings docker gives (an image of another architecture).
 */
export async function newContainerRecord(
  ctx: CreateContext,
  req: CreateRequest,
): Promise<{ rec: ContainerRecord; warnings: string[] }> {
  // Every transport reaches this: a bad value is refused before an image is looked for, as dockerd does.
  validateContainerConfig(req.config, { hostCpus: os.availableParallelism() });
  const want = req.platform ? parsePlatformSpec(req.platform) : undefined;
  const image = await ctx.images.resolve(req.config.image);
  const host = hostPlatform();
  if (want) checkImagePlatform({ ref: req.config.image, want, actual: image.platform });
  checkRunnableOs(image.platform.os, host);
  const warning = want ? undefined : foreignArchitectureWarning(image.platform, host);
  const name = req.name ? validateName(req.name, 'container') : generateName((n) => ctx.store.nameTaken(n));
  ctx.requireRoom(`cannot create container ${name}`);
  const id = newId();
  const mounts = withAnonymousVolumes(req.config.mounts, Object.keys(image.config.Volumes ?? {}));
  const config: ContainerConfig = {
    ...req.config,
    imageId: image.id,
    mounts,
    ...resolveNetworkRefs(ctx, req.config),
    // docker's mergeAndVerifyLogConfig: the default driver (and its options) when none is asked for, checked.
    logConfig: mergeLogConfig(req.config.logConfig, ctx.logDefaults()),
  };
  ctx.checkCpuset(config);
  const rec: ContainerRecord = {
    id,
    name,
    imageId: image.id,
    createdAt: Date.now(),
    config,
    state: initialState(),
  };
  return { rec, warnings: warning ? [warning] : [] };
}

/**
 * Networks named at create must exist (docker refuses `--network nosuch` before anything is made), and a joined
 * container is pinned by id, so that a later rename or a new container with the old name changes nothing.
 */
function resolveNetworkRefs(
  ctx: CreateContext,
  c: Omit<ContainerConfig, 'imageId'>,
): Pick<ContainerConfig, 'networkContainer'> {
  if (c.networkMode === 'bridge') {
    for (const n of c.networks ?? []) if (n.network !== DEFAULT_NETWORK) ctx.networks.record(n.network);
  }
  if (c.networkMode !== 'container' || !c.networkContainer) return {};
  return { networkContainer: ctx.store.get(c.networkContainer).id };
}

/** Unnamed volumes (`-v /data`, the image's VOLUMEs) get a generated name and the anonymous label. */
function withAnonymousVolumes(mounts: MountRequest[], imageVolumes: string[]): MountRequest[] {
  const out: MountRequest[] = [];
  const targets = new Set<string>();
  for (const m of mounts) {
    const target = path.posix.normalize(m.target);
    if (targets.has(target)) throw new InvalidArgumentError(`duplicate mount point: ${target}`);
    targets.add(target);
    out.push(m.type === 'volume' && m.source === '' ? { ...m, source: newId() } : m);
  }
  for (const v of imageVolumes) {
    const target = path.posix.normalize(v);
    if (!targets.has(target)) out.push({ type: 'volume', source: newId(), target, readOnly: false });
  }
  return out;
}
