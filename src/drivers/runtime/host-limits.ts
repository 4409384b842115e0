import { readFileSync } from 'node:fs';

/**
 * The rlimit hard caps the runtime can grant, for core/container/spec.ts: a process without CAP_SYS_RESOURCE
 * (runc runs as us) cannot raise a hard limit above its own, so asking for more makes `runc create` fail.
 * With the capability, there is no cap. Read from /proc/self/limits ("Max open files  1024  20000  files").
 */
export function readRlimitCaps(procSelf = '/proc/self'): Partial<Record<string, number>> {
  if (hasCapSysResource(readFileSync(`${procSelf}/status`, 'utf8'))) return {};
  return parseLimits(readFileSync(`${procSelf}/limits`, 'utf8'));
}

const LIMIT_NAMES: Readonly<Record<string, string>> = {
  'Max cpu time': 'cpu',
  'Max file size': 'fsize',
  'Max data size': 'data',
  'Max stack size': 'stack',
  'Max core file size': 'core',
  'Max resident set': 'rss',
  'Max processes': 'nproc',
  'Max open files': 'nofile',
  'Max locked memory': 'memlock',
  'Max address space': 'as',
  'Max file locks': 'locks',
  'Max pending signals': 'sigpending',
  'Max msgqueue size': 'msgqueue',
  'Max nice priority': 'nice',
  'Max realtime priority': 'rtprio',
  'Max realtime timeout': 'rttime',
};

export function parseLimits(text: string): Partial<Record<string, number>> {
  const caps: Partial<Record<string, number>> = {};
  for (const line of text.split('\n').slice(1)) {
    const match = /^(.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (!match) continue;
    const name = LIMIT_NAMES[match[1]!.trim()];
    const hard = match[3]!;
    if (name !== undefined && hard !== 'unlimited') caps[name] = Number(hard);
  }
  return caps;
}

const CAP_SYS_RESOURCE = 24;

export function hasCapSysResource(status: string): boolean {
  const hex = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
  return hex !== undefined && (BigInt(`0x${hex}`) & (1n << BigInt(CAP_SYS_RESOURCE))) !== 0n;
}
