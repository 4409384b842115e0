import { ConflictError, UnavailableError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { formatIPv4, parseCidr, parseIPv4 } from '../../core/network/ip.ts';
import { macForAddress, parseMac, pickAddress } from '../../core/network/ipam.ts';
import { hostIfName, tapIfName } from '../../core/network/plan.ts';
import {
  checkClashes,
  EPHEMERAL_FIRST,
  EPHEMERAL_LAST,
  type PortBinding,
  type PortRequest,
} from '../../core/network/ports.ts';
import type { EndpointRecord, NetworkRecord, OwnerKind } from '../../core/network/types.ts';
import type { NetworkDriver } from '../../drivers/network/network-driver.ts';
import type { NetworkAttachment } from '../api/networks.ts';
import type { NetworkStore } from './store.ts';

/** Who takes the leases, and on which networks (each with what `run --ip --mac-address --network-alias` asked). */
export interface LeaseRequest {
  ownerId: string;
  ownerName: string;
  kind: OwnerKind;
  networks: readonly { network: NetworkRecord; wanted: Omit<NetworkAttachment, 'network'> }[];
  /** Published through the first network only. */
  ports: readonly PortBinding[];
  /** Interface numbers start here (`network connect`: after the owner's count of endpoints). */
  firstIndex: number;
}

/** Ports every endpoint publishes, with the name of its owner (for the clash message). */
function heldPorts(store: NetworkStore): (PortBinding & { owner: string })[] {
  return store.allEndpoints().flatMap((e) => e.ports.map((p) => ({ ...p, owner: e.ownerName })));
}

/**
 * Host ports for `-p`: the ones asked for, checked against other endpoints' and the host's listeners; a random free
 * ephemeral port where 0 is asked. The choice is checked again under the write lock (`leaseEndpoints`).
 */
export async function choosePorts(
  ctx: { store: NetworkStore; driver: Pick<NetworkDriver, 'portFree'> },
  reqs: readonly PortRequest[],
): Promise<PortBinding[]> {
  const held = heldPorts(ctx.store);
  checkClashes(reqs, held);
  const out: PortBinding[] = [];
  for (const r of reqs) {
    if (r.hostPort !== 0) {
      if (!(await ctx.driver.portFree(r))) {
        throw new ConflictError(
          `cannot publish ${r.hostIp}:${r.hostPort}/${r.proto}: the port is already in use on the host (a process listens on it)`,
        );
      }
      out.push(r);
      continue;
    }
    let chosen: PortBinding | undefined;
    const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span && !chosen; i++) {
      const cand = { ...r, hostPort: EPHEMERAL_FIRST + ((start + i) % span) };
      if ([...held, ...out].some((h) => h.proto === cand.proto && h.hostPort === cand.hostPort)) continue;
      if (await ctx.driver.portFree(cand)) chosen = cand;
    }
    if (!chosen) throw new UnavailableError(`no free host port left for ${r.containerPort}/${r.proto}`);
    out.push(chosen);
  }
  return out;
}

/**
 * Leases one address per network and records the endpoints, in one BEGIN IMMEDIATE transaction so that processes
 * allocating at once get distinct addresses (and ports). Interfaces are named eth<N> from the first the owner does
 * not use yet. Nothing is made on the host here: the endpoints are recorded before their links, so reconcile can
 * tell anything it finds without a record is left over.
 */
export function leaseEndpoints(store: NetworkStore, req: LeaseRequest): EndpointRecord[] {
  return store.transaction(() => {
    // Re-check ports under the write lock: another process may have taken them since.
    checkClashes(req.ports, heldPorts(store));
    const used = new Set(store.endpointsOfOwner(req.ownerId).map((e) => e.ifname));
    let index = req.firstIndex;
    return req.networks.map(({ network: n, wanted: w }, i) => {
      const subnet = parseCidr(n.subnet);
      const pool = {
        subnet,
        gateway: parseIPv4(n.gateway),
        range: n.ipRange ? parseCidr(n.ipRange) : subnet,
      };
      const rows = store.leasedOn(n.id);
      const taken = new Set(rows.map((r) => parseIPv4(r.address)));
      const last = rows.reduce<{ address: string; created: number } | undefined>(
        (a, r) => (a === undefined || r.created >= a.created ? r : a),
        undefined,
      );
      const ip = pickAddress(pool, taken, {
        ...(w.ip ? { requested: parseIPv4(w.ip, '--ip') } : {}),
        ...(last ? { after: parseIPv4(last.address) } : {}),
      });
      while (used.has(`eth${index}`)) index++;
      const ifname = `eth${index}`;
      used.add(ifname);
      const id = newId();
      const ep: EndpointRecord = {
        id,
        networkId: n.id,
        ownerId: req.ownerId,
        kind: req.kind,
        ownerName: req.ownerName,
        aliases: n.isDefault ? [] : (w.aliases ?? []),
        address: formatIPv4(ip),
        mac: w.mac ? parseMac(w.mac) : macForAddress(ip),
        hostIf: req.kind === 'vm' ? tapIfName(id) : hostIfName(id),
        ifname,
        ports: i === 0 ? req.ports : [],
        created: Date.now(),
      };
      store.insertEndpoint(ep);
      return ep;
    });
  });
}
