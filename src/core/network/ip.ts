import { InvalidArgumentError } from '../errors.ts';

/**
 * IPv4 arithmetic on unsigned 32-bit numbers. A Subnet is a network address with a prefix length; every function is
 * pure and validates strictly (no leading zeros, no host bits in a subnet, prefix 0..32).
 */
export interface Subnet {
  readonly network: number;
  readonly prefix: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

export function parseIPv4(text: string, what = 'IPv4 address'): number {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p) && Number(p) <= 255)) {
    throw new InvalidArgumentError(
      `invalid ${what} "${text}": expected four decimal octets such as 172.18.0.2`,
    );
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0) >>> 0;
}

export function isIPv4(text: string): boolean {
  try {
    parseIPv4(text);
    return true;
  } catch {
    return false;
  }
}

export function formatIPv4(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "172.18.0.0/16" -> Subnet; host bits must be zero unless `loose` (then they are cleared). */
export function parseCidr(text: string, what = 'subnet', loose = false): Subnet {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
  if (!m)
    throw new InvalidArgumentError(`invalid ${what} "${text}": expected CIDR notation such as 172.18.0.0/16`);
  const prefix = Number(m[2]);
  if (prefix > 32)
    throw new InvalidArgumentError(`invalid ${what} "${text}": prefix length ${prefix} is over 32`);
  const ip = parseIPv4(m[1]!, what);
  const network = (ip & maskOf(prefix)) >>> 0;
  if (network !== ip && !loose) {
    throw new InvalidArgumentError(
      `invalid ${what} "${text}": host bits are set, did you mean ${formatCidr({ network, prefix })}?`,
    );
  }
  return { network, prefix };
}

export function formatCidr(s: Subnet): string {
  return `${formatIPv4(s.network)}/${s.prefix}`;
}

export function broadcastOf(s: Subnet): number {
  return (s.network | ~maskOf(s.prefix)) >>> 0;
}

export function contains(s: Subnet, ip: number): boolean {
  return (ip & maskOf(s.prefix)) >>> 0 === s.network;
}

export function containsSubnet(outer: Subnet, inner: Subnet): boolean {
  return inner.prefix >= outer.prefix && contains(outer, inner.network);
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return (a.network & maskOf(p)) >>> 0 === (b.network & maskOf(p)) >>> 0;
}
