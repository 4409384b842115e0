import { parseCidr } from './ip.ts';
import type { EndpointRecord, NetworkRecord, NetworkReport } from './types.ts';

/**
 * Docker's shapes of networks, as pure functions of the engine's records: the docker API and the CLI print them;
 * the engine and the native API speak the records.
 */

/** docker's `network inspect` (and `GET /networks`) shape. */
export interface NetworkInspect {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge';
  EnableIPv6: false;
  IPAM: {
    Driver: 'default';
    Options: Record<string, string>;
    Config: { Subnet: string; Gateway: string; IPRange?: string }[];
  };
  Internal: boolean;
  Attachable: false;
  Ingress: false;
  ConfigOnly: false;
  Containers: Record<
    string,
    { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }
  >;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export function networkInspectView(n: NetworkReport): NetworkInspect {
  const containers: NetworkInspect['Containers'] = {};
  const prefix = parseCidr(n.subnet).prefix;
  for (const e of n.endpoints) {
    containers[e.ownerId] = {
      Name: e.ownerName,
      EndpointID: e.id,
      MacAddress: e.mac,
      IPv4Address: `${e.address}/${prefix}`,
      IPv6Address: '',
    };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: new Date(n.created).toISOString(),
    Scope: 'local',
    Driver: 'bridge',
    EnableIPv6: false,
    IPAM: {
      Driver: 'default',
      Options: {},
      Config: [{ Subnet: n.subnet, Gateway: n.gateway, ...(n.ipRange ? { IPRange: n.ipRange } : {}) }],
    },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    ConfigOnly: false,
    Containers: containers,
    Options: n.options,
    Labels: n.labels,
  };
}

/** One row of `network ls`, with the fields its `--format` templates name. */
export interface NetworkListRow {
  ID: string;
  Name: string;
  Driver: 'bridge';
  Scope: 'local';
  Internal: string;
  CreatedAt: string;
}

export function networkListRow(n: NetworkRecord): NetworkListRow {
  return {
    ID: n.id,
    Name: n.name,
    Driver: n.driver,
    Scope: 'local',
    Internal: String(n.internal),
    CreatedAt: new Date(n.created).toISOString(),
  };
}

/** docker's entry for one network in a container's `NetworkSettings.Networks`. */
export function endpointSettingsView(n: NetworkRecord, ep: EndpointRecord): Record<string, unknown> {
  return {
    NetworkID: n.id,
    EndpointID: ep.id,
    Gateway: n.gateway,
    IPAddress: ep.address,
    IPPrefixLen: parseCidr(n.subnet).prefix,
    MacAddress: ep.mac,
    Aliases: ep.aliases,
  };
}
