import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CliResult, HYPERBOX, litterOf, privilegedSkipReason, TestRoot } from './helpers/cli.ts';

/**
 * A state root on a 64 MiB tmpfs filled to its last byte — by a container writing into a volume, then by `dd` on
 * the host — must still be freed: removals work, commands that need space say so (the path, what to free, exit
 * 125), reads go on, and nothing already stored changes. In-process first, then the docker CLI against a daemon.
 */
const skip = privilegedSkipReason();
const dockerSkip =
  skip ??
  (spawnSync('sh', ['-c', 'command -v docker']).status !== 0 ? 'the docker CLI is not installed' : undefined);
if (dockerSkip) console.log(`# skipping full-disk tests: ${dockerSkip}`);

const TMPFS_SIZE = '64m';
/** A detached container's command: exits 6 once the filler says the disk is full. */
const WAIT_FOR_FULL = 'until [ -e /data/full ]; do sleep 0.1; done; exit 6';
const RESERVE_BYTES = 1024 * 1024;

function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bfree * s.bsize;
}

/** What the root's space reserve holds now. */
function reserveHeld(root: string): number {
  try {
    return fs.statSync(path.join(root, 'space-reserve')).size;
  } catch {
    return 0;
  }
}

/** Appends to `file` until the file system is full: 64 KiB at a time, then smaller, down to the last byte. */
function fillUp(file: string): void {
  const fd = fs.openSync(file, 'a');
  try {
    for (const size of [64 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          fs.writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** What a failed command that needed space must say: no SQLite jargon, the root, the way out, docker's 125. */
function assertNoSpace(r: CliResult, root: string, what: string, status = 125): void {
  assert.equal(r.status, status, `${what}: exit ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, /no space left on device: /, what);
  assert.ok(r.stderr.includes(root), `${what} names the state root: ${r.stderr}`);
  assert.match(r.stderr, /free space with `hyperbox system prune`, `hyperbox rm`/, what);
  assert.doesNotMatch(r.stderr, /disk I\/O error|cannot rollback|database or disk is full/, what);
}

/** The parts of a record that a failed command must not have changed. */
function stored(t: TestRoot, kind: 'container' | 'image' | 'volume', ref: string): string {
  const args = kind === 'container' ? ['inspect', ref] : [kind, 'inspect', ref];
  const view = JSON.parse(t.ok(args))[0] as Record<string, unknown>;
  if (kind !== 'container') return JSON.stringify(view);
  const state = view.State as Record<string, unknown>;
  return JSON.stringify({
    id: view.Id,
    name: view.Name,
    image: view.Image,
    config: view.Config,
    mounts: view.Mounts,
    state: [state.Status, state.ExitCode, state.Pid, state.StartedAt, state.FinishedAt],
  });
}

/**
 * For the suite it is called in: a TestRoot on its own tmpfs and a scratch directory, made before the tests and
 * cleaned up after them (workloads removed, no litter, the tmpfs unmounted), even when a test failed.
 */
function onTmpfsRoot(): () => { t: TestRoot; scratch: string } {
  let made: ReturnType<typeof tmpfsRoot> | undefined;
  before(() => {
    made = tmpfsRoot();
  });
  after(() => made?.cleanup());
  return () => made!;
}

function tmpfsRoot(): { t: TestRoot; scratch: string; cleanup: () => void } {
  const t = new TestRoot({ transport: 'local' });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'hbx-full-disk', t.root]);
  assert.equal(r.status, 0, `mount tmpfs: ${r.stderr}`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-full-disk-'));
  const cleanup = () => {
    try {
      fs.rmSync(path.join(t.root, 'host-fill'), { force: true });
      const ids = t.run(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
      if (ids.length) t.run(['rm', '-f', '-v', ...ids]);
      assert.deepEqual(litterOf(t.root), []);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
      // A monitor that is still going away may hold the tmpfs for a moment: try again, then detach it.
      for (let i = 0; i < 20 && spawnSync('umount', [t.root]).status !== 0; i++) spawnSync('sleep', ['0.1']);
      spawnSync('umount', ['-l', t.root], { stdio: 'ignore' });
      fs.rmSync(t.root, { recursive: true, force: true });
    }
  };
  return { t, scratch, cleanup };
}

describe('a full disk under the state root', { skip }, () => {
  const on = onTmpfsRoot();

  it('is freed by rm, rmi, volume rm and prune while every other command says what to free', () => {
    const { t, scratch } = on();
    const root = t.root;
    t.importBusybox();
    t.ok(['tag', 'busybox:1', 'other:1']);
    t.ok(['save', '-o', path.join(scratch, 'busybox.tar'), 'busybox:1']);
    t.ok(['create', '--name', 'made', 'busybox:1', 'true']);
    t.ok(['run', '-d', '--name', 'up', 'busybox:1', 'sleep', '300']);
    const doneRun = t.run(['run', '--name', 'done', 'busybox:1', 'sh', '-c', 'echo written > /f; exit 4']);
    assert.equal(doneRun.status, 4);
    t.ok(['run', '--rm', '-v', 'keep:/data', 'busybox:1', 'sh', '-c', 'echo kept > /data/note']);
    // Detached, it waits for the disk to be full, then exits: its monitor's exit command records it.
    const lateId = t
      .ok(['run', '-d', '--name', 'late', '-v', 'big:/data', 'busybox:1', 'sh', '-c', WAIT_FOR_FULL])
      .trim();
    assert.equal(fs.statSync(path.join(root, 'space-reserve')).size, RESERVE_BYTES, 'the reserve is made');

    const snapshot = () => ({
      made: stored(t, 'container', 'made'),
      up: stored(t, 'container', 'up'),
      done: stored(t, 'container', 'done'),
      image: stored(t, 'image', 'busybox:1'),
      keep: stored(t, 'volume', 'keep'),
    });
    const before = snapshot();

    // A container fills the disk through a volume: its own exit code comes back, and it leaves nothing behind.
    const fill = 'dd if=/dev/zero of=/data/fill bs=1M; touch /data/full; exit 3';
    const filler = t.run([
      'run',
      '--rm',
      '--name',
      'filler',
      '-v',
      'big:/data',
      'busybox:1',
      'sh',
      '-c',
      fill,
    ]);
    assert.equal(filler.status, 3, `run --rm of the filler: ${filler.stderr}`);
    assert.match(filler.stderr, /No space left on device/);
    assert.equal(t.ok(['ps', '-aq', '--filter', 'name=filler']), '');
    const running = [t.ok(['inspect', '-f', '{{.Id}}', 'up']).trim(), lateId];
    assert.deepEqual(
      litterOf(root).filter((l) => l.startsWith('mount') && !running.some((id) => l.includes(id))),
      [],
      "no mount but the running containers'",
    );
    for (let i = 0; i < 100 && !/exited/.test(t.ok(['inspect', '-f', '{{.State.Status}}', 'late'])); i++)
      spawnSync('sleep', ['0.1']);
    assert.equal(t.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'late']), 'exited 6\n');
    fillUp(path.join(root, 'host-fill'));
    assert.equal(freeBytes(root), 0, 'the state root is full');
    let full = reserveHeld(root);

    // Reads go on.
    const ps = t.ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
    assert.match(ps, /^up Up /m);
    assert.match(ps, /^done Exited \(4\) /m);
    assert.match(ps, /^made Created/m);
    assert.match(t.ok(['images']), /busybox\s+1\s/);
    assert.equal(t.ok(['inspect', '-f', '{{.State.ExitCode}}', 'done']), '4\n');
    assert.match(t.ok(['volume', 'ls']), /keep/);
    assert.match(t.ok(['system', 'df']), /^Local Volumes\s+2\s+/m);

    // What needs space is refused, with the path and the way out.
    const tar = path.join(scratch, 'busybox.tar');
    for (const args of [
      ['create', '--name', 'new', 'busybox:1', 'true'],
      ['run', '--rm', 'busybox:1', 'true'],
      ['start', 'made'],
      ['exec', 'up', 'true'],
      ['volume', 'create', 'more'],
      ['network', 'create', 'more'],
      ['tag', 'busybox:1', 'more:1'],
      ['image', 'import', tar, 'more:2'],
      ['load', '-i', tar],
    ]) {
      assertNoSpace(t.run(args), root, `hyperbox ${args.join(' ')}`);
    }
    // docker's pull reports every failure with status 1, and so does hyperbox's.
    assertNoSpace(t.run(['pull', '127.0.0.1:1/none:1']), root, 'hyperbox pull', 1);
    assert.equal(freeBytes(root) + reserveHeld(root), full, 'the refusals took no space');

    // Nothing stored was lost or changed.
    assert.deepEqual(snapshot(), before);
    assert.equal(fs.readFileSync(path.join(root, 'volumes', 'keep', '_data', 'note'), 'utf8'), 'kept\n');

    // Removals work at 0 bytes free, and give space back.
    t.ok(['rm', 'done']);
    t.ok(['rm', 'late']);
    t.ok(['rmi', 'other:1']);
    full = freeBytes(root);
    t.ok(['volume', 'rm', 'big']);
    assert.ok(freeBytes(root) > full + 50 * 1024 * 1024, 'the filler volume gave its space back');

    // An exec fills it again: its own status comes back; then stop and prune at 0 bytes free.
    const exec = t.run(['exec', 'up', 'sh', '-c', 'dd if=/dev/zero of=/fill bs=64k; exit 5']);
    assert.equal(exec.status, 5, `exec that fills the disk: ${exec.stderr}`);
    fillUp(path.join(root, 'host-fill'));
    assert.equal(freeBytes(root), 0);
    t.ok(['stop', '-t', '1', 'up']);
    assert.equal(t.ok(['inspect', '-f', '{{.State.Status}}', 'up']), 'exited\n');
    full = freeBytes(root);
    assert.match(t.ok(['container', 'prune', '-f']), /Deleted Containers:/);
    assert.equal(t.ok(['ps', '-aq']), '');
    assert.ok(
      freeBytes(root) > full + 50 * 1024 * 1024,
      "the container's writable layer gave its space back",
    );
    fillUp(path.join(root, 'host-fill'));
    assert.match(t.ok(['system', 'prune', '-f', '-a']), /deleted: sha256:/);
    assert.ok(freeBytes(root) > 0, 'the image gave its space back');
    fillUp(path.join(root, 'host-fill'));
    t.ok(['volume', 'rm', 'keep']);
    assert.equal(t.ok(['images', '-q']), '');
    assert.equal(t.ok(['volume', 'ls', '-q']), '');
    // Space given back by others: the next command makes the reserve whole again.
    fs.rmSync(path.join(root, 'host-fill'));
    assert.match(t.ok(['system', 'df']), /^State root .*: [\d.]+MB free \(1MiB more kept for removals\)$/m);
    assert.equal(reserveHeld(root), RESERVE_BYTES, 'the reserve is whole again');
  });
});

describe("a full disk under the daemon's state root", { skip: dockerSkip }, () => {
  const on = onTmpfsRoot();

  it('through the daemon: docker rm, rmi and volume rm work on a full disk, docker create says what to free', async () => {
    const { t, scratch } = on();
    const root = t.root;
    const socket = path.join(root, 'run', 'hyperbox.sock');
    const dockerConfig = fs.mkdtempSync(path.join(scratch, 'docker-config-'));
    const daemon = await startDaemon(root, socket);
    const docker = (args: string[]): CliResult => {
      const r = spawnSync('docker', args, {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: dockerConfig },
      });
      return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };
    const ok = (args: string[]) => {
      const r = docker(args);
      assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    try {
      t.importBusybox();
      ok(['create', '--name', 'd1', 'busybox:1', 'true']);
      ok(['volume', 'create', 'dv']);
      const filler = docker([
        'run',
        '--rm',
        '-v',
        'dv:/d',
        'busybox:1',
        'sh',
        '-c',
        'dd if=/dev/zero of=/d/f bs=1M; exit 3',
      ]);
      assert.equal(filler.status, 3, `docker run --rm of the filler: ${filler.stderr}`);
      fillUp(path.join(root, 'host-fill'));
      assert.equal(freeBytes(root), 0);

      assert.match(ok(['ps', '-a', '--format', '{{.Names}}']), /^d1$/m);
      const refused = docker(['create', '--name', 'd2', 'busybox:1', 'true']);
      assert.notEqual(refused.status, 0);
      assert.match(
        refused.stderr,
        /Error response from daemon: no space left on device: cannot create container d2: /,
      );
      // The daemon names where, as the state root, never by its host path (api/errors.ts scrubHostPaths).
      assert.match(refused.stderr, /<state root> has 0B free: free space with/, refused.stderr);
      assert.equal(refused.stderr.includes(root), false, refused.stderr);
      assert.doesNotMatch(refused.stderr, /disk I\/O error|cannot rollback/);

      assert.equal(ok(['rm', 'd1']).trim(), 'd1');
      const full = freeBytes(root);
      assert.equal(ok(['volume', 'rm', 'dv']).trim(), 'dv');
      assert.ok(freeBytes(root) > full + 50 * 1024 * 1024, 'the volume gave its space back');
      fillUp(path.join(root, 'host-fill'));
      assert.match(ok(['rmi', 'busybox:1']), /Deleted: sha256:/);
      assert.equal(ok(['images', '-q']), '');
      fs.rmSync(path.join(root, 'host-fill'));
    } finally {
      await stopDaemon(daemon);
    }
  });
});

async function startDaemon(root: string, socket: string): Promise<ChildProcess> {
  const child = spawn(HYPERBOX, ['--root', root, 'serve'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    log += d;
  });
  for (let i = 0; i < 300 && !fs.existsSync(socket); i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!fs.existsSync(socket)) {
    child.kill('SIGKILL');
    throw new Error(`hyperbox serve did not come up: ${log}`);
  }
  return child;
}

async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
