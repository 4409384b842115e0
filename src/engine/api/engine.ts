import type { ContainerEngine } from './containers.ts';
import type { EventEngine } from './events.ts';
import type { HostEngine } from './host.ts';
import type { ImageEngine } from './images.ts';
import type { NetworkEngine } from './networks.ts';
import type { SystemEngine } from './system.ts';
import type { VmEngine } from './vms.ts';
import type { VolumeEngine } from './volumes.ts';

/**
 * The engine as the CLI sees it: one interface per kind of thing it manages, covering exactly what the CLI uses.
 * Two implementations: in-process (the services in this folder, built by wiring/engine.ts) and the client of the
 * daemon's API (client/remote-engine.ts). Errors are HyperboxErrors either way, with the same class and message.
 */
export interface Engine {
  readonly containers: ContainerEngine;
  readonly images: ImageEngine;
  readonly volumes: VolumeEngine;
  readonly networks: NetworkEngine;
  readonly events: EventEngine;
  readonly vms: VmEngine;
  readonly host: HostEngine;
  readonly system: SystemEngine;
  close(): void;
}
