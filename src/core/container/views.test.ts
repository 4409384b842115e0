import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointRecord } from '../network/types.ts';
import { initialState } from './state.ts';
import type { ContainerView } from './views.ts';
import { networkSettingsView, statsView, summaryView } from './views.ts';

const rec = {
  id: 'a'.repeat(64),
  name: 'web',
  imageId: 'sha256:1',
  createdAt: 1_700_000_000_500,
  config: {
    image: 'nginx',
    cmd: ['nginx', '-g', 'daemon off;'],
    labels: { tier: 'front' },
    networkMode: 'bridge',
    mounts: [
      { type: 'volume', source: 'data', target: '/data', readOnly: true },
      { type: 'tmpfs', source: '', target: '/tmp', readOnly: false },
    ],
  },
  state: { ...initialState(), status: 'running', startedAt: 1_700_000_000_000 },
} as unknown as ContainerView;
const endpoint = {
  id: 'e'.repeat(64),
  networkId: 'n'.repeat(64),
  address: '10.88.0.2',
  mac: '02:42:0a:58:00:02',
  aliases: ['web'],
} as unknown as EndpointRecord;
const port = { hostIp: '', hostPort: 8080, containerPort: 80, proto: 'tcp' as const };

describe('docker views of a container', () => {
  it('a ps row: names with a slash, the command, ports, mounts as docker lists them', () => {
    const row = summaryView(rec, { image: {}, ports: [port], endpoints: [endpoint], now: 1_700_000_060_000 });
    assert.deepEqual(row.Names, ['/web']);
    assert.equal(row.Command, 'nginx -g daemon off;');
    assert.equal(row.Created, 1_700_000_000);
    assert.deepEqual(row.Ports, [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }]);
    assert.equal(row.State, 'running');
    assert.match(String(row.Status), /^Up /);
    assert.deepEqual(row.Mounts, [
      { Type: 'volume', Name: 'data', Source: 'data', Destination: '/data', RW: false },
      { Type: 'tmpfs', Destination: '/tmp', RW: true },
    ]);
  });

  it("inspect's NetworkSettings: the network by name, its gateway and prefix, the first address", () => {
    const view = networkSettingsView(
      [endpoint],
      () =>
        ({
          id: endpoint.networkId,
          name: 'bridge',
          subnet: '10.88.0.0/16',
          gateway: '10.88.0.1',
        }) as never,
      [port],
    );
    const bridge = (view.Networks as Record<string, Record<string, unknown>>).bridge!;
    assert.equal(bridge.Gateway, '10.88.0.1');
    assert.equal(bridge.IPPrefixLen, 16);
    assert.equal(view.IPAddress, '10.88.0.2');
  });

  it('stats: one CPU-second of deltas, and the host memory as the limit when there is none', () => {
    const sample = { cpuPercent: 50, memoryUsage: 10, memoryLimit: 0, pids: 2, blockRead: 1, blockWrite: 3 };
    const view = statsView(rec, sample, { hostMemory: 1024, now: 0 }) as {
      cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number };
      memory_stats: { limit: number };
      name: string;
    };
    assert.equal(view.cpu_stats.cpu_usage.total_usage / view.cpu_stats.system_cpu_usage, 0.5);
    assert.equal(view.memory_stats.limit, 1024);
    assert.equal(view.name, '/web');
  });
});
