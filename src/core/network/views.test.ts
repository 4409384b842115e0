import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointRecord, NetworkReport } from './types.ts';
import { endpointSettingsView, networkInspectView, networkListRow } from './views.ts';

const net: NetworkReport = {
  id: 'a'.repeat(64),
  name: 'appnet',
  created: Date.UTC(2026, 0, 2, 3, 4, 5),
  driver: 'bridge',
  subnet: '10.77.0.0/24',
  gateway: '10.77.0.1',
  ipRange: '10.77.0.128/25',
  internal: false,
  bridge: 'hbr-aaaaaaaaaaa',
  mtu: 1500,
  options: {},
  labels: { team: 'web' },
  isDefault: false,
  endpoints: [],
};
const ep: EndpointRecord = {
  id: 'e'.repeat(64),
  networkId: net.id,
  ownerId: 'c'.repeat(64),
  kind: 'container',
  ownerName: 'web',
  aliases: ['www'],
  address: '10.77.0.130',
  mac: '02:42:0a:4d:00:82',
  hostIf: 'hbxeeeeeeee',
  ifname: 'eth0',
  ports: [],
  created: 0,
};

describe("docker's network views", () => {
  it('inspect: the fields, in the order dockerd writes them, with each endpoint under its owner', () => {
    const v = networkInspectView({ ...net, endpoints: [ep] });
    assert.equal(
      JSON.stringify(v),
      JSON.stringify({
        Name: 'appnet',
        Id: net.id,
        Created: '2026-01-02T03:04:05.000Z',
        Scope: 'local',
        Driver: 'bridge',
        EnableIPv6: false,
        IPAM: {
          Driver: 'default',
          Options: {},
          Config: [{ Subnet: '10.77.0.0/24', Gateway: '10.77.0.1', IPRange: '10.77.0.128/25' }],
        },
        Internal: false,
        Attachable: false,
        Ingress: false,
        ConfigOnly: false,
        Containers: {
          [ep.ownerId]: {
            Name: 'web',
            EndpointID: ep.id,
            MacAddress: ep.mac,
            IPv4Address: '10.77.0.130/24',
            IPv6Address: '',
          },
        },
        Options: {},
        Labels: { team: 'web' },
      }),
    );
    assert.deepEqual(networkInspectView({ ...net, ipRange: undefined }).IPAM.Config, [
      { Subnet: '10.77.0.0/24', Gateway: '10.77.0.1' },
    ]);
  });

  it('ls: one row with the names its templates use', () => {
    assert.deepEqual(networkListRow({ ...net, internal: true }), {
      ID: net.id,
      Name: 'appnet',
      Driver: 'bridge',
      Scope: 'local',
      Internal: 'true',
      CreatedAt: '2026-01-02T03:04:05.000Z',
    });
  });

  it("a container's entry under NetworkSettings.Networks", () => {
    assert.deepEqual(endpointSettingsView(net, ep), {
      NetworkID: net.id,
      EndpointID: ep.id,
      Gateway: '10.77.0.1',
      IPAddress: '10.77.0.130',
      IPPrefixLen: 24,
      MacAddress: ep.mac,
      Aliases: ['www'],
    });
  });
});
