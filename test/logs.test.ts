import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { HYPERBOX, privilegedSkipReason, startDaemon, stopDaemon, TestRoot } from './helpers/cli.ts';

const skip = privilegedSkipReason();
if (skip) console.log(`# skipping log driver tests: ${skip}`);

const LINE = '0123456789'.repeat(10); // 100 characters, 101 bytes a line
const MiB = 1024 * 1024;

/** The container's output the json-file driver kept, computed from its files (every rotated one, gzipped or not). */
function keptJsonBytes(dir: string): { bytes: number; files: { name: string; size: number }[] } {
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^container-json\.log(\.\d+(\.gz)?)?$/.test(f))
    .map((name) => ({ name, size: fs.statSync(path.join(dir, name)).size }));
  let bytes = 0;
  for (const f of files) {
    const raw = fs.readFileSync(path.join(dir, f.name));
    const text = (f.name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    for (const line of text.split('\n'))
      if (line) bytes += Buffer.byteLength(JSON.parse(line).log ?? '', 'utf8');
  }
  return { bytes, files };
}

/** `run -d --network none --name NAME busybox:1 sh -c SCRIPT`: a detached container running a shell script. */
function runScript(t: TestRoot, name: string, script: string, flags: string[] = []): void {
  t.ok(['run', '-d', '--network', 'none', '--name', name, ...flags, 'busybox:1', 'sh', '-c', script]);
}

