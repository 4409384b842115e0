import { InvalidArgumentError } from '../errors.ts';

/** Every capability Linux 5.x/6.x knows, in kernel order (include/uapi/linux/capability.h). */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default set: enough for a typical service to drop privileges, bind low ports and manage files. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" all mean CAP_NET_ADMIN; "all" means ALL. */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!ALL_CAPABILITIES.includes(full)) throw new InvalidArgumentError(`unknown capability: "${full}"`);
  return full;
}

/**
 * The capability set a container's process gets, by docker's rules: start from the defaults (or everything when
 * privileged), add --cap-add, then remove --cap-drop; "ALL" in cap-add starts from everything, "ALL" in cap-drop
 * from nothing, and an explicit add wins over a drop of ALL.
 */
export function resolveCapabilities(opts: {
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
}): string[] {
  const add = opts.capAdd.map(normalizeCapability);
  const drop = opts.capDrop.map(normalizeCapability);
  if (opts.privileged) return [...ALL_CAPABILITIES];
  let caps: Set<string>;
  if (add.includes('ALL')) caps = new Set(ALL_CAPABILITIES);
  else if (drop.includes('ALL')) caps = new Set();
  else caps = new Set(DEFAULT_CAPABILITIES);
  if (!add.includes('ALL')) for (const c of drop) caps.delete(c);
  for (const c of add) if (c !== 'ALL') caps.add(c);
  if (add.includes('ALL')) for (const c of drop) if (c !== 'ALL') caps.delete(c);
  return ALL_CAPABILITIES.filter((c) => caps.has(c));
}

/** The capability names set in a /proc/<pid>/status mask such as CapBnd ("000001fffeffffff"). */
export function capabilitiesFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  return ALL_CAPABILITIES.filter((_, bit) => ((mask >> BigInt(bit)) & 1n) === 1n);
}

/**
 * Narrows a resolved set to what the host can hand out (the runtime's own bounding set): --privileged and
 * "ALL" mean everything the host has; a capability asked for by name that the host lacks is refused by name.
 */
export function limitToHost(
  caps: readonly string[],
  host: readonly string[],
  explicitlyAdded: readonly string[],
): string[] {
  for (const name of explicitlyAdded.map(normalizeCapability)) {
    if (name !== 'ALL' && !host.includes(name)) {
      throw new InvalidArgumentError(
        `capability ${name} is not available on this host (not in its bounding set)`,
      );
    }
  }
  return caps.filter((c) => host.includes(c));
}
