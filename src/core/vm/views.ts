import { humanBinarySize, humanDuration } from '../human.ts';
import { formatCpuList } from '../ledger/cpu-list.ts';
import type { PortBinding } from '../network/ports.ts';
import type { EndpointRecord } from '../network/types.ts';
import type { VmConfig } from './config.ts';
import type { VmState } from './state.ts';

/** What `vm inspect` and `vm ls` show, built from the record and the facts around it (pure). */
export interface VmFacts {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
  readonly config: VmConfig;
  readonly state: VmState;
  readonly reservation:
    | {
        readonly cpus: readonly number[];
        readonly memoryBytes: number;
        readonly diskBytes: number;
        readonly overcommitted: boolean;
      }
    | undefined;
  readonly endpoints: readonly (EndpointRecord & {
    readonly networkName: string;
    readonly gateway: string;
  })[];
  readonly paths: Record<string, string>;
}

export function vmInspectView(f: VmFacts): Record<string, unknown> {
  const s = f.state;
  return {
    Id: f.id,
    Name: f.name,
    Created: new Date(f.createdAt).toISOString(),
    State: {
      Status: s.status,
      Running: s.status === 'running',
      Pid: s.qemu?.pid ?? 0,
      StartedAt: s.startedAt ? new Date(s.startedAt).toISOString() : '',
      FinishedAt: s.finishedAt ? new Date(s.finishedAt).toISOString() : '',
      ExitReason: s.exitReason ?? '',
      ...(s.exitStatus !== undefined ? { QemuExitStatus: s.exitStatus } : {}),
    },
    Accelerator: { Accel: s.accel ?? '', Reason: s.accelReason ?? '' },
    Machine: f.config.machine,
    Boot: f.config.boot,
    Hostname: f.config.hostname,
    Resources: {
      Cpus: f.config.cpus,
      MemoryBytes: f.config.memoryBytes,
      MemoryPrealloc: f.config.memoryPrealloc,
      DiskBytes: f.config.diskBytes,
      CpuPinning: f.config.cpuPinning === 'auto' ? 'auto' : formatCpuList(f.config.cpuPinning),
      DedicatedCpus: f.reservation ? formatCpuList(f.reservation.cpus) : '',
      Overcommitted: f.reservation?.overcommitted ?? false,
    },
    Vcpus: (s.vcpus ?? []).map((v) => ({ Index: v.index, ThreadId: v.threadId, PinnedCpu: v.cpu })),
    Networks: Object.fromEntries(
      f.endpoints.map((e) => [
        e.networkName,
        {
          IPAddress: e.address,
          Gateway: e.gateway,
          MacAddress: e.mac,
          Tap: e.hostIf,
          NetworkID: e.networkId,
        },
      ]),
    ),
    ConfiguredNetworks: f.config.networks,
    Ports: portsView(f.endpoints.flatMap((e) => e.ports)),
    Paths: f.paths,
  };
}

function portsView(ports: readonly PortBinding[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) {
    const key = `${p.containerPort}/${p.proto}`;
    out[key] = [...(out[key] ?? []), { HostIp: p.hostIp, HostPort: String(p.hostPort) }];
  }
  return out;
}

/** One row of `vm ls`, docker-like status words ("Up 3 minutes", "Stopped 2 minutes ago (the guest powered off)"). */
export function vmListRow(f: VmFacts, now: number): Record<string, string> {
  const s = f.state;
  let status: string;
  if (s.status === 'running') status = `Up ${humanDuration(now - (s.startedAt ?? now))}`;
  else if (s.status === 'stopped')
    status = `Stopped ${humanDuration(now - (s.finishedAt ?? now))} ago${s.exitReason ? ` (${s.exitReason})` : ''}`;
  else status = s.status[0]!.toUpperCase() + s.status.slice(1);
  return {
    ID: f.id.slice(0, 12),
    Name: f.name,
    Status: status,
    State: s.status,
    Cpus: f.reservation
      ? `${f.config.cpus} (${formatCpuList(f.reservation.cpus)}${f.reservation.overcommitted ? ', overcommitted' : ''})`
      : String(f.config.cpus),
    Memory: humanBinarySize(f.config.memoryBytes),
    Disk: f.config.diskBytes ? humanBinarySize(f.config.diskBytes) : '-',
    Addresses: f.endpoints.map((e) => e.address).join(',') || (f.config.networks.length ? '-' : ''),
    Ports: f.endpoints
      .flatMap((e) => e.ports)
      .map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.proto}`)
      .join(', '),
    Accel: s.accel ?? '',
  };
}
