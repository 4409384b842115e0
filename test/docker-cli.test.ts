import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pidRuns } from '../src/drivers/proc/process.ts';
import { type CliResult, HYPERBOX, privilegedSkipReason, TestRoot } from './helpers/cli.ts';
import { guestImage, vmSkipReason } from './helpers/guest.ts';
import {
  filesHolding,
  freePort,
  haveTool,
  makeHtpasswd,
  makeTestCa,
  Registry,
  registrySkipReason,
  runAsync,
} from './helpers/registry.ts';

/**
 * The real docker CLI (28.x) against `hyperbox serve` on a temporary socket: what a user of docker types works
 * unchanged, exit codes included, and the daemon can die without taking a container with it.
 */
const skip =
  privilegedSkipReason() ??
  (spawnSync('sh', ['-c', 'command -v docker']).status !== 0 ? 'the docker CLI is not installed' : undefined);
if (skip) console.log(`# skipping docker CLI tests: ${skip}`);

/** A `hyperbox serve` process on the test root; `kill9` and `start` again re-adopt what runs. */
class Daemon {
  readonly socket: string;
  readonly #root: string;
  readonly #env: Record<string, string>;
  #child: ChildProcess | undefined;
  log = '';

  constructor(root: string, env: Record<string, string>) {
    this.#root = root;
    this.socket = path.join(root, 'run', 'hyperbox.sock');
    this.#env = env;
  }

  get pid(): number {
    return this.#child!.pid!;
  }

  async start(args: string[] = []): Promise<void> {
    const child = spawn(HYPERBOX, ['--root', this.#root, 'serve', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.#env },
    });
    child.stdout!.on('data', (d: Buffer) => {
      this.log += d;
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.log += d;
    });
    this.#child = child;
    for (let i = 0; i < 200; i++) {
      if ((await request(this.socket, 'GET', '/_ping').catch(() => undefined))?.status === 200) return;
      if (child.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`daemon did not come up: ${this.log}`);
  }

  /** SIGTERM: a clean stop. */
  async stop(): Promise<number | null> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    return exited;
  }

