import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Digest } from '../../core/image/digest.ts';
import type { LayerStore } from '../../core/image/stores.ts';
import type { Layout } from '../../core/paths.ts';
import { pidRuns } from '../../drivers/proc/process.ts';

/**
 * Clean-up after crashed writers (`kill -9` in the middle of a pull or load). Ingest files and unpack
 * directories carry their writer's pid; those whose writer is gone are removed. An unpacked layer that no image
 * refers to and that is older than `orphanAgeMs` is a layer whose pull died between unpacking and committing: it
 * is removed too (younger ones may belong to a pull still running in another process).
 */
export async function sweepCrashLeftovers(opts: {
  layout: Layout;
  layers: LayerStore;
  isKnownChain: (chainId: Digest) => boolean;
  orphanAgeMs?: number;
  now?: number;
}): Promise<{ removed: string[] }> {
  const removed: string[] = [];
  const { layout } = opts;
  for (const [dir, pattern] of [
    [layout.ingest, /^(\d+)-[0-9a-f]+$/],
    [layout.tmp, /^(?:unpack|pull)-(\d+)-/],
    [layout.tmp, /^removing-[0-9a-f]+-(\d+)-/],
  ] as const) {
    for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
      const m = pattern.exec(name);
      if (!m || pidRuns(Number(m[1]))) continue;
      await fsp.rm(path.join(dir, name), { recursive: true, force: true });
      removed.push(path.join(dir, name));
    }
  }
  const age = opts.orphanAgeMs ?? 60 * 60 * 1000;
  const now = opts.now ?? Date.now();
  for (const chainId of await opts.layers.list()) {
    if (opts.isKnownChain(chainId)) continue;
    const dir = path.dirname(opts.layers.dir(chainId));
    const st = await fsp.stat(dir).catch(() => undefined);
    if (!st || now - st.mtimeMs < age) continue;
    await opts.layers.remove(chainId)();
    removed.push(dir);
  }
  return { removed };
}
