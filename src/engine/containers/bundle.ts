import fs from 'node:fs';
import path from 'node:path';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../core/errors.ts';
import { shortId } from '../../core/ids.ts';
import { formatCpuList } from '../../core/ledger/cpu-list.ts';
import { publishAllRequests } from '../../core/network/ports.ts';
import type { Layout } from '../../core/paths.ts';
import { mountOverlay, type OverlayPlan, unmount } from '../../drivers/mounts/overlay.ts';
import { pidRuns } from '../../drivers/proc/process.ts';
import type { OciRuntime } from '../../drivers/runtime/oci-runtime.ts';
import type { ContainerRecord } from '../api/containers.ts';
import type { ContainerCpuPool } from '../host/ledger.ts';
import type { ImageService } from '../images/service.ts';
import type { NetworkService } from '../networks/service.ts';
import { ANONYMOUS_LABEL, type VolumeService } from '../volumes/service.ts';
import { type ContainerPaths, containerPaths, writeEtcFiles } from './files.ts';
import { finishLog } from './logs.ts';
import { prepareSpec } from './spec.ts';

/** What a run's bundle needs: the records, the image's layers and config, volumes, networks, CPUs, the runtime. */
export interface BundleContext {
  layout: Layout;
  find(id: string): ContainerRecord | undefined;
  images: Pick<ImageService, 'lowerDirs' | 'resolve'>;
  volumes: Pick<VolumeService, 'ensure'>;
  networks: Pick<NetworkService, 'setUp' | 'tearDown' | 'sandboxPath'>;
  runtime: Pick<OciRuntime, 'delete'>;
  cpuPool?: ContainerCpuPool;
  /** Mounts a run's root file system; the overlay driver unless a test without root says otherwise. */
  mountRootfs?: (plan: OverlayPlan) => Promise<void>;
  /** Refuses a --cpuset-cpus onto a VM's dedicated CPU (checked again at every start: a VM may have come since). */
  checkCpuset(config: ContainerRecord['config']): void;
}

/**
 * Everything one run of a container stands on, made before its process starts and removed after it ended: the
 * root file system (overlay of the image's layers), the /etc name files, the network namespace (its own or a joined
 * container's), the volumes, and the OCI bundle's config.json; then the teardown that undoes all of it.
 */
export class RunBundles {
  readonly #c: BundleContext;

  constructor(ctx: BundleContext) {
    this.#c = ctx;
  }