/** `sh -c "<cmd> | wc -c"`: the output through a pipe, counted by another process. */
function countThroughPipe(cmd: string, env: Record<string, string> = {}): number {
  const r = spawnSync('sh', ['-c', `${cmd} | wc -c`], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

describe('log drivers: rotation, streaming at any size, both transports', { skip }, () => {
  let t: TestRoot;
  const dirOf = (name: string) =>
    path.join(t.root, 'containers', t.ok(['inspect', '-f', '{{.Id}}', name]).trim());
  before(() => {
    t = new TestRoot({ transport: 'local' });
    t.importBusybox();
  });
  after(() => {
    const litter = t.cleanup();
    assert.deepEqual(litter, [], 'nothing of the test root may stay on the host');
  });

  it('floods of 20 MiB and 600 MiB: files within the bounded default (20m x 5), logs | wc -c = the bytes kept', () => {
    for (const [name, size] of [
      ['flood20', 20 * MiB],
      ['flood600', 600 * MiB],
    ] as const) {
      runScript(t, name, `yes ${LINE} | head -c ${size}`);
      t.ok(['wait', name]);
      const inspect = JSON.parse(t.ok(['inspect', name]))[0];
      assert.deepEqual(inspect.HostConfig.LogConfig, {
        Type: 'json-file',
        Config: { 'max-file': '5', 'max-size': '20m' },
      });
      const kept = keptJsonBytes(dirOf(name));
      assert.ok(kept.files.length <= 5, `${name}: ${kept.files.length} files`);
      for (const f of kept.files) assert.ok(f.size <= 20_000_000, `${name}: ${f.name} is ${f.size} bytes`);
      const fileBytes = kept.files.reduce((sum, f) => sum + f.size, 0);
      if (name === 'flood20') {
        assert.equal(kept.bytes, size, 'below the bound nothing is dropped');
      } else {
        // The bound is on the files (json is ~1.7x this output): the newest ~100 MB of them are kept.
        assert.equal(kept.files.length, 5);
        assert.ok(
          fileBytes > 80_000_000 && kept.bytes < size,
          `${fileBytes} bytes of files, ${kept.bytes} of output`,
        );
      }
      assert.equal(
        countThroughPipe(`${HYPERBOX} --root ${t.root} logs ${name}`),
        kept.bytes,
        `${name} in-process`,
      );
      // The last two lines: the end of the flood is a line cut short by head (a partial record).
      const partial = size % (LINE.length + 1);
      const tail = t.ok(['logs', '--tail', '2', name]);
      assert.equal(tail, `${LINE}\n${LINE}\n${LINE.slice(0, partial)}`);
    }
  });

  it('streams through the daemon with backpressure: hyperbox logs and docker logs, the same bytes', () => {
    const socket = path.join(t.root, 'run', 'hyperbox.sock');
    const daemon = startDaemon(t.root, socket, {});
    try {
      const env = { DOCKER_HOST: `unix://${socket}` };
      for (const name of ['flood20', 'flood600']) {
        const kept = keptJsonBytes(dirOf(name)).bytes;
        // The CLI finds the daemon on the root's socket.
        assert.equal(
          countThroughPipe(`${HYPERBOX} --root ${t.root} logs ${name}`),
          kept,
          `${name} via the daemon`,
        );
        assert.equal(countThroughPipe(`docker logs ${name}`, env), kept, `${name}: docker logs`);
      }
      // A slow reader: the daemon waits for it instead of piling frames up (the issue's `write EINVAL`).
      const slow = spawnSync('sh', ['-c', `docker logs flood20 | (sleep 1; wc -c)`], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
      assert.equal(Number(slow.stdout.trim()), 20 * MiB);
      const tail = spawnSync('docker', ['logs', '--tail', '1', '-t', 'flood20'], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
      assert.match(tail.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z 0123/);
      const info = spawnSync('docker', ['info', '--format', '{{.LoggingDriver}}'], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
      assert.equal(info.stdout.trim(), 'json-file');
      const bad = spawnSync('docker', ['run', '--log-opt', 'max-size=ten', 'busybox:1', 'true'], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
      assert.equal(bad.status, 125);
      assert.match(bad.stderr, /invalid size: 'ten'/);
    } finally {
      stopDaemon(daemon);
    }
  });

  it('-f sees every line across rotations: the renamed file to its end, then the new one', async () => {
    // A line every ~10 ms, ~16 lines a file: a rotation every ~200 ms while logs -f reads.
    const script =
      'echo ready; while [ ! -e /tmp/go ]; do sleep 0.05; done; ' +
      'i=0; while [ $i -lt 150 ]; do i=$((i+1)); echo line-$i; sleep 0.01; done';
    runScript(t, 'rotating', script, ['--log-opt', 'max-size=1k', '--log-opt', 'max-file=2']);
    const follower: ChildProcess = spawn(HYPERBOX, ['--root', t.root, 'logs', '-f', 'rotating'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    follower.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => follower.once('exit', resolve));
    for (let i = 0; i < 200 && !out.includes('ready\n'); i++) await new Promise((r) => setTimeout(r, 25));
    t.ok(['exec', 'rotating', 'touch', '/tmp/go']);
    assert.equal(await exited, 0, 'logs -f ends when the container has stopped');
    const want = ['ready', ...Array.from({ length: 150 }, (_, i) => `line-${i + 1}`)].join('\n');
    assert.equal(out, `${want}\n`);
    const files = fs.readdirSync(dirOf('rotating')).filter((f) => f.startsWith('container-json.log'));
    assert.deepEqual(
      files.sort(),
      ['container-json.log', 'container-json.log.1'],
      'the log rotated meanwhile',
    );
    assert.ok(!t.ok(['logs', 'rotating']).includes('line-1\n'), 'the oldest lines are gone from the files');
  });

  it('local driver: raw bytes back, rotated and compressed; since, until, -t and --details', () => {
    // biome-ignore format: one flag and its value per line
    t.ok([
      'run', '--network', 'none', '--name', 'loc',
      '--log-driver', 'local', '--log-opt', 'max-size=100k',
      '--label', 'team=core', '--log-opt', 'labels=team',
      'busybox:1', 'sh', '-c', `printf 'raw \\377 bytes\\n'; yes ${LINE} | head -c 500000`,
    ]);
    const files = fs.readdirSync(dirOf('loc')).filter((f) => f.startsWith('container-local.log'));
    assert.ok(files.includes('container-local.log.1.gz'), files.join(' '));
    const r = t.runBytes(['logs', 'loc']);
    assert.equal(r.status, 0, r.stderr);
    // The newest files keep the end of the output, byte for byte.
    assert.ok(r.stdout.length > 300_000 && r.stdout.length < 520_000, String(r.stdout.length));
    const withTime = t.ok(['logs', '-t', '--details', '--tail', '1', 'loc']);
    assert.match(withTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z team=core 0123/);
    assert.equal(t.ok(['logs', '--since', '1m', '--tail', '1', 'loc']).length > 0, true);
    assert.equal(t.ok(['logs', '--until', '2000-01-01T00:00:00Z', 'loc']), '');
    assert.equal(t.ok(['logs', '--since', String(Math.floor(Date.now() / 1000) + 3600), 'loc']), '');
    t.ok([
      'run',
      '--network',
      'none',
      '--name',
      'rawbytes',
      '--log-driver',
      'local',
      'busybox:1',
      'printf',
      'a\\377b\\n',
    ]);
    assert.deepEqual(t.runBytes(['logs', 'rawbytes']).stdout, Buffer.from('a\xffb\n', 'latin1'));
  });

  it('none keeps nothing and logs says so; k8s-file is written by conmon itself', () => {
    t.ok(['run', '--network', 'none', '--name', 'quiet', '--log-driver', 'none', 'busybox:1', 'echo', 'hi']);
    const r = t.run(['logs', 'quiet']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /configured logging driver does not support reading/);
    t.ok([
      'run',
      '--network',
      'none',
      '--name',
      'k8s',
      '--log-driver',
      'k8s-file',
      'busybox:1',
      'echo',
      'hi',
    ]);
    assert.equal(t.ok(['logs', 'k8s']), 'hi\n');
    assert.match(fs.readFileSync(path.join(dirOf('k8s'), 'container.log'), 'utf8'), / stdout F hi\n$/);
  });

  it("refuses bad drivers and options with docker's words and exit 125; engine.json sets the default", () => {
    const cases: [string[], RegExp][] = [
      [['--log-driver', 'nope'], /logger: no log driver named 'nope' is registered/],
      [['--log-opt', 'foo=bar'], /unknown log opt 'foo' for json-file log driver/],
      [['--log-opt', 'max-file=0'], /max-file cannot be less than 1/],
      [['--log-opt', 'novalue'], /invalid key value pair format in logging opts: novalue/],
    ];
    for (const [flags, words] of cases) {
      const r = t.run(['run', '--rm', ...flags, 'busybox:1', 'true']);
      assert.equal(r.status, 125, flags.join(' '));
      assert.match(r.stderr, words);
    }
    const config = path.join(t.root, 'engine.json');
    fs.writeFileSync(config, JSON.stringify({ 'log-driver': 'local', 'log-opts': { 'max-size': '1m' } }));
    try {
      t.ok(['create', '--name', 'bydefault', 'busybox:1', 'true']);
      assert.deepEqual(JSON.parse(t.ok(['inspect', 'bydefault']))[0].HostConfig.LogConfig, {
        Type: 'local',
        Config: { 'max-size': '1m' },
      });
      assert.match(t.ok(['info']), /Logging Driver: local/);
      fs.writeFileSync(config, JSON.stringify({ 'log-driver': 'journald' }));
      const r = t.run(['create', 'busybox:1', 'true']);
      assert.equal(r.status, 125);
      assert.match(r.stderr, /engine.json: failed to set log opts: logger: no log driver named 'journald'/);
    } finally {
      fs.rmSync(config);
    }
  });

  it('the writer exits when its monitor is killed (-9): no litter, the log so far kept', async () => {
    runScript(t, 'orphan', 'echo before; sleep 60');
    const dir = dirOf('orphan');
    for (let i = 0; i < 100 && t.ok(['logs', 'orphan']) !== 'before\n'; i++)
      await new Promise((r) => setTimeout(r, 20));
    const writer = Number(fs.readFileSync(path.join(dir, 'log-writer.pid'), 'utf8'));
    const conmon = Number(fs.readFileSync(path.join(dir, 'conmon.pid'), 'utf8'));
    assert.equal(fs.readFileSync(`/proc/${writer}/comm`, 'utf8').trim(), 'hbx-logwriter');
    process.kill(conmon, 'SIGKILL');
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      await new Promise((r) => setTimeout(r, 20));
      alive =
        fs.existsSync(`/proc/${writer}`) && !/\) Z/.test(fs.readFileSync(`/proc/${writer}/stat`, 'utf8'));
    }
    assert.equal(alive, false, 'the writer saw the FIFO close and exited');
    assert.equal(t.ok(['logs', 'orphan']), 'before\n');
  });
});
