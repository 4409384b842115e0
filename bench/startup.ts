import fs from 'node:fs/promises';
import path from 'node:path';
import { type BenchContext, BUSYBOX_IMAGE, haveCommand, median, must, timed } from './lib/harness.ts';

export const description =
  'container start-to-exit time: raw runc vs hyperbox run --rm (vs podman, when installed)';

/** hyperbox may take at most this many times raw runc's time for a container that runs /bin/true. */
const TARGET_RATIO = 2.0;

export async function run(ctx: BenchContext): Promise<void> {
  const { runs } = ctx.options;
  const runc = await runcRunner(ctx);
  const hyperbox = async () => {
    const r = await ctx.hyperbox(['run', '--rm', '--network', 'none', BUSYBOX_IMAGE, 'true']);
    return r.ms;
  };
  await ctx.hyperboxRoot();

  // One untimed run each: page cache, node's compile cache, runc's first cgroup setup.
  await runc();
  await hyperbox();
  // Interleaved, so that a slow moment of the host weighs on both sides alike.
  const runcTimes: number[] = [];
  const hyperboxTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    runcTimes.push(await runc());
    hyperboxTimes.push(await hyperbox());
  }
  const runcMedian = median(runcTimes);
  const hyperboxMedian = median(hyperboxTimes);
  const ratio = hyperboxMedian / runcMedian;
  ctx.log(`  runc run /bin/true                               median ${ms(runcMedian)} over ${runs} runs`);
  ctx.log(
    `  hyperbox run --rm --network none busybox true    median ${ms(hyperboxMedian)} over ${runs} runs`,
  );
  ctx.log(
    `  ratio hyperbox / runc                            ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x)`,
  );
  ctx.report({ name: 'startup: runc run median', value: runcMedian, unit: 'ms' });
  ctx.report({ name: 'startup: hyperbox run --rm median', value: hyperboxMedian, unit: 'ms' });
  ctx.report({ name: 'startup: hyperbox / runc', value: ratio, unit: 'x', target: TARGET_RATIO });

  if (!(await haveCommand('podman'))) {
    ctx.log('  podman: not installed, skipped');
    return;
  }
  try {
    const podman = await podmanRunner(ctx);
    await podman();
    const podmanTimes: number[] = [];
    for (let i = 0; i < runs; i++) podmanTimes.push(await podman());
    const podmanMedian = median(podmanTimes);
    ctx.log(
      `  podman run --rm --network none busybox true      median ${ms(podmanMedian)} over ${runs} runs`,
    );
    ctx.report({ name: 'startup: podman run --rm median', value: podmanMedian, unit: 'ms' });
  } catch (err) {
    ctx.log(`  podman: skipped (${err instanceof Error ? err.message : String(err)})`);
  }
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`.padStart(10);
}

/**
 * A runc bundle over the busybox root file system, with runc's own default spec (`runc spec`) made to run /bin/true
 * without a terminal, and a runc state root of its own. Returns one timed `runc run` per call.
 */
export async function runcRunner(ctx: BenchContext): Promise<() => Promise<number>> {
  const dir = await ctx.tempDir('runc');
  const bundle = path.join(dir, 'bundle');
  const state = path.join(dir, 'state');
  await fs.mkdir(bundle);
  await must('runc', ['spec', '--bundle', bundle]);
  const configPath = path.join(bundle, 'config.json');
  const config = JSON.parse(await fs.readFile(configPath, 'utf8')) as {
    process: { terminal: boolean; args: string[] };
    root: { path: string; readonly: boolean };
  };
  config.process.terminal = false;
  config.process.args = ['/bin/true'];
  // Shared with hyperbox's image import, so read-only (as runc spec has it) and named by its absolute path.
  config.root = { path: await ctx.busyboxRootfs(), readonly: true };
  await fs.writeFile(configPath, JSON.stringify(config));
  let n = 0;
  return async () => {
    const id = `hyperbox-bench-${process.pid}-${n++}`;
    const r = await timed('runc', ['--root', state, 'run', '--bundle', bundle, id]);
    if (r.code !== 0) throw new Error(`runc run ${id}: exit ${r.code}: ${r.stderr.trim()}`);
    return r.ms;
  };
}

/** podman with its storage in the scratch directory, the busybox root file system imported as an image. */
async function podmanRunner(ctx: BenchContext): Promise<() => Promise<number>> {
  const dir = await ctx.tempDir('podman');
  const runRoot = await ctx.shortTempDir(); // podman refuses a run root longer than 50 characters
  const global = [
    '--root',
    path.join(dir, 'root'),
    '--runroot',
    runRoot,
    '--storage-driver',
    'overlay',
    '--cgroup-manager',
    'cgroupfs',
    '--events-backend',
    'none',
  ];
  const tarball = path.join(dir, 'rootfs.tar');
  await must('tar', ['-C', await ctx.busyboxRootfs(), '-cf', tarball, '.']);
  await must('podman', [...global, 'import', tarball, 'localhost/hyperbox-bench-busybox']);
  ctx.defer('podman storage', async () => {
    await timed('podman', [...global, 'rm', '-af']);
    await timed('podman', [...global, 'system', 'reset', '-f']);
    await fs.rm(runRoot, { recursive: true, force: true });
  });
  return async () => {
    const r = await must('podman', [
      ...global,
      'run',
      '--rm',
      '--network',
      'none',
      // podman asks runc for nofile 1048576, above this host's hard limit: hand it the host's limits instead.
      '--ulimit',
      'host',
      'localhost/hyperbox-bench-busybox',
      'true',
    ]);
    return r.ms;
  };
}
