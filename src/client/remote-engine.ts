import type { HostView } from '../core/host/host-view.ts';
import type { PortBinding } from '../core/network/ports.ts';
import type { NetworkRecord, NetworkReport } from '../core/network/types.ts';
import type { Engine } from '../engine/api/engine.ts';
import type { EngineEvent, EventEngine, EventFilter } from '../engine/api/events.ts';
import type { HostEngine, PlanReport } from '../engine/api/host.ts';
import type { NetworkAttachment, NetworkCreateOptions, NetworkEngine } from '../engine/api/networks.ts';
import type { DiskUsage, SystemEngine } from '../engine/api/system.ts';
import type { VolumeEngine, VolumeRecord } from '../engine/api/volumes.ts';
import { ApiClient } from './http.ts';
import { RemoteContainers } from './remote-containers.ts';
import { RemoteImages, type StoredLogins } from './remote-images.ts';
import { RemoteVms } from './remote-vms.ts';

const enc = encodeURIComponent;

/**
 * The engine as a client of the daemon (`hyperbox serve`) on its unix socket: the same interface as the
 * in-process engine, the same errors (class and message) rebuilt from the daemon's answers.
 */
export class RemoteEngine implements Engine {
  readonly containers: RemoteContainers;
  readonly images: RemoteImages;
  readonly volumes: VolumeEngine;
  readonly networks: NetworkEngine;
  readonly events: EventEngine;
  readonly vms: RemoteVms;
  readonly host: HostEngine;
  readonly system: SystemEngine;
  readonly #api: ApiClient;

  /** `logins`: this user's stored registry logins, sent with each pull and push (the daemon keeps none). */
  constructor(opts: { socketPath: string; logins?: StoredLogins }) {
    const api = new ApiClient(opts.socketPath);
    this.#api = api;
    this.containers = new RemoteContainers(api);
    this.images = new RemoteImages(api, opts.logins ? { logins: opts.logins } : {});
    this.volumes = remoteVolumes(api);
    this.networks = remoteNetworks(api);
    this.events = remoteEvents(api);
    this.vms = new RemoteVms(api);
    this.host = {
      report: (opts = {}) => api.json<HostView>('GET', '/hyperbox/v1/host', { query: { probe: opts.probe } }),
      plan: (req) => api.json<PlanReport>('POST', '/hyperbox/v1/plan', { json: req }),
    };
    this.system = {
      reset: () => api.json('POST', '/hyperbox/v1/system/reset'),
      df: () => api.json<DiskUsage>('GET', '/hyperbox/v1/system/df'),
    };
  }

  close(): void {
    this.#api.close();
  }
}

function remoteVolumes(api: ApiClient): VolumeEngine {
  const P = '/hyperbox/v1/volumes';
  return {
    create: (opts) => api.json<VolumeRecord>('POST', P, { json: opts }),
    inspect: (name) => api.json<VolumeRecord>('GET', `${P}/${enc(name)}`),
    list: (filters = {}) =>
      api.json<VolumeRecord[]>('GET', P, { query: { filters: JSON.stringify(filters) } }),
    remove: async (name, opts = {}) => {
      await api.json('DELETE', `${P}/${enc(name)}`, { query: { force: opts.force } });
    },
    prune: (opts = {}) => api.json('POST', `${P}/prune`, { json: opts }),
  };
}

function remoteNetworks(api: ApiClient): NetworkEngine {
  const P = '/hyperbox/v1/networks';
  return {
    create: (opts: NetworkCreateOptions) => api.json<NetworkRecord>('POST', P, { json: opts }),
    list: () => api.json<NetworkReport[]>('GET', P),
    inspect: (ref) => api.json<NetworkReport>('GET', `${P}/${enc(ref)}`),
    remove: async (ref) => {
      await api.json('DELETE', `${P}/${enc(ref)}`);
    },
    prune: () => api.json<string[]>('POST', `${P}/prune`),
    connect: (ref, owner, att: Omit<NetworkAttachment, 'network'> = {}) =>
      api.json('POST', `${P}/${enc(ref)}/connect`, {
        json: { container: { id: owner.id, name: owner.name }, ...att },
      }),
    disconnect: async (ref, ownerId) => {
      await api.json('POST', `${P}/${enc(ref)}/disconnect`, { json: { containerId: ownerId } });
    },
    ports: (ownerId) => api.json<PortBinding[]>('GET', `${P}/ports/${enc(ownerId)}`),
  };
}

function remoteEvents(api: ApiClient): EventEngine {
  return {
    list: async (filter: EventFilter, afterSeq = 0) => {
      // bigint nanoseconds travel as decimal strings.
      const wire = JSON.stringify(filter, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
      const page = await api.json<{
        events: Array<Omit<EngineEvent, 'timeNano'> & { timeNano: string }>;
        lastSeq: number;
      }>('GET', '/hyperbox/v1/events', { query: { after: afterSeq, filter: wire } });
      return {
        events: page.events.map((e) => ({ ...e, timeNano: BigInt(e.timeNano) })),
        lastSeq: page.lastSeq,
      };
    },
  };
}
