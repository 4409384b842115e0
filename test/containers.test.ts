import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason, TestRoot } from './helpers/cli.ts';

const skip = privilegedSkipReason();
if (skip) console.log(`# skipping container lifecycle tests: ${skip}`);

describe('containers: the docker life cycle on runc', { skip }, () => {
  let t: TestRoot;
  before(() => {
    t = new TestRoot();
    t.importBusybox();
  });
  after(() => {
    const litter = t.cleanup();
    assert.deepEqual(litter, [], 'nothing of the test root may stay on the host');
  });

  it('run --rm prints the output and leaves no container', () => {
    const r = t.run(['run', '--rm', 'busybox:1', 'echo', 'hi']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.status, 0);
    assert.equal(t.ok(['ps', '-aq']), '');
  });

  it('keeps stdout and stderr apart and returns the exit code', () => {
    const r = t.run(['run', '--rm', 'busybox:1', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.status, 3);
  });

  it('exits 127 for a missing command and 126 for a file that cannot run, naming it', () => {
    const missing = t.run(['run', '--rm', 'busybox:1', 'no-such-command']);
    assert.equal(missing.status, 127, missing.stderr);
    assert.match(missing.stderr, /no-such-command/);
    const cannot = t.run(['run', '--rm', 'busybox:1', '/etc/passwd']);
    assert.equal(cannot.status, 126, cannot.stderr);
    assert.equal(t.ok(['ps', '-aq']), '', 'a failed --rm start leaves nothing');
  });

  it('exits 125 on bad flags and names the bad value', () => {
    const r = t.run(['run', '--memory', 'lots', 'busybox:1', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /invalid value "lots" for --memory/);
    const unknown = t.run(['run', '--bogus', 'busybox:1', 'true']);
    assert.equal(unknown.status, 125);
    assert.match(unknown.stderr, /--bogus/);
    const noImage = t.run(['run', '--rm', 'nosuch:image', 'true']);
    assert.equal(noImage.status, 125);
    assert.match(noImage.stderr, /nosuch:image/);
  });

  it('pipes stdin with -i', () => {
    assert.equal(
      t.ok(['run', '--rm', '-i', 'busybox:1', 'sh', '-c', 'cat; echo done'], { input: 'data\n' }),
      'data\ndone\n',
    );
  });

  it('applies env, workdir, user, hostname, entrypoint and labels', () => {
    const envFile = path.join(t.root, 'env.list');
    fs.writeFileSync(envFile, '# comment\nFROM_FILE=yes\n');
    const out = t.ok([
      'run',
      '--rm',
      '-e',
      'GREETING=hello',
      '--env-file',
      envFile,
      '-w',
      '/tmp',
      '-u',
      'app',
      '--hostname',
      'box1',
      'busybox:1',
      'sh',
      '-c',
      'echo $GREETING $FROM_FILE $(pwd) $(id -u):$(id -g) $(hostname) $HOME',
    ]);
    assert.equal(out, 'hello yes /tmp 1000:1000 box1 /home/app\n');
    assert.equal(
      t.ok(['run', '--rm', '--entrypoint', 'echo', 'busybox:1', 'via', 'entrypoint']),
      'via entrypoint\n',
    );
    const bad = t.run(['run', '--rm', '-u', 'nobody-here', 'busybox:1', 'true']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /nobody-here/);
  });

  it('runs detached: ps, logs, exec, top, stop, start, rm by name and id prefix', () => {
    const id = t
      .ok([
        'run',
        '-d',
        '--name',
        'web',
        '-l',
        'tier=front',
        'busybox:1',
        'sh',
        '-c',
        'echo started; trap "echo bye; exit 0" TERM; while true; do sleep 0.2; done',
      ])
      .trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const ps = t.ok(['ps']);
    assert.match(ps, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n/);
    assert.match(ps, new RegExp(`${id.slice(0, 12)}\\s+busybox:1\\s+"sh -c .*Up .*web`));
    assert.equal(t.ok(['ps', '-q', '--filter', 'label=tier=front']), `${id.slice(0, 12)}\n`);
    const json = JSON.parse(t.ok(['ps', '--format', 'json']).trim());
    assert.equal(json.Names, 'web');
    assert.equal(json.State, 'running');
    waitFor(() => t.ok(['logs', 'web']) === 'started\n');
    assert.match(t.ok(['logs', '-t', 'web']), /^\d{4}-\d\d-\d\dT[\d:.]+Z started\n$/);
    assert.equal(t.ok(['exec', 'web', 'sh', '-c', 'echo in $(hostname)']), `in ${id.slice(0, 12)}\n`);
    assert.equal(t.run(['exec', 'web', 'sh', '-c', 'exit 4']).status, 4);
    assert.equal(t.ok(['exec', '-i', id.slice(0, 8), 'cat'], { input: 'via exec\n' }), 'via exec\n');
    t.ok(['exec', '-d', 'web', 'sh', '-c', 'echo detached > /tmp/marker']);
    waitFor(() => t.run(['exec', 'web', 'cat', '/tmp/marker']).stdout === 'detached\n');
    assert.match(t.ok(['top', 'web']), /PID[\s\S]*sleep|while/);
    const inspect = JSON.parse(t.ok(['inspect', 'web']));
    assert.equal(inspect[0].Id, id);
    assert.equal(inspect[0].State.Running, true);
    assert.equal(t.ok(['inspect', '-f', '{{.Config.Labels.tier}}', 'web']), 'front\n');
    const rm = t.run(['rm', 'web']);
    assert.equal(rm.status, 1);
    assert.match(rm.stderr, /container is running/);
    assert.equal(t.ok(['stop', 'web']), 'web\n');
    assert.equal(t.ok(['logs', 'web']), 'started\nbye\n');
    assert.equal(t.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'web']), 'exited 0\n');
    assert.match(t.ok(['ps', '-a']), /Exited \(0\) .* ago/);
    const notRunning = t.run(['exec', 'web', 'true']);
    assert.equal(notRunning.status, 1);
    assert.match(notRunning.stderr, /container web is not running \(exited .* ago\)/);
    t.ok(['start', 'web']);
    assert.equal(t.ok(['inspect', '-f', '{{.State.Running}}', 'web']), 'true\n');
    t.ok(['rm', '-f', id.slice(0, 10)]);
    assert.equal(t.ok(['ps', '-aq']), '');
  });

  it('wait, kill, pause, unpause, rename, restart and prune', () => {
    t.ok(['run', '-d', '--name', 'sleeper', 'busybox:1', 'sleep', '300']);
    t.ok(['pause', 'sleeper']);
    assert.match(t.ok(['ps']), /\(Paused\)/);
    t.ok(['unpause', 'sleeper']);
    t.ok(['rename', 'sleeper', 'dozer']);
    assert.equal(t.run(['inspect', 'sleeper']).status, 1);
    t.ok(['restart', '-t', '1', 'dozer']);
    assert.equal(t.ok(['inspect', '-f', '{{.State.Running}}', 'dozer']), 'true\n');
    t.ok(['kill', 'dozer']);
    assert.equal(t.ok(['wait', 'dozer']), '137\n');
    t.ok(['create', '--name', 'fresh', 'busybox:1', 'true']);
    assert.match(t.ok(['ps', '-a', '--filter', 'status=created']), /fresh/);
    const pruned = t.ok(['container', 'prune', '-f']);
    assert.match(pruned, /Deleted Containers:/);
    assert.equal(t.ok(['ps', '-aq']), '');
  });

  it('enforces --read-only, tmpfs, binds and named volumes', () => {
    const ro = t.run([
      'run',
      '--rm',
      '--read-only',
      '--tmpfs',
      '/scratch',
      'busybox:1',
      'sh',
      '-c',
      'touch /x || echo refused; touch /scratch/ok && echo tmpfs-ok',
    ]);
    assert.equal(ro.stdout, 'refused\ntmpfs-ok\n');
    const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-bind-'));
    try {
      fs.writeFileSync(path.join(hostDir, 'in.txt'), 'from host\n');
      assert.equal(
        t.ok([
          'run',
          '--rm',
          '-v',
          `${hostDir}:/data`,
          'busybox:1',
          'sh',
          '-c',
          'cat /data/in.txt; echo back > /data/out.txt',
        ]),
        'from host\n',
      );
      assert.equal(fs.readFileSync(path.join(hostDir, 'out.txt'), 'utf8'), 'back\n');
      const roBind = t.run([
        'run',
        '--rm',
        '--mount',
        `type=bind,source=${hostDir},target=/data,readonly`,
        'busybox:1',
        'sh',
        '-c',
        'echo x > /data/y',
      ]);
      assert.notEqual(roBind.status, 0);
    } finally {
      fs.rmSync(hostDir, { recursive: true, force: true });
    }
    t.ok(['run', '--rm', '-v', 'store:/store', 'busybox:1', 'sh', '-c', 'echo kept > /store/f']);
    assert.equal(t.ok(['run', '--rm', '-v', 'store:/store:ro', 'busybox:1', 'cat', '/store/f']), 'kept\n');
    assert.match(t.ok(['volume', 'ls']), /local\s+store/);
    t.ok(['volume', 'rm', 'store']);
  });

  it('enforces memory (OOM kill, exit 137), pids and cpu limits through cgroups', () => {
    const oom = t.run([
      'run',
      '--name',
      'hog',
      '--memory',
      '16m',
      '--memory-swap',
      '16m',
      'busybox:1',
      'sh',
      '-c',
      'tail /dev/zero',
    ]);
    assert.equal(oom.status, 137, oom.stderr);
    assert.equal(t.ok(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'hog']), 'true 137\n');
    t.ok(['rm', 'hog']);
    const bomb = t.ok([
      'run',
      '--rm',
      '--pids-limit',
      '10',
      'busybox:1',
      'sh',
      '-c',
      // The inner shell forks until the kernel refuses, then dies; only builtins run after it.
      'sh -c "while true; do sleep 30 & done" 2>/dev/null; c=0; for p in /proc/[0-9]*; do c=$((c+1)); done; echo $c',
    ]);
    const pids = Number(bomb.trim());
    assert.ok(pids >= 5 && pids <= 10, `pids in the container: ${bomb}`);
    const quota = t.ok([
      'run',
      '--rm',
      '--cpus',
      '0.5',
      'busybox:1',
      'sh',
      '-c',
      'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max',
    ]);
    assert.equal(quota.trim(), '50000');
  });

  it('restarts on failure up to the limit without any hyperbox process waiting', () => {
    t.ok([
      'run',
      '-d',
      '--name',
      'flaky',
      '--restart',
      'on-failure:2',
      'busybox:1',
      'sh',
      '-c',
      'echo try; exit 1',
    ]);
    waitFor(
      () => t.ok(['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'flaky']) === '2 exited\n',
      20_000,
    );
    assert.equal(t.ok(['logs', 'flaky']), 'try\ntry\ntry\n');
    t.ok(['rm', 'flaky']);
  });

  it('copies files both ways with cp, running or stopped, never through a planted symlink', () => {
    const host = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-cp-'));
    try {
      t.ok([
        'run',
        '-d',
        '--name',
        'files',
        'busybox:1',
        'sh',
        '-c',
        'mkdir -p /data && echo inside > /data/a.txt && ln -s / /data/escape && sleep 300',
      ]);
      waitFor(() => t.run(['exec', 'files', 'test', '-L', '/data/escape']).status === 0);
      t.ok(['cp', 'files:/data/a.txt', path.join(host, 'a.txt')]);
      assert.equal(fs.readFileSync(path.join(host, 'a.txt'), 'utf8'), 'inside\n');
      fs.writeFileSync(path.join(host, 'b.txt'), 'outside\n');
      t.ok(['cp', path.join(host, 'b.txt'), 'files:/data/']);
      assert.equal(t.ok(['exec', 'files', 'cat', '/data/b.txt']), 'outside\n');
      // /data/escape -> / inside the container: the copy lands in the container's /tmp, not the host's.
      const marker = `hbx-cp-marker-${process.pid}`;
      fs.writeFileSync(path.join(host, marker), 'x');
      t.ok(['cp', path.join(host, marker), 'files:/data/escape/tmp/']);
      assert.equal(fs.existsSync(path.join('/tmp', marker)), false, 'the host /tmp is untouched');
      assert.equal(t.ok(['exec', 'files', 'cat', `/tmp/${marker}`]), 'x');
      t.ok(['stop', '-t', '0', 'files']);
      t.ok(['cp', 'files:/data', path.join(host, 'copied')]);
      assert.equal(fs.readFileSync(path.join(host, 'copied', 'b.txt'), 'utf8'), 'outside\n');
      t.ok(['rm', 'files']);
    } finally {
      fs.rmSync(host, { recursive: true, force: true });
    }
  });

  it('cp with - writes a tar of a container path to stdout and unpacks a tar from stdin', () => {
    const host = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-cp-tar-'));
    try {
      t.ok([
        'run',
        '-d',
        '--name',
        'tars',
        'busybox:1',
        'sh',
        '-c',
        'mkdir -p /src/sub /dst && echo one > /src/sub/a.txt && ln -s sub/a.txt /src/link && sleep 300',
      ]);
      waitFor(() => t.run(['exec', 'tars', 'test', '-L', '/src/link']).status === 0);
      // Out: a tar the host's tar reads, its top entry the path's base name, the link kept as a link.
      const out = t.runBytes(['cp', 'tars:/src', '-']);
      assert.equal(out.status, 0, out.stderr);
      assert.equal(out.stderr, '');
      const listing = execFileSync('tar', ['-tv'], { input: out.stdout, encoding: 'utf8' });
      assert.deepEqual(
        listing
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(/\s+/).slice(5).join(' '))
          .sort(),
        ['src', 'src/link -> sub/a.txt', 'src/sub', 'src/sub/a.txt'],
      );
      // In: the same tar back into another directory, and one made by the host's tar.
      const back = t.runBytes(['cp', '-', 'tars:/dst'], { input: out.stdout });
      assert.equal(back.status, 0, back.stderr);
      assert.equal(t.ok(['exec', 'tars', 'cat', '/dst/src/sub/a.txt']), 'one\n');
      assert.equal(t.ok(['exec', 'tars', 'readlink', '/dst/src/link']), 'sub/a.txt\n');
      fs.writeFileSync(path.join(host, 'b.txt'), 'from the host\n');
      const hostTar = execFileSync('tar', ['-C', host, '-c', 'b.txt']);
      assert.equal(t.runBytes(['cp', '-', 'tars:/dst/'], { input: hostTar }).status, 0);
      assert.equal(t.ok(['exec', 'tars', 'cat', '/dst/b.txt']), 'from the host\n');
      // Refusals name what is wrong, and change nothing.
      const noDir = t.runBytes(['cp', '-', 'tars:/nosuch'], { input: hostTar });
      assert.equal(noDir.status, 1);
      assert.match(noDir.stderr, /Could not find the file \/nosuch in container tars/);
      const notDir = t.runBytes(['cp', '-', 'tars:/src/sub/a.txt'], { input: hostTar });
      assert.equal(notDir.status, 125);
      assert.match(notDir.stderr, /destination "tars:\/src\/sub\/a.txt" must be a directory/);
      const notTar = t.runBytes(['cp', '-', 'tars:/dst'], { input: Buffer.from('not a tar\n') });
      assert.notEqual(notTar.status, 0);
      const missing = t.runBytes(['cp', 'tars:/nosuch', '-']);
      assert.equal(missing.status, 1);
      assert.equal(missing.stdout.length, 0);
      assert.match(missing.stderr, /Could not find the file \/nosuch in container tars/);
      const noContainer = t.runBytes(['cp', '-', path.join(host, 'x')], { input: hostTar });
      assert.equal(noContainer.status, 125);
      assert.match(noContainer.stderr, /must specify at least one container source/);
      assert.equal(t.ok(['exec', 'tars', 'cat', '/src/sub/a.txt']), 'one\n');
      // A stopped container: its root file system is mounted for the copy, both ways.
      t.ok(['stop', '-t', '0', 'tars']);
      assert.equal(t.runBytes(['cp', '-', 'tars:/src'], { input: hostTar }).status, 0);
      const stopped = t.runBytes(['cp', 'tars:/src/b.txt', '-']);
      assert.equal(stopped.status, 0, stopped.stderr);
      assert.equal(
        execFileSync('tar', ['-xO'], { input: stopped.stdout, encoding: 'utf8' }),
        'from the host\n',
      );
      t.ok(['rm', 'tars']);
    } finally {
      fs.rmSync(host, { recursive: true, force: true });
    }
  });

  it('gives -t a real pty', () => {
    const out = t.ok(['run', '--rm', '-t', 'busybox:1', 'sh', '-c', 'tty']);
    assert.match(out, /^\/dev\/pts\/\d+\r?\n$/);
  });

  it('records events', () => {
    t.ok(['run', '--rm', '--name', 'evt', 'busybox:1', 'true']);
    const events = t.ok([
      'events',
      '--since',
      '1m',
      '--until',
      '0s',
      '--filter',
      'container=evt',
      '--format',
      '{{.Action}}',
    ]);
    assert.deepEqual(events.trim().split('\n'), ['create', 'start', 'die', 'destroy']);
  });
});

function waitFor(check: () => boolean, timeoutMs = 10_000): void {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
  assert.fail('condition not met in time');
}
