import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NotFoundError } from '../../core/errors.ts';
import { detectCgroupVersion, parseLimit } from './cgroup-reader.ts';
import { CgroupV1Reader } from './cgroup-v1.ts';
import { CgroupV2Reader } from './cgroup-v2.ts';

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'cg-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content);
  }
  return root;
}

describe('cgroup readers', () => {
  it('parses limits: max and the v1 page-counter maximum are unlimited', () => {
    assert.equal(parseLimit('max\n'), undefined);
    assert.equal(parseLimit('9223372036854771712\n'), undefined);
    assert.equal(parseLimit('67108864\n'), 67108864);
  });

  it('reads v1 stats from the controller hierarchies', async () => {
    const g = '/hyperbox/c1';
    const root = await tree({
      [`memory${g}/memory.usage_in_bytes`]: '1000\n',
      [`memory${g}/memory.limit_in_bytes`]: '67108864\n',
      [`memory${g}/memory.stat`]: 'cache 10\ninactive_file 7\ntotal_inactive_file 300\n',
      [`cpuacct${g}/cpuacct.usage`]: '123456789\n',
      [`pids${g}/pids.current`]: '3\n',
      [`pids${g}/pids.max`]: 'max\n',
      [`pids${g}/cgroup.procs`]: '10\n11\n12\n',
    });
    try {
      assert.equal(detectCgroupVersion(root), 1);
      const reader = new CgroupV1Reader(root);
      assert.deepEqual(await reader.stats(g), {
        memory: { usage: 1000, limit: 67108864, inactiveFile: 300 },
        cpu: { usageNs: 123456789 },
        pids: { current: 3 },
      });
      assert.deepEqual(await reader.pids(g), [10, 11, 12]);
      assert.deepEqual(
        reader.directories(g),
        ['memory', 'cpuacct', 'pids'].sort().map((c) => path.join(root, c, g)),
      );
      await assert.rejects(reader.stats('/hyperbox/gone'), NotFoundError);
    } finally {
      await rm(root, { recursive: true });
    }
  });

  it('reads v2 stats from the unified hierarchy', async () => {
    const g = '/hyperbox/c1';
    const root = await tree({
      'cgroup.controllers': 'cpu memory pids\n',
      [`${g.slice(1)}/memory.current`]: '2000\n',
      [`${g.slice(1)}/memory.max`]: 'max\n',
      [`${g.slice(1)}/memory.stat`]: 'anon 5\ninactive_file 400\n',
      [`${g.slice(1)}/cpu.stat`]: 'usage_usec 1500\nuser_usec 1000\n',
      [`${g.slice(1)}/pids.current`]: '2\n',
      [`${g.slice(1)}/pids.max`]: '20\n',
      [`${g.slice(1)}/cgroup.procs`]: '7\n8\n',
    });
    try {
      assert.equal(detectCgroupVersion(root), 2);
      const reader = new CgroupV2Reader(root);
      assert.deepEqual(await reader.stats(g), {
        memory: { usage: 2000, inactiveFile: 400 },
        cpu: { usageNs: 1500000 },
        pids: { current: 2, limit: 20 },
      });
      assert.deepEqual(await reader.pids(g), [7, 8]);
      assert.deepEqual(reader.directories(g), [path.join(root, g)]);
    } finally {
      await rm(root, { recursive: true });
    }
  });
});
