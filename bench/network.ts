import path from 'node:path';
import { type BenchContext, haveCommand, median, TOP, timed } from './lib/harness.ts';
import { runcRunner } from './startup.ts';

export const description =
  'bridge networking: run --rm on the default bridge vs raw runc; iperf3 container-to-container vs host loopback';

/** At most this many times raw runc for `run --rm busybox true` on the default bridge network (podman measures 12.6x here). */
const TARGET_RATIO = 3.0;

export async function run(ctx: BenchContext): Promise<void> {
  if (!(await haveCommand('iperf3'))) {
    ctx.log('  iperf3: not installed (apt-get install iperf3), skipped');
    return;
  }
  const root = await ctx.hyperboxRoot();
  const runc = await runcRunner(ctx);
  await runc();
  const runcTimes: number[] = [];
  for (let i = 0; i < ctx.options.runs; i++) runcTimes.push(await runc());
  // Everything with a network runs in a private network namespace: the host's links and rules are never touched.
  // Asynchronously, so that this process still answers a signal meanwhile; cleanup stops it (SIGTERM, by pid), and
  // it removes what it made in there.
  const inner = path.join(import.meta.dirname, 'lib', 'network-inner.ts');
  const stop = new AbortController();
  const running = timed(
    'bash',
    [
      path.join(TOP, 'scripts', 'in-private-netns.sh'),
      process.execPath,
      inner,
      root,
      String(ctx.options.runs),
    ],
    { signal: stop.signal },
  );
  ctx.defer('the network benchmark in its namespace', async () => {
    stop.abort();
    await running.catch(() => {});
  });
  const limit = setTimeout(() => stop.abort(), 300_000);
  const r = await running.finally(() => clearTimeout(limit));
  if (r.code !== 0) throw new Error(`network benchmark failed: ${r.stderr.trim()}`);
  const figures = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    bridgeRunMedianMs: number;
    containersBps: number;
    loopbackBps: number;
  };
  const runcMedian = median(runcTimes);
  const ratio = figures.bridgeRunMedianMs / runcMedian;
  const gbps = (bps: number) => `${(bps / 1e9).toFixed(2)} Gbit/s`;
  ctx.log(`  runc run /bin/true                                median ${runcMedian.toFixed(1)} ms`);
  ctx.log(
    `  hyperbox run --rm busybox true (default bridge)   median ${figures.bridgeRunMedianMs.toFixed(1)} ms`,
  );
  ctx.log(
    `  ratio hyperbox (bridge) / runc                    ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x)`,
  );
  ctx.log(`  iperf3 container -> container (user network)      ${gbps(figures.containersBps)}`);
  ctx.log(`  iperf3 host loopback                              ${gbps(figures.loopbackBps)}`);
  ctx.report({
    name: 'network: hyperbox bridge run --rm median',
    value: figures.bridgeRunMedianMs,
    unit: 'ms',
  });
  ctx.report({ name: 'network: bridge run / runc', value: ratio, unit: 'x', target: TARGET_RATIO });
  ctx.report({
    name: 'network: container-to-container / loopback',
    value: figures.containersBps / figures.loopbackBps,
    unit: 'x',
  });
}
