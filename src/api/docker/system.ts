import os from 'node:os';
import { InvalidArgumentError } from '../../core/errors.ts';
import { imageSummaryView } from '../../core/image/views.ts';
import { volumeView } from '../../core/volume/views.ts';
import type { EventFilter } from '../../engine/api/events.ts';
import { dockerEventMessage } from '../../engine/events/views.ts';
import type { LocalEngine } from '../../engine/local-engine.ts';
import type { Router } from '../router.ts';
import { parseFilters } from './filters.ts';
import { API_VERSION, hyperboxVersion, versionView } from './version.ts';

/** How often a following `GET /events` looks for new events in the store (other processes write there too). */
const EVENT_POLL_MS = 200;

/** _ping, version, info, events, system df, auth. */
export function systemRoutes(r: Router, engine: LocalEngine): void {
  const ping = (ex: import('../exchange.ts').Exchange) => {
    ex.res.setHeader('Builder-Version', '1');
    ex.res.setHeader('Swarm', 'inactive');
    ex.res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
    ex.text(200, 'OK');
  };
  r.add('GET', '/_ping', ping);
  r.add('HEAD', '/_ping', ping);
  r.add('GET', '/version', (ex) => ex.json200(versionView()));
  r.add('GET', '/info', async (ex) => ex.json200(await infoView(engine)));
  r.add('GET', '/system/df', async (ex) => ex.json200(await dfView(engine)));
  r.add('POST', '/auth', async (ex) => {
    const body = await ex.json();
    const { checkLogin } = await import('../../wiring/registry-login.ts');
    const username = stringField(body, 'username');
    const password = stringField(body, 'password');
    const server = typeof body.serveraddress === 'string' ? body.serveraddress : undefined;
    // Only the check, as dockerd: the client stores the login (its ~/.docker/config.json) and sends it with each
    // pull and push; the daemon keeps none of its clients' secrets.
    await checkLogin({ server, username, password });
    ex.json200({ Status: 'Login Succeeded', IdentityToken: '' });
  });
  r.add('GET', '/events', async (ex) => {
    const filters = parseFilters(ex.query.get('filters'));
    const filter: EventFilter = {
      ...(filters.get('type') ? { type: filters.get('type')! } : {}),
      ...(filters.get('event') ? { action: filters.get('event')! } : {}),
      ...(filters.get('container') ? { container: filters.get('container')! } : {}),
      ...(filters.get('image') ? { image: filters.get('image')! } : {}),
    };
    const since = timeParam(ex.query.get('since'));
    const until = timeParam(ex.query.get('until'));
    // Without `since`, only what happens from now on (docker's default).
    let { lastSeq } = engine.events.list({ type: ['none'] });
    if (since !== undefined) lastSeq = 0;
    const out = ex.startStream('application/json');
    const send = () => {
      const { events, lastSeq: seq } = engine.events.list(
        { ...filter, ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) },
        lastSeq,
      );
      lastSeq = seq;
      for (const e of events) {
        out.write(`${JSON.stringify(dockerEventMessage(e))}\n`);
      }
    };
    send();
    if (until !== undefined && until <= BigInt(Date.now()) * 1_000_000n) {
      out.end();
      return;
    }
    const timer = setInterval(() => {
      try {
        send();
        if (until !== undefined && BigInt(Date.now()) * 1_000_000n > until) stop();
      } catch {
        stop();
      }
    }, EVENT_POLL_MS);
    const stop = () => {
      clearInterval(timer);
      out.end();
    };
    ex.res.once('close', () => clearInterval(timer));
  });
}

/** docker's `since`/`until`: unix seconds (with a fraction), as nanoseconds. */
function timeParam(v: string | null): bigint | undefined {
  if (!v) return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new InvalidArgumentError(`invalid time: "${v}" (want unix seconds)`);
  const [s, frac = ''] = v.split('.');
  return BigInt(s!) * 1_000_000_000n + BigInt((frac + '000000000').slice(0, 9));
}

function stringField(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== 'string') throw new InvalidArgumentError(`${name} must be a string`);
  return v;
}

async function infoView(engine: LocalEngine): Promise<Record<string, unknown>> {
  const all = engine.containers.list();
  const count = (s: string) => all.filter((c) => c.state.status === s).length;
  const images = await engine.images.list();
  return {
    ID: 'hyperbox',
    Containers: all.length,
    ContainersRunning: count('running'),
    ContainersPaused: count('paused'),
    ContainersStopped: all.length - count('running') - count('paused'),
    Images: images.length,
    Driver: 'overlay',
    DriverStatus: [],
    Plugins: {
      Volume: ['local'],
      Network: ['bridge', 'host', 'null'],
      Authorization: null,
      Log: ['json-file', 'local', 'k8s-file', 'none'],
    },
    MemoryLimit: true,
    SwapLimit: true,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    Debug: false,
    NFd: 0,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: engine.containers.logDefaults().type,
    CgroupDriver: 'cgroupfs',
    NEventsListener: 0,
    KernelVersion: os.release(),
    OperatingSystem: 'hyperbox on Linux',
    OSVersion: '',
    OSType: 'linux',
    Architecture: os.machine(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    NCPU: os.availableParallelism(),
    MemTotal: os.totalmem(),
    DockerRootDir: engine.containers.layout.root,
    Name: os.hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: hyperboxVersion(),
    Runtimes: { runc: { path: 'runc' } },
    DefaultRuntime: 'runc',
    Swarm: {
      NodeID: '',
      NodeAddr: '',
      LocalNodeState: 'inactive',
      ControlAvailable: false,
      Error: '',
      RemoteManagers: null,
    },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: 'docker-init',
    SecurityOptions: ['name=seccomp,profile=builtin'],
    Warnings: [],
    ApiVersion: API_VERSION,
  };
}

async function dfView(engine: LocalEngine): Promise<Record<string, unknown>> {
  const images = await engine.images.list();
  const volumes = engine.volumes.list();
  const { duSync } = await import('../../engine/volumes/du.ts');
  return {
    LayersSize: images.reduce((n, i) => n + i.size, 0),
    Images: images.map(imageSummaryView),
    Containers: engine.containers.list().map((c) => ({
      Id: c.id,
      Names: [`/${c.name}`],
      Image: c.config.image,
      ImageID: c.imageId,
      Command: '',
      Created: Math.floor(c.createdAt / 1000),
      State: c.state.status,
      Status: c.state.status,
      SizeRw: 0,
      SizeRootFs: 0,
      Labels: c.config.labels,
      Mounts: [],
    })),
    Volumes: volumes.map((v) => ({
      ...volumeView(v),
      UsageData: { Size: duSync(v.mountpoint), RefCount: engine.volumes.usedBy(v.name).length },
    })),
    BuildCache: [],
  };
}
