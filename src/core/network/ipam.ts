import { ConflictError, InvalidArgumentError, UnavailableError } from '../errors.ts';
import { broadcastOf, contains, formatCidr, formatIPv4, overlaps, parseCidr, type Subnet } from './ip.ts';

/**
 * Address management, pure: which addresses of a network may be leased, which is next, and which subnet a new
 * network gets. The engine keeps the leases in SQLite and calls these inside one BEGIN IMMEDIATE transaction, so
 * containers and VM taps in different processes never get the same address.
 */
export interface IpamPool {
  readonly subnet: Subnet;
  readonly gateway: number;
  /** Addresses are handed out from here (defaults to the whole subnet). */
  readonly range: Subnet;
}

/** The usable host addresses of a pool: never the network address, the broadcast or the gateway. */
function usable(pool: IpamPool, ip: number): boolean {
  if (!contains(pool.subnet, ip)) return false;
  if (pool.subnet.prefix < 31 && (ip === pool.subnet.network || ip === broadcastOf(pool.subnet)))
    return false;
  return ip !== pool.gateway;
}

/**
 * The address to lease: `requested` when given (refused when taken or outside the subnet / ip-range), else the
 * lowest free address of the range after `after` (round-robin, so a just-released address is not reused at once),
 * wrapping around.
 */
export function pickAddress(
  pool: IpamPool,
  taken: ReadonlySet<number>,
  opts: { requested?: number; after?: number } = {},
): number {
  if (opts.requested !== undefined) {
    const ip = opts.requested;
    const text = formatIPv4(ip);
    if (!contains(pool.subnet, ip)) {
      throw new InvalidArgumentError(
        `address ${text} is outside the network's subnet ${formatCidr(pool.subnet)}`,
      );
    }
    if (!contains(pool.range, ip)) {
      throw new InvalidArgumentError(
        `address ${text} is outside the network's ip-range ${formatCidr(pool.range)}`,
      );
    }
    if (!usable(pool, ip))
      throw new InvalidArgumentError(`address ${text} is reserved (network, gateway or broadcast)`);
    if (taken.has(ip)) throw new ConflictError(`address ${text} is already in use on this network`);
    return ip;
  }
  const first = pool.range.network;
  const last = broadcastOf(pool.range);
  const size = last - first + 1;
  const start = opts.after !== undefined && contains(pool.range, opts.after) ? opts.after - first + 1 : 0;
  for (let i = 0; i < size; i++) {
    const ip = first + ((start + i) % size);
    if (usable(pool, ip) && !taken.has(ip)) return ip >>> 0;
  }
  throw new UnavailableError(`no free address left in ${formatCidr(pool.range)}`);
}

/** The first address of a subnet that can be a gateway (docker: .1). */
export function defaultGateway(subnet: Subnet): number {
  return subnet.prefix >= 31 ? subnet.network : (subnet.network + 1) >>> 0;
}

/** Candidate subnets for networks created without --subnet: 172.18-31.0.0/16, then 10.89.0-255.0/24. */
export function* subnetPool(): Generator<Subnet> {
  for (let b = 18; b <= 31; b++) yield parseCidr(`172.${b}.0.0/16`);
  for (let c = 0; c <= 255; c++) yield parseCidr(`10.89.${c}.0/24`);
}

/** The first candidate that overlaps no existing network and no host route (default routes excepted). */
export function allocateSubnet(
  inUse: readonly Subnet[],
  hostRoutes: readonly Subnet[],
  candidates: Iterable<Subnet> = subnetPool(),
): Subnet {
  const avoid = [...inUse, ...hostRoutes.filter((r) => r.prefix > 0)];
  for (const c of candidates) if (!avoid.some((a) => overlaps(a, c))) return c;
  throw new UnavailableError('no free subnet left in the address pools: pass --subnet');
}

/** The docker-style MAC for an address: 02:42 followed by the four octets. */
export function macForAddress(ip: number): string {
  const bytes = [0x02, 0x42, ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function parseMac(text: string): string {
  const mac = text.toLowerCase();
  if (!MAC_RE.test(mac))
    throw new InvalidArgumentError(`invalid MAC address "${text}": expected 6 hex pairs`);
  if (Number.parseInt(mac.slice(0, 2), 16) & 1) {
    throw new InvalidArgumentError(
      `invalid MAC address "${text}": a multicast address cannot be a container's`,
    );
  }
  return mac;
}
