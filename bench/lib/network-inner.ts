/**
 * The network benchmark's measuring half, run by bench/network.ts inside a private network namespace (so that its
 * bridges, rules and traffic never touch the host's). Prints one JSON line with its figures.
 * Usage: node network-inner.ts ROOT RUNS
 */
import { spawn, spawnSync } from 'node:child_process';
import { HYPERBOX, median } from './harness.ts';

const [root, runsText] = process.argv.slice(2) as [string, string];
const runs = Number(runsText);

function hb(args: string[]): string {
  const r = spawnSync(HYPERBOX, ['--root', root, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`hyperbox ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function timedRun(): number {
  const t = performance.now();
  hb(['run', '--rm', 'busybox:1', 'true']); // the default network: bridge
  return performance.now() - t;
}

/** iperf3 for 3 s from the client's network namespace to a server in the server's; bits per second received. */
async function iperf(serverNs: string[], clientNs: string[], address: string): Promise<number> {
  const server = spawn(serverNs[0]!, [...serverNs.slice(1), 'iperf3', '-s', '-1'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 50; i++) {
      const r = spawnSync(clientNs[0]!, [...clientNs.slice(1), 'iperf3', '-c', address, '-t', '3', '-J'], {
        encoding: 'utf8',
      });
      if (r.status === 0) {
        const json = JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } };
        return json.end.sum_received.bits_per_second;
      }
      await new Promise((resolve) => setTimeout(resolve, 100)); // the server is not listening yet
    }
    throw new Error('iperf3 could not connect');
  } finally {
    server.kill();
  }
}

timedRun(); // first use creates the default bridge and its rules
const times = Array.from({ length: runs }, timedRun);
hb(['network', 'create', 'perf']);
try {
  hb(['run', '-d', '--name', 'perf-server', '--network', 'perf', 'busybox:1', 'sleep', '300']);
  hb(['run', '-d', '--name', 'perf-client', '--network', 'perf', 'busybox:1', 'sleep', '300']);
  const pid = (name: string) => hb(['inspect', '-f', '{{.State.Pid}}', name]).trim();
  const serverIp = hb(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'perf-server']).trim();
  const inNs = (name: string) => ['nsenter', `--net=/proc/${pid(name)}/ns/net`];
  const containers = await iperf(inNs('perf-server'), inNs('perf-client'), serverIp);
  const loopback = await iperf(['env'], ['env'], '127.0.0.1');
  console.log(
    JSON.stringify({ bridgeRunMedianMs: median(times), containersBps: containers, loopbackBps: loopback }),
  );
} finally {
  spawnSync(HYPERBOX, ['--root', root, 'rm', '-f', 'perf-server', 'perf-client']);
  spawnSync(HYPERBOX, ['--root', root, 'network', 'rm', 'perf']);
}
