import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError } from '../../core/errors.ts';
import {
  type CgroupReader,
  type CgroupStats,
  parseFlatKeyed,
  parseLimit,
  parsePids,
} from './cgroup-reader.ts';

/**
 * The hierarchies runc creates a directory in for every container on a v1 host; on a hybrid host also the
 * (otherwise unused) cgroup2 tree at <root>/unified.
 */
const HIERARCHIES = [
  'blkio',
  'cpu',
  'cpuacct',
  'cpuset',
  'devices',
  'freezer',
  'memory',
  'pids',
  'systemd',
  'unified',
];

/** cgroup v1: one hierarchy per controller, mounted at <root>/<controller>. */
export class CgroupV1Reader implements CgroupReader {
  readonly version = 1;
  readonly #root: string;

  constructor(root = '/sys/fs/cgroup') {
    this.#root = root;
  }

  async stats(cgroup: string): Promise<CgroupStats> {
    const [usage, limit, memStat, cpu, pids, pidsMax] = await Promise.all([
      this.#read('memory', cgroup, 'memory.usage_in_bytes'),
      this.#read('memory', cgroup, 'memory.limit_in_bytes'),
      this.#read('memory', cgroup, 'memory.stat'),
      this.#read('cpuacct', cgroup, 'cpuacct.usage'),
      this.#read('pids', cgroup, 'pids.current'),
      this.#read('pids', cgroup, 'pids.max'),
    ]);
    const stat = parseFlatKeyed(memStat);
    const memLimit = parseLimit(limit);
    const pidsLimit = parseLimit(pidsMax);
    return {
      memory: {
        usage: Number(usage.trim()),
        ...(memLimit !== undefined ? { limit: memLimit } : {}),
        inactiveFile: stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0,
      },
      cpu: { usageNs: Number(cpu.trim()) },
      pids: { current: Number(pids.trim()), ...(pidsLimit !== undefined ? { limit: pidsLimit } : {}) },
    };
  }

  async pids(cgroup: string): Promise<number[]> {
    return parsePids(await this.#read('pids', cgroup, 'cgroup.procs'));
  }

  directories(cgroup: string): string[] {
    return HIERARCHIES.filter((h) => existsSync(path.join(this.#root, h))).map((h) =>
      path.join(this.#root, h, cgroup),
    );
  }

  async #read(controller: string, cgroup: string, file: string): Promise<string> {
    const full = path.join(this.#root, controller, cgroup, file);
    try {
      return await readFile(full, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new NotFoundError(`cgroup ${cgroup} does not exist (no ${full})`, { cause: err });
      }
      throw err;
    }
  }
}
