import { type PortBinding, portMapView } from '../network/ports.ts';
import type { EndpointRecord, NetworkRecord } from '../network/types.ts';
import { endpointSettingsView } from '../network/views.ts';
import type { ContainerConfig, ContainerState } from './config.ts';
import { statusText } from './status-text.ts';

/**
 * docker-shaped views of a container, shared by the CLI (`ps`, `inspect`) and the docker-compatible API.
 * Pure: everything they show comes in through the arguments.
 */
export interface ContainerView {
  id: string;
  name: string;
  imageId: string;
  createdAt: number;
  config: ContainerConfig;
  state: ContainerState;
}

/** The command column of `ps`: entrypoint + cmd as one quoted string. */
export function commandLine(
  config: ContainerConfig,
  image: { Entrypoint?: string[] | null; Cmd?: string[] | null },
): string[] {
  const entrypoint = config.entrypoint ?? image.Entrypoint ?? [];
  const cmd = config.cmd ?? (config.entrypoint !== undefined ? [] : (image.Cmd ?? []));
  return [...entrypoint, ...cmd];
}

function iso(ms: number | undefined): string {
  return ms ? new Date(ms).toISOString() : '0001-01-01T00:00:00Z';
}

export function inspectView(
  c: ContainerView,
  extra: {
    image: {
      Entrypoint?: string[] | null;
      Cmd?: string[] | null;
      Env?: string[] | null;
      WorkingDir?: string;
      User?: string;
    };
    /** The file the container's log driver writes ('' for none). */
    logPath: string;
    paths: {
      rootfs: string;
      hostname: string;
      hosts: string;
      resolvConf: string;
      upper: string;
      work: string;
    };
    lowerDirs: string[];
    volumeDir: (name: string) => string;
  },
): Record<string, unknown> {
  const cfg = c.config;
  const args = commandLine(cfg, extra.image);
  const s = c.state;
  return {
    Id: c.id,
    Created: iso(c.createdAt),
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: {
      Status: s.status,
      Running: s.status === 'running' || s.status === 'paused',
      Paused: s.status === 'paused',
      Restarting: s.status === 'restarting',
      OOMKilled: s.oomKilled,
      Dead: s.status === 'dead',
      Pid: s.pid,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: iso(s.startedAt),
      FinishedAt: iso(s.finishedAt),
    },
    Image: c.imageId,
    ResolvConfPath: extra.paths.resolvConf,
    HostnamePath: extra.paths.hostname,
    HostsPath: extra.paths.hosts,
    LogPath: extra.logPath,
    Name: `/${c.name}`,
    RestartCount: s.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    HostConfig: {
      NetworkMode: networkModeView(cfg),
      // Containers from before log drivers were logged by conmon's k8s-file.
      LogConfig: {
        Type: cfg.logConfig?.type ?? 'k8s-file',
        Config: cfg.logConfig?.config ?? {},
      },
      RestartPolicy: { Name: cfg.restart.name, MaximumRetryCount: cfg.restart.maximumRetryCount },
      AutoRemove: cfg.autoRemove,
      Privileged: cfg.privileged,
      ReadonlyRootfs: cfg.readOnly,
      Init: cfg.init,
      CapAdd: cfg.capAdd,
      CapDrop: cfg.capDrop,
      SecurityOpt: cfg.noNewPrivileges ? ['no-new-privileges'] : null,
      Memory: cfg.resources.memory ?? 0,
      MemorySwap: cfg.resources.memorySwap ?? 0,
      NanoCpus: cfg.resources.nanoCpus ?? 0,
      CpuShares: cfg.resources.cpuShares ?? 0,
      CpusetCpus: cfg.resources.cpusetCpus ?? '',
      PidsLimit: cfg.resources.pidsLimit ?? null,
      Ulimits: cfg.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
      Binds: cfg.mounts
        .filter((m) => m.type === 'bind' || m.type === 'volume')
        .map(
          (m) => `${'source' in m ? m.source : ''}:${m.target}${'readOnly' in m && m.readOnly ? ':ro' : ''}`,
        ),
      Tmpfs: Object.fromEntries(
        cfg.mounts.filter((m) => m.type === 'tmpfs').map((m) => [m.target, (m.options ?? []).join(',')]),
      ),
    },
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        LowerDir: extra.lowerDirs.join(':'),
        UpperDir: extra.paths.upper,
        WorkDir: extra.paths.work,
        MergedDir: extra.paths.rootfs,
      },
    },
    Mounts: cfg.mounts.map((m) =>
      m.type === 'tmpfs'
        ? {
            Type: 'tmpfs',
            Source: '',
            Destination: m.target,
            Mode: '',
            RW: !(m.options ?? []).includes('ro'),
            Propagation: '',
          }
        : m.type === 'bind'
          ? {
              Type: 'bind',
              Source: m.source,
              Destination: m.target,
              Mode: '',
              RW: !m.readOnly,
              Propagation: m.propagation ?? 'rprivate',
            }
          : {
              Type: 'volume',
              Name: m.source,
              Source: extra.volumeDir(m.source),
              Destination: m.target,
              Driver: 'local',
              Mode: '',
              RW: !m.readOnly,
              Propagation: '',
            },
    ),
    Config: {
      Hostname: cfg.hostname ?? c.id.slice(0, 12),
      User: cfg.user ?? extra.image.User ?? '',
      AttachStdin: false,
      Tty: cfg.tty,
      OpenStdin: cfg.openStdin,
      Env: [...(extra.image.Env ?? []), ...cfg.env],
      Cmd: cfg.cmd ?? (cfg.entrypoint !== undefined ? null : (extra.image.Cmd ?? null)),
      Image: cfg.image,
      WorkingDir: cfg.workingDir ?? extra.image.WorkingDir ?? '',
      Entrypoint: cfg.entrypoint ?? extra.image.Entrypoint ?? null,
      Labels: cfg.labels,
      StopSignal: cfg.stopSignal ?? 'SIGTERM',
      StopTimeout: cfg.stopTimeout ?? 10,
    },
    NetworkSettings: { Networks: {}, Ports: {}, IPAddress: '' },
  };
}

