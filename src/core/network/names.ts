import { isIP } from 'node:net';
import { InvalidArgumentError } from '../errors.ts';
import type { EndpointRecord } from './types.ts';

/**
 * The name files of a container, as text: /etc/hosts, /etc/resolv.conf, and the hosts file a network's DNS server
 * answers from. Pure: the host's resolv.conf comes in as text.
 */
export interface HostsInput {
  readonly hostname: string;
  /** The container's addresses, first network first; none for --network none. */
  readonly addresses: readonly string[];
  /** --add-host "name:ip" entries, already validated. */
  readonly extraHosts: readonly { name: string; ip: string }[];
}

/** The lines every container's /etc/hosts starts with, as docker writes them. */
export const STANDARD_HOSTS: readonly string[] = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

export function hostsFile(input: HostsInput): string {
  const lines = [...STANDARD_HOSTS];
  for (const h of input.extraHosts) lines.push(`${h.ip}\t${h.name}`);
  const short = input.hostname.split('.')[0]!;
  const names = short === input.hostname ? input.hostname : `${input.hostname} ${short}`;
  lines.push(input.addresses.length > 0 ? `${input.addresses[0]}\t${names}` : `127.0.1.1\t${names}`);
  return `${lines.join('\n')}\n`;
}

export interface ResolvInput {
  /** The host's /etc/resolv.conf text. */
  readonly hostResolvConf: string;
  /** The DNS server of the container's first user-defined network (its gateway), if any. */
  readonly networkDns: string | undefined;
  readonly dns: readonly string[];
  readonly dnsSearch: readonly string[];
  readonly dnsOptions: readonly string[];
}

/** The host's nameservers, minus loopback ones a container cannot reach. */
export function hostNameservers(resolvConf: string): string[] {
  const out: string[] = [];
  for (const line of resolvConf.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && !/^(127\.|::1$)/.test(m[1]!)) out.push(m[1]!);
  }
  return out;
}

export function resolvConf(input: ResolvInput): string {
  const host = input.hostResolvConf.split('\n');
  const search =
    input.dnsSearch.length > 0
      ? input.dnsSearch
      : host.flatMap((l) => /^\s*search\s+(.+)$/.exec(l)?.[1]?.split(/\s+/) ?? []);
  const options =
    input.dnsOptions.length > 0
      ? input.dnsOptions
      : host.flatMap((l) => /^\s*options\s+(.+)$/.exec(l)?.[1]?.split(/\s+/) ?? []);
  const servers =
    input.dns.length > 0
      ? input.dns
      : input.networkDns !== undefined
        ? [input.networkDns]
        : hostNameservers(input.hostResolvConf);
  const lines: string[] = [];
  if (search.length > 0) lines.push(`search ${search.join(' ')}`);
  for (const s of servers.length > 0 ? servers : ['8.8.8.8', '8.8.4.4']) lines.push(`nameserver ${s}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** The hosts file a user network's dnsmasq serves: each endpoint's address with its name, short id and aliases. */
export function dnsHostsFile(endpoints: readonly EndpointRecord[]): string {
  const lines = [...endpoints]
    .sort((a, b) => a.created - b.created)
    .map((e) => [e.address, e.ownerName, e.ownerId.slice(0, 12), ...e.aliases].join(' '));
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** --add-host "name:ip" (docker also accepts "name=ip"). */
export function parseAddHost(text: string): { name: string; ip: string } {
  const i = text.search(/[:=]/);
  const name = i > 0 ? text.slice(0, i) : '';
  const ip = i > 0 ? text.slice(i + 1) : '';
  // Each becomes an /etc/hosts line: a plain name and a real address, so that no value writes lines of its own.
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9_.-]*[a-zA-Z0-9])?$/.test(name) || isIP(ip) === 0) {
    const q = JSON.stringify(text);
    throw new InvalidArgumentError(
      `invalid argument ${q} for "--add-host" flag: bad format for add-host: ${q}`,
    );
  }
  return { name, ip };
}

/** A sandbox's /etc/hosts and /etc/resolv.conf, written into the container before it starts. */
export function sandboxNameFiles(input: HostsInput & ResolvInput): { hosts: string; resolvConf: string } {
  return { hosts: hostsFile(input), resolvConf: resolvConf(input) };
}