  async kill9(): Promise<void> {
    const child = this.#child!;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }
}

function request(
  socketPath: string,
  method: string,
  urlPath: string,
  json?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = json === undefined ? {} : { 'Content-Type': 'application/json' };
    const req = http.request({ socketPath, method, path: urlPath, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(json);
  });
}

function haveScript(): boolean {
  return spawnSync('sh', ['-c', 'command -v script']).status === 0;
}

describe('the docker CLI against hyperbox serve', { skip }, () => {
  let t: TestRoot;
  let daemon: Daemon;
  let dockerConfig: string;
  let hyperboxConfig: string;
  const docker = (args: string[], opts: { input?: string; timeoutMs?: number } = {}): CliResult => {
    const r = spawnSync('docker', args, {
      input: opts.input ?? '',
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 60_000,
      env: { ...process.env, DOCKER_HOST: `unix://${daemon.socket}`, DOCKER_CONFIG: dockerConfig },
    });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (args: string[], opts: { input?: string } = {}): string => {
    const r = docker(args, opts);
    if (r.status !== 0)
      throw new Error(`docker ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };

  before(async () => {
    t = new TestRoot();
    t.importBusybox('busybox:latest');
    dockerConfig = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-docker-config-'));
    hyperboxConfig = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-config-'));
    daemon = new Daemon(t.root, { HYPERBOX_CONFIG: hyperboxConfig, HYPERBOX_TLS_VERIFY: 'false' });
    await daemon.start();
  });

  after(async () => {
    const status = await daemon.stop();
    if (process.env.HBX_DAEMON_LOG) console.log(daemon.log);
    assert.equal(status, 0, `the daemon stops cleanly on SIGTERM: ${daemon.log}`);
    assert.equal(fs.existsSync(daemon.socket), false, 'the socket is removed on shutdown');
    fs.rmSync(dockerConfig, { recursive: true, force: true });
    fs.rmSync(hyperboxConfig, { recursive: true, force: true });
    assert.deepEqual(t.cleanup(), [], 'nothing of the test root may stay on the host');
  });

  it('serves a socket of mode 0660 that advertises API 1.44 or newer', async () => {
    assert.equal(fs.statSync(daemon.socket).mode & 0o777, 0o660);
    const ping = await request(daemon.socket, 'HEAD', '/_ping');
    assert.equal(ping.status, 200);
    const [major, minor] = String(ping.headers['api-version']).split('.').map(Number);
    assert.ok(major === 1 && minor! >= 44, `Api-Version ${ping.headers['api-version']}`);
    const v = JSON.parse(ok(['version', '--format', '{{json .Server}}'])) as {
      ApiVersion: string;
      Os: string;
    };
    assert.equal(v.ApiVersion, ping.headers['api-version']);
    assert.equal(v.Os, 'linux');
    assert.equal(
      ok(['info', '--format', '{{.Swarm.LocalNodeState}} {{.OSType}} {{.Images}}']).trim(),
      'inactive linux 1',
    );
    assert.match(ok(['system', 'df']), /^Images\s+1\s/m);
  });

  it('run prints the output of a short-lived container and returns its exit code', () => {
    for (let i = 0; i < 5; i++) {
      const r = docker([
        'run',
        '--rm',
        '--network',
        'none',
        'busybox',
        'sh',
        '-c',
        `echo out${i}; echo err >&2; exit ${i + 3}`,
      ]);
      assert.equal(r.stdout, `out${i}\n`, `attempt ${i}: ${r.stderr}`);
      assert.equal(r.stderr, 'err\n');
      assert.equal(r.status, i + 3);
    }
    assert.equal(ok(['ps', '-aq']), '', '--rm removed every container');
  });

  it("refuses bad values at create in docker's words: exit 125, HTTP 400, no host path", async () => {
    const cpus = os.availableParallelism();
    const refused: Array<[string[], RegExp]> = [
      [['-m', '1m'], /Minimum memory limit allowed is 6MB/],
      [
        ['--cpus', '-1'],
        new RegExp(`Range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs`),
      ],
      [['--cpus', String(cpus + 1)], /Range of CPUs is from 0\.01/],
      [['--cap-add', 'FOO'], /invalid CapAdd: unknown capability: "CAP_FOO"/],
      [['--pids-limit', '99999999'], /invalid PidsLimit 99999999: the kernel allows at most 4194304/],
      [['--ip', '172.17.0.99'], /user specified IP address is supported on user defined networks only/],
      [['-w', '/tmp\nx'], /the working directory "\/tmp\\nx" is invalid/],
      [['-v', `${'v'.repeat(300)}:/data`], /invalid volume name "v{64}…": 300 bytes long/],
    ];
    for (const [flags, message] of refused) {
      const r = docker(['run', '--rm', ...flags, 'busybox', 'true']);
      assert.equal(r.status, 125, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /Error response from daemon/);
      assert.match(r.stderr, message);
      assert.ok(!r.stderr.includes(t.root), r.stderr);
    }
    // The docker CLI refuses a --dns that is no address itself; a body sent straight is refused by the daemon.
    const bodies: Array<[Record<string, unknown>, RegExp]> = [
      [{ Dns: ['1.1.1.1\nnameserver 6.6.6.6'] }, /"--dns" flag: IP address is not correctly formatted/],
      [{ NanoCpus: -1 }, /Range of CPUs/],
      [{ Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 5 }] }, /soft limit must be less than or equal/],
      [{ Ulimits: [{ Name: 'foo', Soft: 1, Hard: 1 }] }, /invalid ulimit type: foo/],
      [{ PidsLimit: 1e30 }, /invalid pidsLimit 1e\+30/],
    ];
    const answers: string[] = [];
    for (const [hostConfig, message] of bodies) {
      const body = JSON.stringify({ Image: 'busybox', HostConfig: hostConfig });
      const r = await request(daemon.socket, 'POST', '/v1.47/containers/create', body);
      assert.equal(r.status, 400, r.body);
      assert.match(JSON.parse(r.body).message, message);
      answers.push(r.body);
    }
    const deep = `${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}`;
    for (const [method, target, body] of [
      ['GET', '/v1.47/containers/%ff/json', undefined],
      ['POST', '/v1.47/containers/create', deep],
      ['POST', '/v1.47/volumes/create', JSON.stringify({ Name: 'v'.repeat(300) })],
    ] as const) {
      const r = await request(daemon.socket, method, target, body);
      assert.equal(r.status, 400, `${method} ${target.slice(0, 40)}: ${r.body}`);
      answers.push(r.body);
    }
    for (const a of answers) assert.ok(!a.includes(t.root), `an answer shows the state root: ${a}`);
    assert.equal(ok(['ps', '-aq']), '', 'nothing was created');
  });

  it('runs 8 containers at once, each with its own output and exit code', async () => {
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        runAsync(
          'docker',
          ['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', `echo par${i}; exit ${i}`],
          {
            env: { DOCKER_HOST: `unix://${daemon.socket}`, DOCKER_CONFIG: dockerConfig },
          },
        ),
      ),
    );
    runs.forEach((r, i) => {
      assert.equal(r.stdout, `par${i}\n`, r.stderr);
      assert.equal(r.status, i);
    });
    assert.equal(ok(['ps', '-aq']), '');
  });

  it('keeps the output flowing after stdin closed (half-close) and sends stdin through', () => {
    const r = docker(
      ['run', '-i', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'cat; sleep 0.5; echo after'],
      {
        input: 'from stdin\n',
      },
    );
    assert.equal(r.stdout, 'from stdin\nafter\n', r.stderr);
    assert.equal(r.status, 0);
  });

  it('a command that does not exist exits 127, naming it', () => {
    const r = docker(['run', '--rm', '--network', 'none', 'busybox', 'no-such-command']);
    assert.equal(r.status, 127, r.stderr);
    assert.match(r.stderr, /no-such-command/);
    assert.equal(ok(['ps', '-aq']), '');
  });

  it('run -d, ps (-a, -q, --filter), logs, exec, inspect, stop, rm -f', () => {
    const id = ok([
      'run',
      '-d',
      '--name',
      'web',
      '--network',
      'none',
      'busybox',
      'sh',
      '-c',
      'echo started; exec sleep 1000',
    ]).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    ok(['create', '--name', 'idle', '--network', 'none', 'busybox', 'true']);
    assert.match(ok(['ps']), /\bweb\n/);
    assert.doesNotMatch(ok(['ps']), /\bidle\b/);
    assert.match(ok(['ps', '-a']), /\bidle\n/);
    assert.equal(ok(['ps', '-q']).trim(), id.slice(0, 12));
    assert.equal(ok(['ps', '-a', '--filter', 'status=created', '--format', '{{.Names}}']).trim(), 'idle');
    assert.equal(
      ok(['ps', '--filter', 'name=we', '--format', '{{.Names}} {{.Status}}']).trim().split(' ')[0],
      'web',
    );
    assert.equal(ok(['logs', 'web']), 'started\n');
    assert.equal(docker(['exec', 'web', 'sh', '-c', 'exit 7']).status, 7);
    assert.equal(ok(['exec', 'web', 'cat', '/proc/1/cmdline']).replaceAll('\0', ' ').trim(), 'sleep 1000');
    assert.equal(ok(['exec', '-i', 'web', 'cat'], { input: 'through exec\n' }), 'through exec\n');
    assert.equal(
      ok(['inspect', '-f', '{{.State.Status}} {{.Name}} {{.Id}}', 'web']).trim(),
      `running /web ${id}`,
    );
    assert.match(ok(['top', 'web']), /sleep 1000/);
    assert.match(ok(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'web']), /^web 1$/m);
    ok(['rename', 'web', 'web2']);
    assert.equal(ok(['stop', '-t', '1', 'web2']).trim(), 'web2');
    assert.equal(ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'web2']).trim(), 'exited 137');
    assert.equal(ok(['wait', 'web2']).trim(), '137');
    ok(['rm', '-f', 'web2', 'idle']);
    const missing = docker(['inspect', 'web2']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /No such object: web2/);
    assert.equal(docker(['rm', '-f', 'nothing-here']).status, 0, 'rm -f ignores a missing container (404)');
    assert.equal(ok(['ps', '-aq']), '');
  });

  it('images, tag, rmi; networks; volumes', () => {
    assert.match(ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /^busybox:latest$/m);
    ok(['tag', 'busybox', 'mybox:2']);
    assert.match(ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /^mybox:2$/m);
    assert.match(ok(['rmi', 'mybox:2']), /Untagged: mybox:2/);
    assert.doesNotMatch(ok(['images']), /mybox/);
    assert.equal(docker(['rmi', 'nosuch:1']).status, 1);

    const net = ok(['network', 'create', 'apinet']).trim();
    assert.match(net, /^[0-9a-f]{64}$/);
    assert.match(ok(['network', 'ls', '--format', '{{.Name}}']), /^apinet$/m);
    assert.equal(ok(['network', 'inspect', '-f', '{{.Id}}', 'apinet']).trim(), net);
    assert.equal(
      docker(['network', 'create', 'apinet']).status,
      1,
      'a second network of that name conflicts',
    );
    ok(['network', 'rm', 'apinet']);
    assert.doesNotMatch(ok(['network', 'ls']), /apinet/);

    assert.equal(ok(['volume', 'create', 'apivol']).trim(), 'apivol');
    assert.match(ok(['volume', 'ls', '-q']), /^apivol$/m);
    assert.equal(ok(['volume', 'inspect', '-f', '{{.Driver}}', 'apivol']).trim(), 'local');
    ok([
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      'apivol:/data',
      'busybox',
      'sh',
      '-c',
      'echo kept > /data/f',
    ]);
    assert.equal(
      ok(['run', '--rm', '--network', 'none', '-v', 'apivol:/data', 'busybox', 'cat', '/data/f']),
      'kept\n',
    );
    ok(['volume', 'rm', 'apivol']);
    assert.doesNotMatch(ok(['volume', 'ls', '-q']), /apivol/);
  });

  it('start -a, attach, logs -f, cp both ways, events', async () => {
    ok(['create', '--name', 'once', '--network', 'none', 'busybox', 'sh', '-c', 'echo from-start; exit 5']);
    const started = docker(['start', '-a', 'once']);
    assert.equal(started.stdout, 'from-start\n');
    assert.equal(started.status, 5);
    ok(['rm', 'once']);

    ok([
      'run',
      '-d',
      '--name',
      'late',
      '--network',
      'none',
      'busybox',
      'sh',
      '-c',
      'sleep 0.5; echo attached; exit 2',
    ]);
    const attached = docker(['attach', 'late']);
    assert.equal(attached.stdout, 'attached\n');
    assert.equal(attached.status, 2);
    ok(['rm', 'late']);

    ok([
      'run',
      '-d',
      '--name',
      'ticker',
      '--network',
      'none',
      'busybox',
      'sh',
      '-c',
      'for i in 1 2 3; do echo tick$i; sleep 0.2; done',
    ]);
    assert.equal(
      ok(['logs', '-f', 'ticker']),
      'tick1\ntick2\ntick3\n',
      'logs -f follows until the container stops',
    );

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-cp-'));
    try {
      fs.mkdirSync(path.join(dir, 'tree', 'sub'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'tree', 'sub', 'a'), 'in a tree\n');
      ok(['cp', path.join(dir, 'tree'), 'ticker:/root/']);
      ok(['cp', 'ticker:/root/tree/sub/a', path.join(dir, 'back')]);
      assert.equal(fs.readFileSync(path.join(dir, 'back'), 'utf8'), 'in a tree\n');
      ok(['cp', 'ticker:/root/tree', path.join(dir, 'tree-back')]);
      assert.equal(fs.readFileSync(path.join(dir, 'tree-back', 'sub', 'a'), 'utf8'), 'in a tree\n');
      assert.notEqual(docker(['cp', 'ticker:/no/such/file', dir]).status, 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }

    const since = Math.floor(Date.now() / 1000) - 60;
    const events = ok([
      'events',
      '--since',
      String(since),
      '--until',
      String(Math.ceil(Date.now() / 1000) + 1),
      '--filter',
      'container=ticker',
      '--format',
      '{{.Action}}',
    ]);
    assert.deepEqual(events.trim().split('\n').slice(0, 3), ['create', 'start', 'die']);
    ok(['rm', 'ticker']);
  });

  it('gives a tty its size from the first byte (-t) and takes resizes', {
    skip: !haveScript() && 'script(1) is missing',
  }, () => {
    const inPty = (command: string) =>
      spawnSync('script', ['-qec', `stty cols 123 rows 45; ${command}`, '/dev/null'], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, DOCKER_HOST: `unix://${daemon.socket}`, DOCKER_CONFIG: dockerConfig },
      });
    const run = inPty(`docker run -t --rm --network none busybox stty size`);
    assert.match(run.stdout, /45 123/, run.stderr);
    ok(['run', '-d', '--name', 'tty', '--network', 'none', 'busybox', 'sleep', '1000']);
    const exec = inPty('docker exec -t tty stty size');
    assert.match(exec.stdout, /45 123/, exec.stderr);
    ok(['rm', '-f', 'tty']);
  });

  it('dockerode: create, attach before start, wait, and a 404', async () => {
    const { default: Docker } = await import('dockerode');
    const d = new Docker({ socketPath: daemon.socket });
    const c = await d.createContainer({
      Image: 'busybox',
      Cmd: ['sh', '-c', 'echo dockerode-out; echo dockerode-err >&2; exit 6'],
      HostConfig: { NetworkMode: 'none' },
    });
    const stream = (await c.attach({
      stream: true,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as NodeJS.ReadableStream;
    const ended = new Promise((resolve) => stream.once('end', resolve));
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (x: Buffer) => {
      stdout += x;
    });
    err.on('data', (x: Buffer) => {
      stderr += x;
    });
    d.modem.demuxStream(stream, out, err);
    const waiting = c.wait({ condition: 'next-exit' });
    await c.start();
    assert.equal(((await waiting) as { StatusCode: number }).StatusCode, 6);
    await ended;
    assert.equal(stdout, 'dockerode-out\n');
    assert.equal(stderr, 'dockerode-err\n');
    await c.remove();
    await assert.rejects(
      d.getContainer('nosuch').inspect(),
      (e: { statusCode?: number }) => e.statusCode === 404,
    );
  });

  it('save, load, image inspect, restart, kill, wait', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-save-'));
    try {
      const id = ok(['image', 'inspect', '-f', '{{.Id}}', 'busybox']).trim();
      assert.match(id, /^sha256:[0-9a-f]{64}$/);
      ok(['save', '-o', path.join(dir, 'bb.tar'), 'busybox']);
      ok(['tag', 'busybox', 'saved:1']);
      ok(['rmi', 'saved:1']);
      assert.match(ok(['load', '-i', path.join(dir, 'bb.tar')]), /Loaded image: busybox:latest/);
      assert.equal(ok(['image', 'inspect', '-f', '{{.Id}}', 'busybox']).trim(), id);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    ok(['run', '-d', '--name', 'r1', '--network', 'none', 'busybox', 'sleep', '1000']);
    const before = ok(['inspect', '-f', '{{.State.Pid}}', 'r1']).trim();
    ok(['restart', '-t', '0', 'r1']);
    const after = ok(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'r1']).trim().split(' ');
    assert.equal(after[0], 'running');
    assert.notEqual(after[1], before, 'restart runs a new process');
    ok(['kill', 'r1']);
    assert.equal(ok(['wait', 'r1']).trim(), '137');
    assert.equal(docker(['kill', 'r1']).status, 1, 'killing a stopped container is a conflict');
    ok(['rm', 'r1']);
  });

  it('restart policies are applied by the daemon', async () => {
    ok([
      'run',
      '-d',
      '--name',
      'flaky',
      '--restart',
      'on-failure:2',
      '--network',
      'none',
      'busybox',
      'sh',
      '-c',
      'exit 1',
    ]);
    let state = '';
    for (let i = 0; i < 100; i++) {
      state = ok([
        'inspect',
        '-f',
        '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}',
        'flaky',
      ]).trim();
      if (state === 'exited 2 1') break;
      await sleep(100);
    }
    assert.equal(state, 'exited 2 1', 'two restarts, then it stays down with its exit code');
    ok(['rm', 'flaky']);
  });

  it('user networks: names resolve, -p shows in ps, connect and disconnect', () => {
    ok(['network', 'create', 'appnet']);
    ok(['network', 'create', 'othernet']);
    try {
      ok([
        'run',
        '-d',
        '--name',
        'srv',
        '--network',
        'appnet',
        '-p',
        '18080:80',
        'busybox',
        'httpd',
        '-f',
        '-p',
        '80',
        '-h',
        '/etc',
      ]);
      assert.match(ok(['ps', '--format', '{{.Names}} {{.Ports}}']), /^srv 0\.0\.0\.0:18080->80\/tcp$/m);
      const got = docker([
        'run',
        '--rm',
        '--network',
        'appnet',
        'busybox',
        'wget',
        '-qO-',
        'http://srv/hostname',
      ]);
      assert.equal(got.status, 0, got.stderr);
      assert.equal(got.stdout.trim(), ok(['inspect', '-f', '{{.Config.Hostname}}', 'srv']).trim());
      ok(['network', 'connect', 'othernet', 'srv']);
      assert.match(
        ok(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'srv']),
        /appnet othernet|othernet appnet/,
      );
      ok(['network', 'disconnect', 'othernet', 'srv']);
      assert.doesNotMatch(
        ok(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'srv']),
        /othernet/,
      );
    } finally {
      docker(['rm', '-f', 'srv']);
      docker(['network', 'rm', 'appnet', 'othernet']);
    }
  });

  it('answers 100 concurrent API requests', async () => {
    const paths = ['/_ping', '/v1.47/containers/json?all=1', '/v1.47/images/json', '/version', '/v1.47/info'];
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => request(daemon.socket, 'GET', paths[i % paths.length]!)),
    );
    assert.deepEqual(
      replies.map((r) => r.status),
      Array(100).fill(200),
    );
    const notFound = await request(daemon.socket, 'GET', '/v1.47/containers/nosuch/json');
    assert.equal(notFound.status, 404);
    assert.equal(notFound.headers['content-type'], 'application/json');
    assert.match(JSON.parse(notFound.body).message, /nosuch/);
  });

  it('pushes to and pulls from a registry with progress', { skip: registrySkipReason() }, async () => {
    const registry = await Registry.start();
    try {
      const ref = `${registry.host}/api/bb:1`;
      ok(['tag', 'busybox', ref]);
      assert.match(ok(['push', ref]), /digest: sha256:[0-9a-f]{64}/);
      ok(['rmi', ref]);
      const pulled = docker(['pull', ref]);
      assert.equal(pulled.status, 0, pulled.stderr);
      assert.match(pulled.stdout, /Status: Downloaded newer image for/);
      assert.match(
        ok(['images', '--format', '{{.Repository}}:{{.Tag}}']),
        new RegExp(`^${registry.host}/api/bb:1$`, 'm'),
      );
      assert.equal(ok(['run', '--rm', '--network', 'none', ref, 'echo', 'pulled']), 'pulled\n');
      ok(['rmi', ref]);
      const missing = docker(['pull', `${registry.host}/api/nosuch:1`]);
      assert.notEqual(missing.status, 0);
    } finally {
      await registry.stop();
    }
  });

  it('login only checks the credentials (the CLI keeps them, the daemon none); after logout a pull is refused', {
    skip: registrySkipReason(),
  }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-auth-'));
    const registry = await Registry.start({
      htpasswd: makeHtpasswd(path.join(dir, 'htpasswd'), 'alice', 's3cret-Pa55'),
    });
    const ref = `${registry.host}/private/bb:1`;
    try {
      const bad = docker(['login', '-u', 'alice', '--password-stdin', registry.host], { input: 'wrong\n' });
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /unauthorized|401|denied/i);
      const good = docker(['login', '-u', 'alice', '--password-stdin', registry.host], {
        input: 's3cret-Pa55\n',
      });
      assert.equal(good.status, 0, good.stderr);
      assert.match(good.stdout, /Login Succeeded/);
      const secret = Buffer.from('alice:s3cret-Pa55').toString('base64');
      assert.deepEqual(
        filesHolding(dockerConfig, secret),
        ['config.json'],
        'the docker CLI stores the login',
      );
      for (const where of [hyperboxConfig, t.root]) {
        for (const s of ['s3cret-Pa55', secret])
          assert.deepEqual(filesHolding(where, s), [], `the daemon stores no password under ${where}`);
      }
      ok(['tag', 'busybox', ref]);
      assert.match(ok(['push', ref]), /digest: sha256:/);
      ok(['rmi', ref]);
      const pulled = docker(['pull', ref]);
      assert.equal(pulled.status, 0, pulled.stderr);
      ok(['rmi', ref]);
      assert.equal(docker(['logout', registry.host]).status, 0);
      const denied = docker(['pull', ref]);
      assert.equal(denied.status, 1, 'after logout the daemon pulls anonymously, as dockerd');
      assert.match(denied.stderr, /unauthorized/i);
    } finally {
      await registry.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pulls and pushes with the credentials the docker CLI sends (X-Registry-Auth), storing none', {
    skip: registrySkipReason(),
  }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-xauth-'));
    const registry = await Registry.start({
      htpasswd: makeHtpasswd(path.join(dir, 'htpasswd'), 'bob', 'hunter2'),
    });
    // The docker CLI's own credentials (no `docker login` against the daemon): it sends them with each request.
    const clientConfig = path.join(dir, 'docker');
    fs.mkdirSync(clientConfig);
    const auth = Buffer.from('bob:hunter2').toString('base64');
    fs.writeFileSync(
      path.join(clientConfig, 'config.json'),
      JSON.stringify({ auths: { [registry.host]: { auth } } }),
    );
    const withAuth = (args: string[]) =>
      spawnSync('docker', args, {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, DOCKER_HOST: `unix://${daemon.socket}`, DOCKER_CONFIG: clientConfig },
      });
    try {
      const ref = `${registry.host}/team/bb:1`;
      ok(['tag', 'busybox', ref]);
      const anonymous = docker(['push', ref]);
      assert.notEqual(anonymous.status, 0, 'a push without credentials must be refused');
      const pushed = withAuth(['push', ref]);
      assert.equal(pushed.status, 0, pushed.stderr);
      ok(['rmi', ref]);
      const pulled = withAuth(['pull', ref]);
      assert.equal(pulled.status, 0, pulled.stderr);
      assert.match(ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), new RegExp(`^${ref}$`, 'm'));
      ok(['rmi', ref]);
      assert.notEqual(docker(['pull', ref]).status, 0, 'the credentials were for those requests only');
    } finally {
      await registry.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('listens on TCP only with mutual TLS', {
    skip: !haveTool('openssl') && 'openssl is missing',
  }, async () => {
    const plain = t.run(['serve', '-H', 'tcp://127.0.0.1:2376']);
    assert.equal(plain.status, 125);
    assert.match(plain.stderr, /refusing to listen on tcp:\/\/127\.0\.0\.1:2376 without mutual TLS/);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-tls-'));
    try {
      const tls = makeTestCa(dir);
      const f = (name: string) => path.join(dir, name);
      const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
      openssl([
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=client',
        '-keyout',
        f('client.key'),
        '-out',
        f('client.csr'),
      ]);
      fs.writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
      openssl([
        'x509',
        '-req',
        '-in',
        f('client.csr'),
        '-CA',
        tls.caCert,
        '-CAkey',
        f('ca.key'),
        '-CAcreateserial',
        '-days',
        '2',
        '-extfile',
        f('client.ext'),
        '-out',
        f('client.crt'),
      ]);
      const port = await freePort();
      await daemon.stop();
      await daemon.start([
        '-H',
        `tcp://127.0.0.1:${port}`,
        '--tls-verify',
        '--tls-cacert',
        tls.caCert,
        '--tls-cert',
        tls.cert,
        '--tls-key',
        tls.key,
      ]);
      const tcp = (args: string[]) =>
        spawnSync(
          'docker',
          ['-H', `tcp://127.0.0.1:${port}`, ...args, 'version', '--format', '{{.Server.Version}}'],
          {
            encoding: 'utf8',
            timeout: 30_000,
            env: { ...process.env, DOCKER_HOST: '', DOCKER_CONFIG: dockerConfig },
          },
        );
      const withCert = tcp([
        '--tlsverify',
        '--tlscacert',
        tls.caCert,
        '--tlscert',
        f('client.crt'),
        '--tlskey',
        f('client.key'),
      ]);
      assert.equal(withCert.status, 0, withCert.stderr);
      assert.match(withCert.stdout, /^\d+\.\d+\.\d+/);
      const noCert = tcp(['--tlsverify', '--tlscacert', tls.caCert]);
      assert.notEqual(noCert.status, 0, 'a client without a certificate is refused');
      const noTls = tcp([]);
      assert.notEqual(noTls.status, 0, 'plain HTTP is refused');
    } finally {
      await daemon.stop();
      await daemon.start();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a container and a VM survive kill -9 of the daemon and are re-adopted by the next one', async () => {
    const id = ok([
      'run',
      '-d',
      '--name',
      'survivor',
      '--network',
      'none',
      'busybox',
      'sleep',
      '1000',
    ]).trim();
    const pid = Number(ok(['inspect', '-f', '{{.State.Pid}}', id]).trim());
    assert.ok(pidRuns(pid));
    ok(['run', '-d', '--name', 'brief', '--network', 'none', 'busybox', 'sh', '-c', 'sleep 0.5; exit 3']);
    ok([
      'run',
      '-d',
      '--rm',
      '--name',
      'brief-rm',
      '--network',
      'none',
      'busybox',
      'sh',
      '-c',
      'sleep 0.5; exit 4',
    ]);
    // A VM too, when QEMU is here (the vm commands run in-process; the daemon only sees it in its state).
    const withVm = vmSkipReason() === undefined;
    let qemuPid = 0;
    if (withVm) {
      const guest = guestImage();
      const hb = (args: string[]) =>
        execFileSync(HYPERBOX, ['--root', t.root, ...args], {
          encoding: 'utf8',
          env: { ...process.env, HYPERBOX_HOST: '' },
        });
      hb([
        'vm',
        'create',
        '--name',
        'steady',
        '--memory',
        '128M',
        '--kernel',
        guest.kernel,
        '--initrd',
        guest.initrd,
      ]);
      hb(['vm', 'start', 'steady']);
      qemuPid = Number(hb(['vm', 'inspect', '-f', '{{.State.Pid}}', 'steady']).trim());
      assert.ok(qemuPid > 0 && pidRuns(qemuPid));
    }
    await daemon.kill9();
    await sleep(1500);
    assert.ok(pidRuns(pid), 'the container outlives the daemon');
    if (withVm) assert.ok(pidRuns(qemuPid), 'the VM outlives the daemon');
    // The socket file is stale now: a new daemon replaces it.
    await daemon.start();
    assert.equal(ok(['ps', '--format', '{{.Names}} {{.State}}']).trim(), 'survivor running');
    if (withVm) {
      const vms = JSON.parse((await request(daemon.socket, 'GET', '/hyperbox/v1/vms')).body) as {
        name: string;
        state: { status: string; qemu?: { pid: number } };
      }[];
      const steady = vms.find((v) => v.name === 'steady');
      assert.equal(steady?.state.status, 'running', JSON.stringify(vms));
      assert.equal(steady?.state.qemu?.pid, qemuPid, 'the same QEMU, re-adopted');
      execFileSync(HYPERBOX, ['--root', t.root, 'vm', 'rm', '-f', 'steady'], {
        env: { ...process.env, HYPERBOX_HOST: '' },
      });
      assert.equal(pidRuns(qemuPid), false);
    }
    // Exits that happened while no daemon ran are caught up: the exit code recorded, --rm honoured.
    assert.equal(ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'brief']).trim(), 'exited 3');
    assert.equal(
      docker(['inspect', 'brief-rm']).status,
      1,
      'an --rm container that exited meanwhile is removed',
    );
    ok(['rm', 'brief']);
    assert.equal(ok(['exec', 'survivor', 'echo', 'adopted']), 'adopted\n');
    ok(['kill', 'survivor']);
    assert.equal(ok(['wait', 'survivor']).trim(), '137');
    assert.equal(pidRuns(pid), false);
    ok(['rm', 'survivor']);
  });
});