  paths(id: string): ContainerPaths {
    return containerPaths(this.#c.layout, id);
  }

  /** Mounts the root file system, writes /etc files and the OCI bundle's config.json. */
  async prepare(rec: ContainerRecord, consoleSize?: { rows: number; cols: number }): Promise<void> {
    const p = this.paths(rec.id);
    const lowerDirs = await this.#c.images.lowerDirs(rec.imageId);
    const mount = this.#c.mountRootfs ?? mountOverlay;
    await mount({ lowerDirs, upperDir: p.upper, workDir: p.work, target: p.rootfs });
    const joined = this.#joinedNamespace(rec);
    const hostname =
      joined?.hostname ??
      rec.config.hostname ??
      (rec.config.networkMode === 'host' ? osHostname() : shortId(rec.id));
    writeEtcFiles(p, { hostname, networkMode: rec.config.networkMode });
    if (joined) {
      // docker shares the joined container's name files too: same hosts, resolvers and host name.
      fs.copyFileSync(joined.paths.hosts, p.hosts);
      fs.copyFileSync(joined.paths.resolvConf, p.resolvConf);
    }
    const volumeDirs = this.#volumeDirs(rec);
    const image = await this.#c.images.resolve(rec.imageId);
    const netnsPath =
      joined?.netnsPath ??
      (await this.#setUpNetwork(rec, p, hostname, Object.keys(image.config.ExposedPorts ?? {})));
    this.#c.checkCpuset(rec.config);
    const shared = rec.config.resources.cpusetCpus ? undefined : this.#c.cpuPool?.containerCpus();
    const spec = await prepareSpec({
      rec,
      paths: p,
      imageConfig: image.config,
      hostname,
      volumeDirs,
      ...(netnsPath ? { netnsPath } : {}),
      ...(shared ? { sharedCpuset: formatCpuList(shared) } : {}),
      ...(consoleSize ? { consoleSize } : {}),
    });
    fs.writeFileSync(path.join(p.bundle, 'config.json'), JSON.stringify(spec));
  }

  /** Volume name -> its directory (made on first use); bind sources checked (or made, with createHostPath). */
  #volumeDirs(rec: ContainerRecord): Map<string, string> {
    const volumeDirs = new Map<string, string>();
    for (const m of rec.config.mounts) {
      if (m.type === 'volume') {
        const labels: Record<string, string> = /^[0-9a-f]{64}$/.test(m.source)
          ? { [ANONYMOUS_LABEL]: '' }
          : {};
        volumeDirs.set(m.source, this.#c.volumes.ensure(m.source, labels));
      } else if (m.type === 'bind' && !fs.existsSync(m.source)) {
        if (!m.createHostPath) {
          throw new InvalidArgumentError(
            `invalid mount config for type "bind": bind source path does not exist: ${m.source}`,
          );
        }
        fs.mkdirSync(m.source, { recursive: true });
      }
    }
    return volumeDirs;
  }

  /**
   * `--network container:X`: the namespace X runs in — the network layer's sandbox when X is on hyperbox networks,
   * else its init process's — plus its name files. X must be running, as docker insists.
   */
  #joinedNamespace(
    rec: ContainerRecord,
  ): { netnsPath: string; hostname: string; paths: ContainerPaths } | undefined {
    if (rec.config.networkMode !== 'container') return undefined;
    const targetId = rec.config.networkContainer ?? '';
    const target = this.#c.find(targetId);
    if (!target)
      throw new NotFoundError(`No such container: ${targetId} (its network namespace was asked for)`);
    if (target.state.status !== 'running' || !target.state.pid) {
      throw new ConflictError(
        `cannot join network namespace of a non running container: ${target.name} (${shortId(target.id)}) is ${target.state.status}`,
      );
    }
    const tp = this.paths(target.id);
    const sandbox = this.#c.networks.sandboxPath(target.id);
    const netnsPath =
      target.config.networkMode === 'bridge' && fs.existsSync(sandbox)
        ? sandbox
        : target.config.networkMode === 'container' && target.config.networkContainer
          ? this.#joinedNamespace(target)!.netnsPath
          : `/proc/${target.state.pid}/ns/net`;
    let hostname = shortId(target.id);
    try {
      hostname = fs.readFileSync(tp.hostname, 'utf8').trim() || hostname;
    } catch {}
    return { netnsPath, hostname, paths: tp };
  }

  /**
   * Bridge mode: the network layer prepares the namespace (veth, address, routes, published ports, DNS) and the
   * container's /etc/hosts and resolv.conf; returns the namespace's path for the spec. Nothing for other modes.
   */
  async #setUpNetwork(
    rec: ContainerRecord,
    p: ContainerPaths,
    hostname: string,
    exposed: string[],
  ): Promise<string | undefined> {
    const c = rec.config;
    if (c.networkMode !== 'bridge') return undefined;
    const result = await this.#c.networks.setUp({
      ownerId: rec.id,
      ownerName: rec.name,
      hostname,
      ...(c.networks?.length ? { networks: c.networks } : {}),
      publish: [...(c.publish ?? []), ...(c.publishAll ? publishAllRequests(exposed) : [])],
      ...(c.dns?.length ? { dns: c.dns } : {}),
      ...(c.extraHosts?.length ? { extraHosts: c.extraHosts } : {}),
    });
    fs.writeFileSync(p.hosts, result.hosts);
    fs.writeFileSync(p.resolvConf, result.resolvConf);
    return result.netnsPath;
  }

  /**
   * Removes every trace of a previous run: runtime state, monitor files, the exit file, the rootfs mount.
   * Idempotent and cheap when there is nothing to do.
   */
  async teardown(rec: ContainerRecord): Promise<void> {
    const p = this.paths(rec.id);
    // Once runc has deleted the container its processes are dead: the network may go while the monitor lingers.
    const deleted = fs.existsSync(path.join(this.#c.layout.runcRoot, rec.id))
      ? this.#c.runtime.delete(rec.id, { force: true })
      : Promise.resolve();
    // Independent: the overlay is our mount in the host's namespace, runc's state is its own.
    await Promise.all([
      // The log writer goes after the monitor, once it has written all the monitor handed it.
      deleted.then(() => waitMonitorGone(p.bundle)).then(() => finishLog(p)),
      deleted.then(() =>
        rec.config.networkMode === 'bridge' ? this.#c.networks.tearDown(rec.id) : undefined,
      ),
      unmount(p.rootfs),
    ]);
    fs.rmSync(p.exitFile, { force: true });
  }
}

/**
 * The monitor lingers for a moment after its container died (it drains output and records the exit): wait for it,
 * so that when `rm` or `stop` returns no process of the container is left.
 */
async function waitMonitorGone(bundle: string): Promise<void> {
  const pid = monitorPidOf(bundle);
  if (pid === undefined) return;
  // The monitor waits for its exit command to finish: when we are that command, it cannot go before we do.
  if (pid === process.ppid) return;
  // It is not our child (it double-forks), so there is no exit to wait on: look often at first, when it usually goes.
  for (let i = 0; i < 140 && pid > 0 && pidRuns(pid, { comm: 'conmon' }); i++) await sleep(i < 40 ? 5 : 20);
}

/** The monitor's pid from the file conmon wrote in the bundle (-P); undefined without one. */
export function monitorPidOf(bundle: string): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(bundle, 'conmon.pid'), 'utf8').trim());
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function osHostname(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
  } catch {
    return 'localhost';
  }
}
