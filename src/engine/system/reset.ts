import fs from 'node:fs';
import type { Layout } from '../../core/paths.ts';
import type { ResetSummary } from '../api/system.ts';
import type { LocalEngine } from '../local-engine.ts';

/**
 * `system reset` (podman's) in-process: every object removed (emptyEngine), then the root's directories themselves.
 */
export async function resetEngine(engine: LocalEngine, layout: Layout): Promise<ResetSummary> {
  const done = await emptyEngine(engine);
  engine.close();
  for (const dir of [layout.runRoot, layout.root]) fs.rmSync(dir, { recursive: true, force: true });
  return done;
}

/**
 * Every workload, network, volume and image of this state root removed through the engine — so that each goes
 * with its kernel objects (mounts, bridges, rules, DNS servers). Workloads first: networks and volumes are in use
 * until they are gone. The daemon's `system reset` stops here: it still runs on the root.
 */
export async function emptyEngine(engine: LocalEngine): Promise<ResetSummary> {
  const containers = engine.containers.store.all();
  for (const c of containers) await engine.containers.remove(c.id, { force: true, volumes: true });
  // VMs too: their QEMU, taps and reservations, then the base images their disks were cloned from.
  const vms = engine.vms.list();
  for (const v of vms) await engine.vms.remove(v.id, { force: true });
  for (const i of engine.vms.images.list()) engine.vms.images.remove(i.name);
  const networks = await engine.networks.removeAll();
  const volumes = engine.volumes.list();
  for (const v of volumes) engine.volumes.remove(v.name, { force: true });
  const images = await engine.images.list({ all: true });
  for (const i of images) await engine.images.remove(i.id, { force: true }).catch(() => undefined);
  await engine.images.gc();
  return {
    containers: containers.length,
    vms: vms.length,
    networks,
    volumes: volumes.length,
    images: images.length,
  };
}
