import type { Engine } from './api/engine.ts';
import type { ContainerService } from './containers/service.ts';
import type { EventLog } from './events/service.ts';
import type { Ledger } from './host/ledger.ts';
import type { HostService } from './host/service.ts';
import type { ImageService } from './images/service.ts';
import type { NetworkService } from './networks/service.ts';
import type { VmService } from './vms/service.ts';
import type { VolumeService } from './volumes/service.ts';

/**
 * The in-process engine: the concrete services (the API server and in-process-only commands use these). Extending
 * Engine is what checks that each service implements its interface (without an import cycle from the services).
 */
export interface LocalEngine extends Engine {
  readonly images: ImageService;
  readonly containers: ContainerService;
  readonly volumes: VolumeService;
  readonly networks: NetworkService;
  readonly events: EventLog;
  /** Dedicated CPUs, memory and disk of VMs (built on first use: it reads the host). */
  readonly ledger: Ledger;
  /** Virtual machines under QEMU (with their base images: `vms.images`). */
  readonly vms: VmService;
  readonly host: HostService;
}
