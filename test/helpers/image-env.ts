import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { layoutFor } from '../../src/core/paths.ts';
import { Database } from '../../src/drivers/store/database.ts';
import { ContainerStore } from '../../src/engine/containers/store.ts';
import { EventLog } from '../../src/engine/events/service.ts';
import { ImageService } from '../../src/engine/images/service.ts';
import { recordReferences } from '../../src/engine/references.ts';

/** A throw-away hyperbox root with an ImageService on it. */
export interface ImageEnv {
  root: string;
  layout: ReturnType<typeof layoutFor>;
  db: Database;
  events: EventLog;
  images: ImageService;
  close(): void;
}

export function makeImageEnv(prefix = 'hb-images-'): ImageEnv {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const layout = layoutFor(root);
  const db = new Database(layout.db);
  const events = new EventLog(db);
  // Containers a test records in the store use their images, as in the engine.
  const containers = new ContainerStore(db);
  const references = recordReferences({
    containers: () => containers.all(),
    vms: () => [],
    networkIdOf: () => undefined,
  });
  const images = new ImageService({ layout, db, events, references });
  return {
    root,
    layout,
    db,
    events,
    images,
    close() {
      db.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Builds the busybox test rootfs once per process (scripts/make-busybox-rootfs.sh). */
let rootfs: string | undefined;
export function busyboxRootfs(): string {
  if (rootfs) return rootfs;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-busybox-'));
  const script = path.join(import.meta.dirname, '..', '..', 'scripts', 'make-busybox-rootfs.sh');
  execFileSync('bash', [script, path.join(dir, 'rootfs')], { stdio: 'ignore' });
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  rootfs = path.join(dir, 'rootfs');
  return rootfs;
}

/** Every file below `dir` (relative paths), for "nothing changed" assertions. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(dir, rel));
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const r = rel ? `${rel}/${n}` : n;
      out.push(r);
      if (fs.lstatSync(path.join(dir, r)).isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

export function eventActions(env: ImageEnv): string[] {
  return env.events.list({ type: ['image'] }).events.map((e) => e.action);
}
