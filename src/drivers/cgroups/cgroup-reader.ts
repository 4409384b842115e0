import { existsSync } from 'node:fs';

/**
 * Read-only view of a container's cgroup, for `stats` and `top`. `path` is the container's cgroups path as given
 * to runc (absolute, e.g. "/hyperbox/<id>"): on cgroup v1 it exists once per controller hierarchy, on v2 once.
 */
export interface CgroupReader {
  readonly version: 1 | 2;
  /** Current usage; rejects with NotFound when the cgroup does not exist (container not running). */
  stats(path: string): Promise<CgroupStats>;
  /** The pids of the processes directly in the cgroup (runc puts all of a container's there). */
  pids(path: string): Promise<number[]>;
  /** The directories that make up the cgroup on this host: what must be gone after the container was deleted. */
  directories(path: string): string[];
}

export interface CgroupStats {
  memory: {
    usage: number; // bytes, page cache included
    limit?: number; // bytes; absent when unlimited
    inactiveFile: number; // bytes of reclaimable cache: docker subtracts it from usage
  };
  cpu: { usageNs: number };
  pids: { current: number; limit?: number };
}

/** Unified (v2) when the root is itself a cgroup2 mount; a v1 or hybrid host is v1 (its v2 part holds nothing). */
export function detectCgroupVersion(root = '/sys/fs/cgroup'): 1 | 2 {
  return existsSync(`${root}/cgroup.controllers`) ? 2 : 1;
}

/** "key value" lines (memory.stat, cpu.stat) into numbers. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
}

/** A limit file's value: "max" (v2) or a huge number (v1's page-counter maximum) means unlimited. */
export function parseLimit(text: string): number | undefined {
  const value = text.trim();
  if (value === 'max' || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n < 2 ** 62 ? n : undefined;
}

export function parsePids(text: string): number[] {
  return text
    .split('\n')
    .filter((line) => /^\d+$/.test(line.trim()))
    .map(Number);
}
