import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { minimalConfig } from '../src/core/container/config-example.ts';
import { hostPlatform } from '../src/core/image/platform.ts';
import { privilegedSkipReason, TestRoot } from './helpers/cli.ts';

const skip = privilegedSkipReason();
if (skip) console.log(`# skipping container option tests: ${skip}`);
const noTini = spawnSync('sh', ['-c', 'test -x /usr/bin/tini-static']).status !== 0;

/** CapEff of the container's first process, as a bit mask. */
function capEff(status: string): bigint {
  const m = /^CapEff:\s+([0-9a-f]+)$/m.exec(status);
  assert.ok(m, status);
  return BigInt(`0x${m[1]}`);
}
const CAP_NET_RAW = 13n;
const CAP_SYS_ADMIN = 21n;

describe('container options: security, limits, init, streams', { skip }, () => {
  let t: TestRoot;
  before(() => {
    t = new TestRoot();
    t.importBusybox();
  });
  after(() => {
    assert.deepEqual(t.cleanup(), []);
  });

  it('applies docker default capabilities, --cap-add, --cap-drop and --privileged', () => {
    const base = capEff(t.ok(['run', '--rm', 'busybox:1', 'cat', '/proc/self/status']));
    assert.equal((base >> CAP_NET_RAW) & 1n, 1n, 'NET_RAW is in the default set');
    assert.equal((base >> CAP_SYS_ADMIN) & 1n, 0n, 'SYS_ADMIN is not');
    const dropped = capEff(
      t.ok(['run', '--rm', '--cap-drop', 'NET_RAW', 'busybox:1', 'cat', '/proc/self/status']),
    );
    assert.equal((dropped >> CAP_NET_RAW) & 1n, 0n);
    const added = capEff(
      t.ok(['run', '--rm', '--cap-add', 'CAP_SYS_ADMIN', 'busybox:1', 'cat', '/proc/self/status']),
    );
    assert.equal((added >> CAP_SYS_ADMIN) & 1n, 1n);
    const bad = t.run(['run', '--rm', '--cap-add', 'FLY', 'busybox:1', 'true']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /FLY/);
    const priv = t.ok([
      'run',
      '--rm',
      '--privileged',
      'busybox:1',
      'sh',
      '-c',
      'grep CapEff /proc/self/status; touch /sys/x 2>&1 | head -1',
    ]);
    assert.equal((capEff(priv) >> CAP_SYS_ADMIN) & 1n, 1n);
  });

  it('blocks privilege gains with no-new-privileges and syscalls with the default seccomp profile', () => {
    assert.match(
      t.ok([
        'run',
        '--rm',
        '--security-opt',
        'no-new-privileges',
        'busybox:1',
        'grep',
        'NoNewPrivs',
        '/proc/self/status',
      ]),
      /NoNewPrivs:\s+1/,
    );
    assert.match(t.ok(['run', '--rm', 'busybox:1', 'grep', 'Seccomp:', '/proc/self/status']), /Seccomp:\s+2/);
    assert.match(
      t.ok([
        'run',
        '--rm',
        '--security-opt',
        'seccomp=unconfined',
        'busybox:1',
        'grep',
        'Seccomp:',
        '/proc/self/status',
      ]),
      /Seccomp:\s+0/,
    );
    const bad = t.run(['run', '--rm', '--security-opt', 'apparmor=x', 'busybox:1', 'true']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /apparmor=x/);
  });

  it('hides host paths: masked /proc entries and a read-only /sys', () => {
    const out = t.ok([
      'run',
      '--rm',
      'busybox:1',
      'sh',
      '-c',
      'cat /proc/keys | wc -c; touch /sys/x 2>&1 || echo ro-sys',
    ]);
    assert.match(out, /^0\n/, 'masked: /proc/keys reads as empty');
    assert.match(out, /ro-sys/);
  });

  it('sets ulimits and refuses ones above what the host can grant', () => {
    assert.equal(
      t.ok(['run', '--rm', '--ulimit', 'nofile=100:200', 'busybox:1', 'sh', '-c', 'ulimit -n; ulimit -Hn']),
      '100\n200\n',
    );
    const tooHigh = t.run(['run', '--rm', '--ulimit', 'nofile=99999999', 'busybox:1', 'true']);
    assert.equal(tooHigh.status, 125);
    assert.match(tooHigh.stderr, /nofile/);
  });

  it('writes cpu shares and cpusets to the cgroup', () => {
    const shares = t.ok([
      'run',
      '--rm',
      '--cpu-shares',
      '512',
      '--cpuset-cpus',
      '0',
      'busybox:1',
      'sh',
      '-c',
      'cat /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpuset/cpuset.cpus 2>/dev/null || cat /sys/fs/cgroup/cpu.weight /sys/fs/cgroup/cpuset.cpus',
    ]);
    const [first, second] = shares.trim().split('\n');
    assert.ok(first === '512' || first === '20', `cpu shares/weight: ${first}`);
    assert.equal(second, '0');
  });

  it('runs --init as PID 1 that reaps and forwards signals', {
    skip: noTini ? 'tini-static is not installed (apt-get install tini)' : false,
  }, () => {
    const out = t.ok([
      'run',
      '--rm',
      '--init',
      'busybox:1',
      'sh',
      '-c',
      'cat /proc/1/cmdline | tr "\\0" " "',
    ]);
    assert.match(out, /hyperbox-init/);
  });

  it('honours --stop-signal and --stop-timeout', () => {
    t.ok([
      'run',
      '-d',
      '--name',
      'stubborn',
      '--stop-timeout',
      '1',
      'busybox:1',
      'sh',
      '-c',
      'trap "" TERM; while true; do sleep 0.1; done',
    ]);
    const started = Date.now();
    t.ok(['stop', 'stubborn']);
    const took = Date.now() - started;
    assert.ok(took >= 900 && took < 8000, `stop took ${took} ms`);
    assert.equal(t.ok(['inspect', '-f', '{{.State.ExitCode}}', 'stubborn']), '137\n');
    t.ok(['rm', 'stubborn']);
    t.ok([
      'run',
      '-d',
      '--name',
      'polite',
      '--stop-signal',
      'USR1',
      'busybox:1',
      'sh',
      '-c',
      'trap "exit 9" USR1; while true; do sleep 0.1; done',
    ]);
    t.ok(['stop', 'polite']);
    assert.equal(t.ok(['inspect', '-f', '{{.State.ExitCode}}', 'polite']), '9\n');
    t.ok(['rm', 'polite']);
  });

  it('follows logs until the container stops, with --tail and --since', async () => {
    t.ok([
      'run',
      '-d',
      '--name',
      'talker',
      'busybox:1',
      'sh',
      '-c',
      'for i in 1 2 3; do echo line$i; done; sleep 1; echo last',
    ]);
    const follower = t.spawn(['logs', '-f', 'talker']);
    let out = '';
    follower.stdout.on('data', (d) => {
      out += d;
    });
    const code = await new Promise((resolve) => follower.on('exit', resolve));
    assert.equal(code, 0);
    assert.equal(out, 'line1\nline2\nline3\nlast\n');
    assert.equal(t.ok(['logs', '--tail', '2', 'talker']), 'line3\nlast\n');
    assert.equal(t.ok(['logs', '--since', '1h', 'talker']), 'line1\nline2\nline3\nlast\n');
    assert.equal(t.ok(['logs', '--until', '2000-01-01T00:00:00Z', 'talker']), '');
    t.ok(['rm', 'talker']);
  });

  it('attaches to a running container with stdin and returns its exit code', async () => {
    t.ok([
      'run',
      '-d',
      '-i',
      '--name',
      'echoer',
      'busybox:1',
      'sh',
      '-c',
      'read line; echo got $line; exit 5',
    ]);
    const attached = t.spawn(['attach', 'echoer']);
    let out = '';
    attached.stdout.on('data', (d) => {
      out += d;
    });
    attached.stdin.end('hello\n');
    const code = await new Promise((resolve) => attached.on('exit', resolve));
    assert.equal(out, 'got hello\n');
    assert.equal(code, 5);
    t.ok(['rm', 'echoer']);
  });

  it('reports stats and refuses operations in the wrong state, naming it', () => {
    t.ok(['run', '-d', '--name', 'busy', '-m', '32m', 'busybox:1', 'sleep', '300']);
    const stats = t.ok(['stats', '--no-stream', 'busy']);
    assert.match(
      stats,
      /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS\n/,
    );
    assert.match(stats, /busy\s+\d+\.\d\d%\s+[\d.]+\w*B \/ 32MiB\s+[\d.]+%\s+.*\s1\n$/);
    const again = t.run(['start', '-a', 'busy']);
    assert.notEqual(again.status, 0);
    t.ok(['pause', 'busy']);
    const execPaused = t.run(['exec', 'busy', 'true']);
    assert.equal(execPaused.status, 1);
    assert.match(execPaused.stderr, /container busy is paused/);
    t.ok(['rm', '-f', 'busy']);
    const missing = t.run(['stop', 'busy']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /No such container: busy/);
  });

  it("refuses bad values at create in docker's words, exit 125, before anything is made", async () => {
    const cpus = os.availableParallelism();
    const cases: Array<[string[], string]> = [
      [
        ['--dns', '1.1.1.1\nnameserver 6.6.6.6'],
        'invalid argument "1.1.1.1\\nnameserver 6.6.6.6" for "--dns" flag: IP address is not correctly formatted: 1.1.1.1\nnameserver 6.6.6.6',
      ],
      [
        ['-w', '/tmp\nx'],
        'the working directory "/tmp\\nx" is invalid, it must not contain control characters (a line break)',
      ],
      [
        ['--cpus', '-1'],
        `Range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`,
      ],
      [['-m', '1m'], 'Minimum memory limit allowed is 6MB'],
      [['--cap-add', 'FOO'], 'invalid CapAdd: unknown capability: "CAP_FOO"'],
      [['--ulimit', 'nofile=10:5'], 'ulimit soft limit must be less than or equal to hard limit: 10 > 5'],
      [
        ['--pids-limit', '99999999999999999999'],
        'invalid argument "99999999999999999999" for "--pids-limit" flag: value out of range',
      ],
      [['--ip', '172.17.0.99'], 'user specified IP address is supported on user defined networks only'],
      [
        ['--platform', 'linux/s390x', '--pull', 'never'],
        `image with reference busybox:1 was found but does not match the specified platform: wanted linux/s390x, actual: linux/${hostPlatform().architecture}`,
      ],
      [
        ['--name', 'n'.repeat(300)],
        `invalid container name "${'n'.repeat(64)}…": 300 bytes long, at most 255 are allowed`,
      ],
    ];
    for (const [flags, message] of cases) {
      const r = t.run(['run', '--rm', ...flags, 'busybox:1', 'true']);
      assert.equal(r.status, 125, `${flags.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, `hyperbox: ${message}\n`);
    }
    // Refused before any registry is asked (none listens on port 1).
    const windows = t.run(['pull', '--platform', 'windows/amd64', '127.0.0.1:1/nothing:1']);
    assert.equal(windows.status, 1);
    assert.match(
      windows.stderr,
      /^hyperbox: image operating system "windows" cannot be used on this platform$/m,
    );
    const long = t.run(['volume', 'create', 'v'.repeat(300)]);
    assert.equal(long.status, 125);
    assert.doesNotMatch(long.stderr, /ENAMETOOLONG|\/volumes\//, 'no raw error with a host path');
    assert.equal(t.ok(['ps', '-aq']), '');
    if (t.daemon) {
      // The engine checks again whatever comes: a native create body that skipped the CLI's check.
      const config = { ...minimalConfig(), resources: { nanoCpus: -1 } };
      const r = await postJson(path.join(t.root, 'run', 'hyperbox.sock'), '/hyperbox/v1/containers', {
        config,
      });
      assert.equal(r.status, 400);
      assert.match(r.body, /Range of CPUs is from 0\.01/);
    }
  });
});

function postJson(
  socketPath: string,
  urlPath: string,
  body: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, method: 'POST', path: urlPath, headers: { 'Content-Type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
