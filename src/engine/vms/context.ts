import type { PortRequest } from '../../core/network/ports.ts';
import type { EndpointRecord, NetworkRecord } from '../../core/network/types.ts';
import type { VmPaths } from '../../core/vm/paths.ts';
import type { QemuImg } from '../../drivers/qemu/qemu-img.ts';
import type { VmRuntime } from '../../drivers/qemu/vm-runtime.ts';
import type { Database } from '../../drivers/store/database.ts';
import type { VmImageRecord } from '../api/vms.ts';
import type { EventLog } from '../events/service.ts';
import type { AcceleratorInfo } from '../host/accelerator.ts';
import type { Ledger } from '../host/ledger.ts';
import type { VmStore } from './store.ts';

/** The host facts a VM start needs, injected so the service runs against fakes in unit tests. */
export interface VmHost {
  qemuBinary(): string;
  hostTscKhz(): number | undefined;
  accelerator(): Promise<AcceleratorInfo>;
}

/** What VMs need of the networks: the records, and taps with their leases (engine/networks.ts). */
export interface VmNetworks {
  record(ref: string): NetworkRecord;
  attachTaps(req: {
    ownerId: string;
    ownerName: string;
    hostname: string;
    networks: { network: string; ip?: string }[];
    publish?: PortRequest[];
  }): Promise<EndpointRecord[]>;
  /** Idempotent: taps, rules, leases and DNS entries of the VM. */
  detachTaps(ownerId: string): Promise<void>;
  endpoints(ownerId: string): EndpointRecord[];
}

/**
 * What the VM service's parts (boot, power, disks, reconcile) share: the store, the ledger, the runtime and the
 * VM's paths, never the service itself. Each part takes only the fields it uses (a Pick of this).
 */
export interface VmContext {
  readonly db: Database;
  readonly store: VmStore;
  /** Built on first use: it reads the host. */
  readonly ledger: () => Ledger;
  readonly networks: VmNetworks;
  readonly runtime: VmRuntime;
  readonly host: VmHost;
  readonly qemuImg: QemuImg;
  readonly events: EventLog | undefined;
  readonly paths: (id: string) => VmPaths;
  /** A base image by name (NotFound when there is none, Unavailable when the engine has no images). */
  readonly baseImage: (name: string) => VmImageRecord;
}
