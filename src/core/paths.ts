import path from 'node:path';

/**
 * Every path hyperbox touches, derived from one root so that tests and parallel users never collide.
 * Default: data under /var/lib/hyperbox, run-time files under /run/hyperbox. With --root DIR or HYPERBOX_ROOT=DIR,
 * both move below DIR (DIR/run for run-time files).
 */
export interface Layout {
  /** The --root / HYPERBOX_ROOT value this layout came from; undefined for the defaults. */
  readonly rootOption: string | undefined;
  readonly root: string;
  readonly runRoot: string;
  readonly db: string;
  readonly blobs: string; // content/blobs/sha256/<hex>
  readonly ingest: string; // content/ingest: partial blobs, never visible under blobs/
  readonly layers: string; // layers/<chainid hex>/{diff,...}
  readonly containers: string; // containers/<id>/{upper,work,merged,bundle,...}
  readonly volumes: string; // volumes/<name>/_data
  readonly tmp: string; // scratch space on the same file system as the store (renames are atomic)
  readonly spaceReserve: string; // kept free for removals on a full disk (drivers/store/space-reserve.ts)
  /** runc's state root: kept under our run root so that we never see or touch other runc users' containers. */
  readonly runcRoot: string;
  readonly exits: string; // conmon exit files: <runRoot>/exits/<id>
  readonly sockets: string; // conmon attach sockets
  readonly netns: string; // <runRoot>/netns/<owner id>: sandboxes, bind-mounted network namespaces
  readonly networkLocks: string; // <runRoot>/network-locks/<network id>: one bring-up at a time (drivers/proc/lock.ts)
  readonly dns: string; // <runRoot>/dns/<network id>/{hosts,dnsmasq.pid}
  /** The daemon's API socket (`hyperbox serve` listens there; the CLI looks for a daemon there). */
  readonly daemonSocket: string;
}

export const DEFAULT_ROOT = '/var/lib/hyperbox';
export const DEFAULT_RUN_ROOT = '/run/hyperbox';

export function layoutFor(rootOption?: string): Layout {
  const root = path.resolve(rootOption ?? DEFAULT_ROOT);
  const runRoot = rootOption === undefined ? DEFAULT_RUN_ROOT : path.join(root, 'run');
  return {
    rootOption: rootOption === undefined ? undefined : root,
    root,
    runRoot,
    db: path.join(root, 'db.sqlite'),
    blobs: path.join(root, 'content', 'blobs', 'sha256'),
    ingest: path.join(root, 'content', 'ingest'),
    layers: path.join(root, 'layers'),
    containers: path.join(root, 'containers'),
    volumes: path.join(root, 'volumes'),
    tmp: path.join(root, 'tmp'),
    spaceReserve: path.join(root, 'space-reserve'),
    runcRoot: path.join(runRoot, 'runc'),
    exits: path.join(runRoot, 'exits'),
    sockets: path.join(runRoot, 's'),
    netns: path.join(runRoot, 'netns'),
    networkLocks: path.join(runRoot, 'network-locks'),
    dns: path.join(runRoot, 'dns'),
    daemonSocket: path.join(runRoot, 'hyperbox.sock'),
  };
}
