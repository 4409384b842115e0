/**
 * The network benchmark's measuring half, run by bench/network.ts inside a private network namespace (so that its
 * bridges, rules and traffic never touch the host's). Prints one JSON line with its figures.
 * SIGTERM (the outer run's cleanup) stops it between two steps; its containers and network go either way.
 * Usage: node network-inner.ts ROOT RUNS
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { HYPERBOX, median, timed } from './harness.ts';

const [root, runsText] = process.argv.slice(2) as [string, string];
const runs = Number(runsText);

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});

async function hb(args: string[]): Promise<string> {
  if (stopping) throw new Error('stopped (SIGTERM)');
  const r = await timed(HYPERBOX, ['--root', root, ...args]);
  if (r.code !== 0) throw new Error(`hyperbox ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function timedRun(): Promise<number> {
  const t = performance.now();
  await hb(['run', '--rm', 'busybox:1', 'true']); // the default network: bridge
  return performance.now() - t;
}

/** iperf3 for 3 s from the client's network namespace to a server in the server's; bits per second received. */
async function iperf(serverNs: string[], clientNs: string[], address: string): Promise<number> {
  const server: ChildProcess = spawn(serverNs[0]!, [...serverNs.slice(1), 'iperf3', '-s', '-1'], {
    stdio: 'ignore',
  });
  try {
    for (let i = 0; i < 50 && !stopping; i++) {
      const r = await timed(clientNs[0]!, [...clientNs.slice(1), 'iperf3', '-c', address, '-t', '3', '-J']);
      // A report without a sum is iperf3's {"error": ...} (the server was not ready yet): try again.
      const bps = r.code === 0 ? receivedBps(r.stdout) : undefined;
      if (bps !== undefined) return bps;
      await new Promise((resolve) => setTimeout(resolve, 100)); // the server is not listening yet
    }
    throw new Error(stopping ? 'stopped (SIGTERM)' : 'iperf3 could not connect');
  } finally {
    server.kill();
  }
}

function receivedBps(report: string): number | undefined {
  const json = JSON.parse(report) as { end?: { sum_received?: { bits_per_second?: number } } };
  return json.end?.sum_received?.bits_per_second;
}

try {
  await measure();
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  // Inside the namespace, where they live: the containers and the user network (with its DNS server).
  await timed(HYPERBOX, ['--root', root, 'rm', '-f', 'perf-server', 'perf-client']);
  await timed(HYPERBOX, ['--root', root, 'network', 'rm', 'perf']);
}

async function measure(): Promise<void> {
  await timedRun(); // first use creates the default bridge and its rules
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timedRun());
  await hb(['network', 'create', 'perf']);
  await hb(['run', '-d', '--name', 'perf-server', '--network', 'perf', 'busybox:1', 'sleep', '300']);
  await hb(['run', '-d', '--name', 'perf-client', '--network', 'perf', 'busybox:1', 'sleep', '300']);
  const pid = async (name: string) => (await hb(['inspect', '-f', '{{.State.Pid}}', name])).trim();
  const serverIp = (await hb(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'perf-server'])).trim();
  const inNs = async (name: string) => ['nsenter', `--net=/proc/${await pid(name)}/ns/net`];
  const containers = await iperf(await inNs('perf-server'), await inNs('perf-client'), serverIp);
  const loopback = await iperf(['env'], ['env'], '127.0.0.1');
  console.log(
    JSON.stringify({ bridgeRunMedianMs: median(times), containersBps: containers, loopbackBps: loopback }),
  );
}
