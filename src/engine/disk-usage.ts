import fs from 'node:fs';
import path from 'node:path';
import { isActive } from '../core/container/state.ts';
import type { Layout } from '../core/paths.ts';
import type { DiskUsage, UsageLine } from './api/system.ts';
import type { ContainerRecord } from './container-store.ts';
import type { ImageSummary } from './images.ts';
import { duSync, type Volume } from './volumes.ts';

/**
 * Adds it up from what the engine knows. Images: their unpacked sizes, reclaimable when no container uses them.
 * Containers: their directories (writable layer, log, bundle; not the mounted root file system), reclaimable when
 * stopped. Volumes: their data, reclaimable when no container names them.
 */
export function diskUsage(input: {
  layout: Layout;
  images: ImageSummary[];
  containers: ContainerRecord[];
  volumes: Volume[];
  volumeUsers: (name: string) => number;
  free: number;
  reserve: { held: number; size: number };
}): DiskUsage {
  const images = input.images.map((i) => ({ size: i.size, active: i.containers > 0 }));
  const containers = input.containers.map((c) => ({
    size: containerBytes(path.join(input.layout.containers, c.id)),
    active: isActive(c.state.status),
  }));
  const volumes = input.volumes.map((v) => ({
    size: duSync(v.Mountpoint),
    active: input.volumeUsers(v.Name) > 0,
  }));
  return {
    images: line(images),
    containers: line(containers),
    volumes: line(volumes),
    root: {
      path: input.layout.root,
      free: input.free,
      reserveHeld: input.reserve.held,
      reserveSize: input.reserve.size,
    },
  };
}

function line(items: Array<{ size: number; active: boolean }>): UsageLine {
  return {
    total: items.length,
    active: items.filter((i) => i.active).length,
    size: items.reduce((n, i) => n + i.size, 0),
    reclaimable: items.filter((i) => !i.active).reduce((n, i) => n + i.size, 0),
  };
}

/** A container's directory without its root file system's mount point (that is the image's layers, overlaid). */
function containerBytes(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (e.name === 'rootfs') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += duSync(p);
    else if (e.isFile()) total += fs.lstatSync(p).size;
  }
  return total;
}
