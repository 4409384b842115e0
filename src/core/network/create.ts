import { ConflictError, InvalidArgumentError } from '../errors.ts';
import { checkNameLength } from '../ids.ts';
import {
  broadcastOf,
  contains,
  containsSubnet,
  formatIPv4,
  overlaps,
  parseCidr,
  parseIPv4,
  type Subnet,
} from './ip.ts';
import { allocateSubnet, defaultGateway } from './ipam.ts';
import {
  DEFAULT_BRIDGE_DEVICE,
  DEFAULT_MTU,
  DEFAULT_NETWORK,
  DEFAULT_SUBNET,
  type NetworkRecord,
} from './types.ts';

/**
 * The rules of `network create`, as pure functions of the request and of what exists (the other networks, the
 * host's routes): names and driver, docker's two options, the subnet, gateway and range. The engine reads the facts
 * and stores the record under its write lock.
 */

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** docker's option naming the Linux bridge device. */
export const BRIDGE_OPT = 'com.docker.network.bridge.name';
const MTU_OPT = 'com.docker.network.driver.mtu';
const KNOWN_OPTS = new Set([BRIDGE_OPT, MTU_OPT]);

/** What `network create` may ask for (docker's flags). */
export interface NetworkCreateRequest {
  readonly name: string;
  readonly driver?: string;
  readonly subnet?: string;
  readonly gateway?: string;
  readonly ipRange?: string;
  readonly internal?: boolean;
  readonly options?: Record<string, string>;
  readonly labels?: Record<string, string>;
}

/** The device and MTU a create request comes to, once its name, driver and options are checked. */
export interface CheckedCreate {
  readonly bridge: string;
  readonly mtu: number;
  readonly options: Record<string, string>;
}

/** The name (docker's characters, not a reserved one) and the driver (bridge only). */
export function checkCreateName(req: Pick<NetworkCreateRequest, 'name' | 'driver'>): void {
  checkNameLength(req.name, 'network');
  if (!NAME_RE.test(req.name)) throw new InvalidArgumentError(`invalid network name "${req.name}"`);
  if (req.name === DEFAULT_NETWORK || req.name === 'host' || req.name === 'none') {
    throw new InvalidArgumentError(`network name "${req.name}" is reserved`);
  }
  if ((req.driver ?? 'bridge') !== 'bridge') {
    throw new InvalidArgumentError(`network driver "${req.driver}" is not supported: use bridge`);
  }
}

/**
 * The options (known ones only), the bridge device's name and the MTU: what can be checked without the other
 * networks. `id` names the default bridge device (`hbr-` + 11 hex).
 */
export function checkCreateOptions(req: Pick<NetworkCreateRequest, 'options'>, id: string): CheckedCreate {
  const options = req.options ?? {};
  for (const k of Object.keys(options)) {
    if (!KNOWN_OPTS.has(k))
      throw new InvalidArgumentError(
        `unknown network option "${k}": known are ${[...KNOWN_OPTS].join(', ')}`,
      );
  }
  const bridge = options[BRIDGE_OPT] ?? `hbr-${id.slice(0, 11)}`;
  // hbx + 8 hex is how our veth ends are named: a bridge so named would be taken for one by reconcile.
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge) || /^hbx[0-9a-f]{8}$/.test(bridge)) {
    throw new InvalidArgumentError(`invalid bridge name "${bridge}": 1-15 characters of [a-zA-Z0-9_.-]`);
  }
  const mtu = options[MTU_OPT] === undefined ? DEFAULT_MTU : Number(options[MTU_OPT]);
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
    throw new InvalidArgumentError(`invalid MTU "${options[MTU_OPT]}": must be an integer 68-65535`);
  }
  return { bridge, mtu, options };
}

/**
 * The record of a new network: its subnet (the one asked for, which must not overlap another network's, or the
 * first free one that clashes with no network and no host route), its gateway (asked for, or the subnet's first
 * host address) and its address range. `others` are the networks that exist; `hostRoutes` is only read when no
 * subnet is asked for.
 */
export function networkRecord(a: {
  id: string;
  name: string;
  created: number;
  checked: CheckedCreate;
  others: readonly NetworkRecord[];
  hostRoutes: readonly Subnet[];
  req: Omit<NetworkCreateRequest, 'name'>;
  isDefault: boolean;
}): NetworkRecord {
  const req = a.req;
  const used = a.others.map((o) => parseCidr(o.subnet));
  let subnet: Subnet;
  if (req.subnet) {
    subnet = parseCidr(req.subnet);
    if (subnet.prefix > 30)
      throw new InvalidArgumentError(`subnet ${req.subnet} is too small: use /30 or larger`);
    const wanted = subnet;
    const clash = a.others.find((o) => overlaps(parseCidr(o.subnet), wanted));
    if (clash)
      throw new ConflictError(`subnet ${req.subnet} overlaps network ${clash.name} (${clash.subnet})`);
  } else {
    if (req.gateway || req.ipRange) throw new InvalidArgumentError('--gateway and --ip-range need --subnet');
    subnet = allocateSubnet(used, a.hostRoutes);
  }
  const gateway = req.gateway ? parseIPv4(req.gateway, 'gateway') : defaultGateway(subnet);
  if (!contains(subnet, gateway) || gateway === subnet.network || gateway === broadcastOf(subnet)) {
    throw new InvalidArgumentError(
      `gateway ${formatIPv4(gateway)} is not a host address of subnet ${req.subnet}`,
    );
  }
  let ipRange: string | undefined;
  if (req.ipRange) {
    const r = parseCidr(req.ipRange, 'ip-range');
    if (!containsSubnet(subnet, r))
      throw new InvalidArgumentError(`ip-range ${req.ipRange} is not inside subnet ${req.subnet}`);
    ipRange = req.ipRange;
  }
  return {
    id: a.id,
    name: a.name,
    created: a.created,
    driver: 'bridge',
    subnet: `${formatIPv4(subnet.network)}/${subnet.prefix}`,
    gateway: formatIPv4(gateway),
    ipRange,
    internal: req.internal ?? false,
    bridge: a.checked.bridge,
    mtu: a.checked.mtu,
    options: a.checked.options,
    labels: req.labels ?? {},
    isDefault: a.isDefault,
  };
}

/** The default network's subnet: 172.17.0.0/16 unless a network or a host route (not the default one) takes it. */
export function defaultNetworkSubnet(
  others: readonly NetworkRecord[],
  hostRoutes: readonly Subnet[],
): string {
  const routes = hostRoutes.filter((r) => r.prefix > 0);
  const wanted = parseCidr(DEFAULT_SUBNET);
  const taken = [...others.map((o) => parseCidr(o.subnet)), ...routes];
  const subnet = taken.some((t) => overlaps(t, wanted)) ? allocateSubnet(taken, []) : wanted;
  return `${formatIPv4(subnet.network)}/${subnet.prefix}`;
}

/**
 * The default network's bridge device: `hbx0` for the host's root (docker's docker0); another state root gets its
 * own (`rootHash`: a hash of the root's path), so two roots never share one.
 */
export function defaultBridgeDevice(rootHash: string | undefined): string {
  return rootHash === undefined ? DEFAULT_BRIDGE_DEVICE : `${DEFAULT_BRIDGE_DEVICE}-${rootHash.slice(0, 6)}`;
}
