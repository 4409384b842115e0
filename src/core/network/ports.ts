import { ConflictError, InvalidArgumentError } from '../errors.ts';
import { isIPv4 } from './ip.ts';

export type Proto = 'tcp' | 'udp';

/** One published port as asked for; hostPort 0 means "any free port" (-P, `-p 80`, `-p ip::80`). */
export interface PortRequest {
  readonly hostIp: string; // '0.0.0.0' = every host address
  readonly hostPort: number;
  readonly containerPort: number;
  readonly proto: Proto;
}

/** A published port as carried out: the host port is always known. */
export interface PortBinding extends PortRequest {}

/** Host ports handed out for hostPort 0 (docker uses the kernel's ephemeral range; we keep below it). */
export const EPHEMERAL_FIRST = 49153;
export const EPHEMERAL_LAST = 60999;

function port(text: string, what: string, spec: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new InvalidArgumentError(`invalid ${what} "${text}" in "${spec}": must be a port number 1-65535`);
  }
  return Number(text);
}

function range(text: string, what: string, spec: string): [number, number] {
  const [a, b, ...rest] = text.split('-');
  if (rest.length > 0 || a === undefined)
    throw new InvalidArgumentError(`invalid ${what} "${text}" in "${spec}"`);
  const first = port(a, what, spec);
  const last = b === undefined ? first : port(b, what, spec);
  if (last < first)
    throw new InvalidArgumentError(`invalid ${what} range "${text}" in "${spec}": end before start`);
  return [first, last];
}

/** `-p [ip:][hostPort[-end]:]containerPort[-end][/tcp|udp]`, ranges expanded one request per port. */
export function parsePublish(spec: string): PortRequest[] {
  let rest = spec;
  let proto: Proto = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp') {
      throw new InvalidArgumentError(`invalid protocol "${p}" in "${spec}": use tcp or udp`);
    }
    proto = p;
    rest = rest.slice(0, slash);
  }
  const parts = rest.split(':');
  if (parts.length > 3) throw new InvalidArgumentError(`invalid port mapping "${spec}": too many ':'`);
  let hostIp = '0.0.0.0';
  let hostText = '';
  if (parts.length === 3) {
    hostIp = parts[0]!;
    hostText = parts[1]!;
    if (!isIPv4(hostIp))
      throw new InvalidArgumentError(`invalid host IP "${hostIp}" in "${spec}": expected IPv4`);
  } else if (parts.length === 2) {
    hostText = parts[0]!;
  }
  const [c1, c2] = range(parts[parts.length - 1]!, 'container port', spec);
  if (hostText === '') {
    const out: PortRequest[] = [];
    for (let c = c1; c <= c2; c++) out.push({ hostIp, hostPort: 0, containerPort: c, proto });
    return out;
  }
  const [h1, h2] = range(hostText, 'host port', spec);
  if (h2 - h1 !== c2 - c1) {
    throw new InvalidArgumentError(
      `invalid port mapping "${spec}": host range ${h1}-${h2} and container range ${c1}-${c2} differ in size`,
    );
  }
  const out: PortRequest[] = [];
  for (let i = 0; i <= c2 - c1; i++) out.push({ hostIp, hostPort: h1 + i, containerPort: c1 + i, proto });
  return out;
}

/** -P: every EXPOSEd port ("80/tcp", "53/udp", "8080") to a free host port on every address. */
export function publishAllRequests(exposed: Iterable<string>): PortRequest[] {
  const out: PortRequest[] = [];
  for (const e of exposed) {
    const [p, proto = 'tcp'] = e.split('/');
    if (proto !== 'tcp' && proto !== 'udp') continue;
    out.push({ hostIp: '0.0.0.0', hostPort: 0, containerPort: port(p ?? '', 'exposed port', e), proto });
  }
  return out;
}

/** Whether two bindings want the same host socket (0.0.0.0 clashes with every address). */
export function clashes(a: PortRequest, b: PortRequest): boolean {
  return (
    a.proto === b.proto &&
    a.hostPort === b.hostPort &&
    (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0')
  );
}

/** Refuses a request list that clashes with itself or with bindings held by others (named in the message). */
export function checkClashes(
  wanted: readonly PortRequest[],
  held: readonly (PortBinding & { owner: string })[],
): void {
  for (let i = 0; i < wanted.length; i++) {
    const w = wanted[i]!;
    if (w.hostPort === 0) continue;
    for (let j = 0; j < i; j++) {
      if (clashes(w, wanted[j]!)) {
        throw new InvalidArgumentError(`host port ${w.hostIp}:${w.hostPort}/${w.proto} is published twice`);
      }
    }
    const other = held.find((h) => clashes(w, h));
    if (other) {
      throw new ConflictError(
        `cannot publish ${w.hostIp}:${w.hostPort}/${w.proto}: port is already allocated to container ${other.owner}`,
      );
    }
  }
}

/** `hyperbox port NAME` lines: "80/tcp -> 0.0.0.0:8080". */
export function formatPortLines(bindings: readonly PortBinding[]): string[] {
  return [...bindings]
    .sort((a, b) => a.containerPort - b.containerPort || a.proto.localeCompare(b.proto))
    .map((b) => `${b.containerPort}/${b.proto} -> ${b.hostIp}:${b.hostPort}`);
}

/** docker's NetworkSettings.Ports shape: {"80/tcp": [{HostIp, HostPort}]}. */
export function portMapView(
  bindings: readonly PortBinding[],
): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const b of bindings) {
    const key = `${b.containerPort}/${b.proto}`;
    out[key] ??= [];
    out[key].push({ HostIp: b.hostIp, HostPort: String(b.hostPort) });
  }
  return out;
}
