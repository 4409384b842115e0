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

/** cgroup v2: one unified hierarchy at <root>. */
export class CgroupV2Reader implements CgroupReader {
  readonly version = 2;
  readonly #root: string;

  constructor(root = '/sys/fs/cgroup') {
    this.#root = root;
  }

  async stats(cgroup: string): Promise<CgroupStats> {
    const [current, max, memStat, cpuStat, pids, pidsMax] = await Promise.all([
      this.#read(cgroup, 'memory.current'),
      this.#read(cgroup, 'memory.max'),
      this.#read(cgroup, 'memory.stat'),
      this.#read(cgroup, 'cpu.stat'),
      this.#read(cgroup, 'pids.current'),
      this.#read(cgroup, 'pids.max'),
    ]);
    const memLimit = parseLimit(max);
    const pidsLimit = parseLimit(pidsMax);
    return {
      memory: {
        usage: Number(current.trim()),
        ...(memLimit !== undefined ? { limit: memLimit } : {}),
        inactiveFile: parseFlatKeyed(memStat).get('inactive_file') ?? 0,
      },
      cpu: { usageNs: (parseFlatKeyed(cpuStat).get('usage_usec') ?? 0) * 1000 },
      pids: { current: Number(pids.trim()), ...(pidsLimit !== undefined ? { limit: pidsLimit } : {}) },
    };
  }

  async pids(cgroup: string): Promise<number[]> {
    return parsePids(await this.#read(cgroup, 'cgroup.procs'));
  }

  directories(cgroup: string): string[] {
    return [path.join(this.#root, cgroup)];
  }

  async #read(cgroup: string, file: string): Promise<string> {
    const full = path.join(this.#root, cgroup, file);
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
