import fs from 'node:fs';
import path from 'node:path';
import type { Layout } from '../core/paths.ts';
import { mark } from '../core/trace.ts';
import { LinuxNetworkDriver } from '../drivers/network/linux.ts';
import { ConmonRuncRuntime } from '../drivers/runtime/conmon-runc.ts';
import { Database } from '../drivers/store/database.ts';
import { ContainerService } from '../engine/containers.ts';
import type { Engine } from '../engine/engine.ts';
import { EventLog } from '../engine/events.ts';
import { ImageService } from '../engine/images.ts';
import { NetworkService } from '../engine/networks.ts';
import { VolumeService } from '../engine/volumes.ts';
import { registryOptionsFrom } from './registry-options.ts';
import { selfCommand } from './self.ts';

/**
 * Builds the in-process engine on one state root: the only place that knows which driver implements which
 * interface. Reconciles before handing it out, so every command starts from the truth.
 */
export async function createLocalEngine(layout: Layout): Promise<Engine> {
  for (const dir of [layout.root, layout.runRoot, layout.exits, layout.tmp]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
  }
  const db = new Database(layout.db);
  const events = new EventLog(db);
  const images = new ImageService({ layout, db, events, registry: registryOptionsFrom(process.env) });
  const volumes = new VolumeService({ layout, db, events });
  const networks = new NetworkService({
    layout,
    db,
    events,
    driver: new LinuxNetworkDriver({ dnsDir: path.join(layout.runRoot, 'dns') }),
    // Built below; asked only when a network is removed.
    configuredUsers: (n) => containers.configuredOn(n),
  });
  const runtime = new ConmonRuncRuntime({
    runcRoot: layout.runcRoot,
    execRoot: path.join(layout.runRoot, 'exec'),
  });
  const containers = new ContainerService({
    layout,
    db,
    events,
    images,
    volumes,
    networks,
    runtime,
    selfCommand: selfCommand(),
  });
  mark('engine: built');
  await containers.reconcile();
  await networks.reconcile((id) => containers.holdsNetwork(id));
  mark('engine: reconciled');
  return {
    images,
    containers,
    volumes,
    networks,
    events,
    close: () => db.close(),
  };
}