/** docker's HostConfig.NetworkMode text: `container:<id>` for a joined namespace, `default` for the old loopback. */
export function networkModeView(cfg: Pick<ContainerConfig, 'networkMode' | 'networkContainer'>): string {
  if (cfg.networkMode === 'container') return `container:${cfg.networkContainer}`;
  return cfg.networkMode === 'loopback' ? 'default' : cfg.networkMode;
}

/** One row of docker's `GET /containers/json` (what `docker ps` reads). */
export function summaryView(
  rec: ContainerView,
  known: {
    image: { Entrypoint?: string[] | null; Cmd?: string[] | null };
    ports: readonly PortBinding[];
    endpoints: readonly EndpointRecord[];
    now: number;
  },
): Record<string, unknown> {
  return {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: rec.config.image,
    ImageID: rec.imageId,
    Command: commandLine(rec.config, known.image).join(' '),
    Created: Math.floor(rec.createdAt / 1000),
    Ports: known.ports.map((p) => ({
      IP: p.hostIp || '0.0.0.0',
      PrivatePort: p.containerPort,
      PublicPort: p.hostPort,
      Type: p.proto,
    })),
    Labels: rec.config.labels,
    State: rec.state.status,
    Status: statusText(rec.state, known.now),
    HostConfig: { NetworkMode: rec.config.networkMode === 'bridge' ? 'bridge' : rec.config.networkMode },
    NetworkSettings: {
      Networks: Object.fromEntries(
        known.endpoints.map((e) => [
          e.networkId,
          { NetworkID: e.networkId, EndpointID: e.id, IPAddress: e.address, MacAddress: e.mac },
        ]),
      ),
    },
    Mounts: rec.config.mounts.map((m) => ({
      Type: m.type,
      ...(m.type === 'tmpfs' ? {} : { Name: m.type === 'volume' ? m.source : '', Source: m.source }),
      Destination: m.target,
      RW: m.type === 'tmpfs' ? true : !m.readOnly,
    })),
  };
}

/** docker's NetworkSettings of inspect: one entry per network joined, the published ports, the first address. */
export function networkSettingsView(
  endpoints: readonly EndpointRecord[],
  networkOf: (id: string) => NetworkRecord,
  ports: readonly PortBinding[],
): Record<string, unknown> {
  const networks: Record<string, unknown> = {};
  for (const ep of endpoints) {
    const n = networkOf(ep.networkId);
    networks[n.name] = endpointSettingsView(n, ep);
  }
  return {
    Networks: networks,
    Ports: portMapView([...ports]),
    IPAddress: endpoints[0]?.address ?? '',
    MacAddress: endpoints[0]?.mac ?? '',
  };
}

/** The usage figures of one stats sample (the engine's ContainerStatsSample). */
export interface UsageSample {
  cpuPercent: number;
  memoryUsage: number;
  memoryLimit: number;
  pids: number;
  blockRead: number;
  blockWrite: number;
}

/**
 * docker's stats shape. The CLI computes CPU% as (cpu delta / system delta) x online CPUs x 100, so one sample's
 * percentage is given as deltas over one second of one CPU. Without a memory limit, the host's memory is the limit.
 */
export function statsView(
  rec: Pick<ContainerView, 'id' | 'name'>,
  s: UsageSample,
  at: { hostMemory: number; now: number },
): Record<string, unknown> {
  const second = 1_000_000_000;
  const now = new Date(at.now).toISOString();
  return {
    id: rec.id,
    name: `/${rec.name}`,
    read: now,
    preread: now,
    pids_stats: { current: s.pids },
    blkio_stats: {
      io_service_bytes_recursive: [
        { major: 0, minor: 0, op: 'read', value: s.blockRead },
        { major: 0, minor: 0, op: 'write', value: s.blockWrite },
      ],
    },
    num_procs: 0,
    cpu_stats: {
      cpu_usage: { total_usage: Math.round((s.cpuPercent / 100) * second) },
      system_cpu_usage: second,
      online_cpus: 1,
    },
    precpu_stats: { cpu_usage: { total_usage: 0 }, system_cpu_usage: 0, online_cpus: 1 },
    memory_stats: {
      usage: s.memoryUsage,
      limit: s.memoryLimit || at.hostMemory,
      stats: { inactive_file: 0 },
    },
    networks: {},
  };
}
