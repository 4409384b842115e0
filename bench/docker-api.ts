import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BenchContext, BUSYBOX_IMAGE, HYPERBOX, haveCommand, median, timed } from './lib/harness.ts';
import { runcRunner } from './startup.ts';

export const description =
  'the daemon: `docker run --rm busybox true` through hyperbox serve vs raw runc, GET /containers/json latency';

/** `docker run --rm` through the daemon may take at most this many times raw runc's time. */
const TARGET_RATIO = 3.0;
/** `GET /containers/json` with 100 containers: p99 at most this. */
const TARGET_LIST_P99_MS = 50;
const LISTED_CONTAINERS = 100;
const LIST_REQUESTS = 200;

export async function run(ctx: BenchContext): Promise<void> {
  if (!(await haveCommand('docker'))) {
    ctx.log('  docker CLI: not installed, skipped');
    return;
  }
  const root = await ctx.hyperboxRoot();
  const socket = path.join(root, 'run', 'hyperbox.sock');
  const daemon = await startDaemon(root, socket);
  ctx.defer('stop hyperbox serve', async () => stopDaemon(daemon));
  const env = { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: await ctx.tempDir('docker-config') };

  const runc = await runcRunner(ctx);
  const docker = async () => {
    const r = await timed('docker', ['run', '--rm', '--network', 'none', BUSYBOX_IMAGE, 'true'], { env });
    if (r.code !== 0) throw new Error(`docker run: exit ${r.code}: ${r.stderr.trim()}`);
    return r.ms;
  };
  await runc();
  await docker();
  const runcTimes: number[] = [];
  const dockerTimes: number[] = [];
  for (let i = 0; i < ctx.options.runs; i++) {
    runcTimes.push(await runc());
    dockerTimes.push(await docker());
  }
  const runcMedian = median(runcTimes);
  const dockerMedian = median(dockerTimes);
  const ratio = dockerMedian / runcMedian;
  ctx.log(`  runc run /bin/true                                  median ${ms(runcMedian)}`);
  ctx.log(`  docker run --rm busybox true (hyperbox serve)       median ${ms(dockerMedian)}`);
  ctx.log(
    `  ratio docker-via-hyperbox / runc                    ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x)`,
  );
  ctx.report({ name: 'docker-api: docker run --rm via hyperbox median', value: dockerMedian, unit: 'ms' });
  ctx.report({
    name: 'docker-api: docker run --rm via hyperbox / runc',
    value: ratio,
    unit: 'x',
    target: TARGET_RATIO,
  });
  if (await haveCommand('podman')) {
    try {
      const podman = await podmanCompatRunner(ctx);
      await podman();
      const times: number[] = [];
      for (let i = 0; i < ctx.options.runs; i++) times.push(await podman());
      const podmanMedian = median(times);
      ctx.log(`  docker run --rm busybox true (podman's compat API)  median ${ms(podmanMedian)}`);
      ctx.report({
        name: 'docker-api: docker run --rm via podman service median',
        value: podmanMedian,
        unit: 'ms',
      });
    } catch (err) {
      ctx.log(`  podman's compat API: skipped (${err instanceof Error ? err.message : String(err)})`);
    }
  } else {
    ctx.log('  podman: not installed, skipped');
  }
  if (!(await haveCommand('dockerd'))) ctx.log('  dockerd: not installed, skipped');

  // GET /containers/json with 100 (created, not started) containers.
  const ids: string[] = [];
  ctx.defer('remove the listed containers', () => ctx.removeContainers(ids));
  for (let i = 0; i < LISTED_CONTAINERS; i++) {
    const r = await api(socket, 'POST', '/v1.47/containers/create', {
      Image: BUSYBOX_IMAGE,
      Cmd: ['true'],
      HostConfig: { NetworkMode: 'none' },
    });
    if (r.status !== 201) throw new Error(`create: ${r.status} ${r.body}`);
    ids.push((JSON.parse(r.body) as { Id: string }).Id);
  }
  const latencies: number[] = [];
  for (let i = 0; i < LIST_REQUESTS + 10; i++) {
    const start = process.hrtime.bigint();
    const r = await api(socket, 'GET', '/v1.47/containers/json?all=1');
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 200 || (JSON.parse(r.body) as unknown[]).length < LISTED_CONTAINERS)
      throw new Error(`list: ${r.status}`);
    if (i >= 10) latencies.push(elapsed); // the first few warm the caches
  }
  latencies.sort((a, b) => a - b);
  const p50 = latencies[Math.floor(latencies.length * 0.5)]!;
  const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]!;
  ctx.log(
    `  GET /containers/json, ${LISTED_CONTAINERS} containers   p50 ${ms(p50)}  p99 ${ms(p99)} (${LIST_REQUESTS} requests)`,
  );
  ctx.report({ name: 'docker-api: GET /containers/json p50 (100 containers)', value: p50, unit: 'ms' });
  ctx.report({
    name: 'docker-api: GET /containers/json p99 (100 containers)',
    value: p99,
    unit: 'ms',
    target: TARGET_LIST_P99_MS,
  });
  for (const id of ids.splice(0)) await api(socket, 'DELETE', `/v1.47/containers/${id}?force=1`);
}

