import type { ContainerService } from './containers.ts';
import type { EventLog } from './events.ts';
import type { ImageService } from './images.ts';
import type { Ledger } from './ledger.ts';
import type { NetworkService } from './networks.ts';
import type { VmService } from './vms.ts';
import type { VolumeService } from './volumes.ts';

/**
 * The engine as the CLI (and later the API server) sees it: one object per kind of thing it manages. Today it is
 * in-process (wiring/engine.ts builds it); a remote client of the daemon will implement the same shape.
 */
export interface Engine {
  readonly images: ImageService;
  readonly containers: ContainerService;
  readonly volumes: VolumeService;
  readonly networks: NetworkService;
  readonly events: EventLog;
  /** Dedicated CPUs, memory and disk of VMs (built on first use: it reads the host). */
  readonly ledger: Ledger;
  /** Virtual machines under QEMU (with their base images: `vms.images`). */
  readonly vms: VmService;
  close(): void;
}
