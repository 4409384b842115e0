import fs from 'node:fs';
import path from 'node:path';
import type { Layout } from '../core/paths.ts';
import { mark } from '../core/trace.ts';
import { LinuxNetworkDriver } from '../drivers/network/linux.ts';
import { findQemu, hostTscKhz } from '../drivers/qemu/host.ts';
import { QemuImg } from '../drivers/qemu/qemu-img.ts';
import { QemuRuntime } from '../drivers/qemu/qemu-runtime.ts';
import { ConmonRuncRuntime } from '../drivers/runtime/conmon-runc.ts';
import { Database } from '../drivers/store/database.ts';
import { ReserveKeeper } from '../drivers/store/space-keeper.ts';
import { SPACE_RESERVE_BYTES, SpaceReserve } from '../drivers/store/space-reserve.ts';
import { ContainerService } from '../engine/containers/service.ts';
import { diskUsage } from '../engine/disk-usage.ts';
import { EventLog } from '../engine/events/service.ts';
import { acceleratorFor } from '../engine/host/accelerator.ts';
import type { Ledger } from '../engine/host/ledger.ts';
import { HostService } from '../engine/host/service.ts';
import { ImageService } from '../engine/images/service.ts';
import type { LocalEngine } from '../engine/local-engine.ts';
import { NetworkService } from '../engine/networks/service.ts';
import { reconcileEngine } from '../engine/reconcile.ts';
import { recordReferences } from '../engine/references.ts';
import { readLogDefaults } from '../engine/system/engine-config.ts';
import { resetEngine } from '../engine/system/reset.ts';
import { VmImageService } from '../engine/vms/images.ts';
import { VmService } from '../engine/vms/service.ts';
import { VolumeService } from '../engine/volumes/service.ts';
import { containerCpuPool, createLedger } from './ledger.ts';
import { registryOptionsFrom } from './registry-options.ts';
import { logWriterPath, selfCommand } from './self.ts';

/**
 * Builds the in-process engine on one state root: the only place that knows which driver implements which
 * interface. Reconciles before handing it out, so every command starts from the truth; the daemon, which answers
 * first and reconciles behind its gate (engine/reconcile.ts), asks for `reconcile: false`.
 */
export interface LocalEngineOptions {
  /** false for the daemon: registry transfers use only the credentials that come with them (see ImageService). */
  storedLogins?: boolean;
  /** false for the daemon, which reconciles behind its gate once it listens (engine/reconcile.ts). */
  reconcile?: boolean;
}

export async function createLocalEngine(layout: Layout, opts: LocalEngineOptions = {}): Promise<LocalEngine> {
  for (const dir of [layout.root, layout.runRoot, layout.exits, layout.tmp]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
  }
  const reserve = new SpaceReserve({ file: layout.spaceReserve, bytes: SPACE_RESERVE_BYTES });
  const db = new Database(layout.db, { space: new ReserveKeeper({ reserve, root: layout.root }) });
  let ledger: Ledger | undefined;
  const events = new EventLog(db);
  const registry = {
    ...registryOptionsFrom(process.env),
    ...(opts.storedLogins === false ? { storedLogins: false } : {}),
  };
  // Who uses an image, a volume, a network or a base image: read from the users' records (built below).
  const references = recordReferences({
    containers: () => containers.list(),
    vms: () => vms.list(),
    networkIdOf: (ref) => {
      try {
        return networks.record(ref).id;
      } catch {
        return undefined;
      }
    },
  });
  const images = new ImageService({ layout, db, events, registry, references });
  const volumes = new VolumeService({ layout, db, events, references });
  const networks = new NetworkService({
    layout,
    db,
    events,
    driver: new LinuxNetworkDriver({ dnsDir: layout.dns }),
    references,
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
    cpuPool: containerCpuPool(db, () => getLedger()),
    logWriter: logWriterPath(),
    logDefaults: () => readLogDefaults(layout),
  });
  const getLedger = (): Ledger => {
    ledger ??= createLedger(layout, db);
    return ledger;
  };
  const qemuImg = new QemuImg();
  const vms: VmService = new VmService({
    layout,
    db,
    events,
    networks,
    ledger: getLedger,
    qemuImg,
    runtime: new QemuRuntime(),
    host: {
      qemuBinary: () => findQemu(),
      hostTscKhz: () => hostTscKhz(),
      accelerator: () => acceleratorFor(layout),
    },
    images: new VmImageService({ layout, db, qemuImg, events, references }),
    onReserved: () => containers.confineToSharedCpus(),
  });
  const engine: LocalEngine = {
    images,
    containers,
    volumes,
    networks,
    events,
    get ledger() {
      return getLedger();
    },
    vms,
    host: new HostService({ layout, ledger: getLedger, containers: () => containers.list() }),
    system: {
      reset: async () => ({ ...(await resetEngine(engine, layout)), rootRemoved: true }),
      df: async () =>
        diskUsage({
          layout,
          images: await images.list({ all: true }),
          containers: containers.list(),
          volumes: volumes.list(),
          volumeUsers: (name) => volumes.usedBy(name).length,
          free: reserve.free(),
          reserve: { held: reserve.held(), size: reserve.bytes },
        }),
    },
    close: () => db.close(),
  };
  mark('engine: built');
  if (opts.reconcile !== false) {
    await reconcileEngine(engine);
    mark('engine: reconciled');
  }
  return engine;
}