/**
 * `podman system service` on a socket of its own (private storage, as bench/startup.ts sets it up) and the docker
 * CLI against it: podman's docker-compatible API, the same client and the same command.
 */
async function podmanCompatRunner(ctx: BenchContext): Promise<() => Promise<number>> {
  const dir = await ctx.tempDir('podman-service');
  const runRoot = await ctx.shortTempDir(); // podman refuses a run root longer than 50 characters
  const global = ['--root', path.join(dir, 'root'), '--runroot', runRoot, '--storage-driver', 'overlay'];
  const more = ['--cgroup-manager', 'cgroupfs', '--events-backend', 'none'];
  const tarball = path.join(dir, 'rootfs.tar');
  const must0 = async (file: string, args: string[]) => {
    const r = await timed(file, args);
    if (r.code !== 0) throw new Error(`${file} ${args[args.length - 2] ?? ''}: ${r.stderr.trim()}`);
  };
  await must0('tar', ['-C', await ctx.busyboxRootfs(), '-cf', tarball, '.']);
  await must0('podman', [...global, ...more, 'import', tarball, 'localhost/hyperbox-bench-busybox']);
  const socket = path.join(dir, 'podman.sock');
  const service = spawn('podman', [...global, ...more, 'system', 'service', '--time=0', `unix://${socket}`], {
    stdio: 'ignore',
  });
  ctx.defer('podman service and storage', async () => {
    await stopDaemon(service);
    await timed('podman', [...global, ...more, 'rm', '-af']);
    await timed('podman', [...global, ...more, 'system', 'reset', '-f']);
    await fs.rm(runRoot, { recursive: true, force: true });
  });
  for (let i = 0; i < 100 && (await api(socket, 'GET', '/_ping').catch(() => undefined))?.status !== 200; i++)
    await sleep(100);
  const env = { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: await ctx.tempDir('podman-docker-config') };
  return async () => {
    const args = [
      'run',
      '--rm',
      '--network',
      'none',
      '--ulimit',
      'nofile=1024:1024',
      'localhost/hyperbox-bench-busybox',
      'true',
    ];
    const r = await timed('docker', args, { env });
    if (r.code !== 0) throw new Error(`docker run via podman: exit ${r.code}: ${r.stderr.trim()}`);
    return r.ms;
  };
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`.padStart(10);
}

async function startDaemon(root: string, socket: string): Promise<ChildProcess> {
  const child = spawn(HYPERBOX, ['--root', root, 'serve'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    log += d;
  });
  for (let i = 0; i < 200; i++) {
    if ((await api(socket, 'GET', '/_ping').catch(() => undefined))?.status === 200) return child;
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`hyperbox serve did not come up: ${log}`);
}

async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

function api(
  socketPath: string,
  method: string,
  urlPath: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        socketPath,
        method,
        path: urlPath,
        headers: payload
          ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
