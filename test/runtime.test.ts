/**
 * The runc + conmon runtime against the real kernel: containers built from a busybox root file system, driven
 * through ConmonRuncRuntime as the engine will. Needs root, runc and conmon; skipped (with the reason) otherwise.
 * Every container lives under a temporary root and its own cgroup parent, all removed at the end.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ContainerConfig } from '../src/core/container/config.ts';
import { buildSpec } from '../src/core/container/spec.ts';
import { CannotExecuteError, CommandNotFoundError } from '../src/core/errors.ts';
import { openCgroupReader } from '../src/drivers/cgroups/open.ts';
import { pidRuns as alive } from '../src/drivers/proc/process.ts';
import { ConmonRuncRuntime } from '../src/drivers/runtime/conmon-runc.ts';
import { readRlimitCaps } from '../src/drivers/runtime/host-limits.ts';
import type { CreateOptions } from '../src/drivers/runtime/oci-runtime.ts';
import { ociRuntimeSuite } from '../src/drivers/runtime/testing/oci-runtime.suite.ts';

const RUNC = '/usr/sbin/runc';
const CONMON = '/usr/bin/conmon';
const TINI = '/usr/bin/tini-static';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync(RUNC)) return `runc missing at ${RUNC}`;
  if (!existsSync(CONMON)) return `conmon missing at ${CONMON}`;
  if (!existsSync('/bin/busybox')) return 'busybox-static missing (/bin/busybox)';
  return undefined;
}
const skip = skipReason();
if (skip) console.log(`# skipping runtime tests: ${skip}`);

interface Box {
  id: string;
  bundle: string;
  exitDir: string;
  logPath: string;
  loc: { id: string; exitDir: string; bundle: string };
}

let base = '';
let rootfs = '';
let runtime: ConmonRuncRuntime;
const cgroupParent = `/hyperbox-test-${process.pid}`;
const cgroups = openCgroupReader();
const made: Box[] = [];
let counter = 0;

function baseConfig(overrides: Partial<ContainerConfig>): ContainerConfig {
  return {
    image: 'busybox',
    imageId: 'sha256:test',
    env: [],
    labels: {},
    tty: false,
    openStdin: false,
    readOnly: false,
    init: false,
    autoRemove: false,
    restart: { name: 'no', maximumRetryCount: 0 },
    networkMode: 'loopback',
    privileged: false,
    capAdd: [],
    capDrop: [],
    noNewPrivileges: false,
    seccomp: 'default',
    mounts: [],
    resources: {},
    ulimits: [],
    ...overrides,
  };
}

async function prepare(overrides: Partial<ContainerConfig>, consoleSize?: { rows: number; cols: number }) {
  counter += 1;
  const id = `${process.pid.toString(16).padStart(8, '0')}${counter.toString(16).padStart(4, '0')}`.padEnd(
    64,
    'c',
  );
  const dir = path.join(base, 'containers', id);
  const bundle = path.join(dir, 'bundle');
  await mkdir(bundle, { recursive: true });
  const config = baseConfig(overrides);
  const spec = buildSpec({
    id,
    config,
    image: { Env: ['PATH=/bin:/sbin'] },
    user: { uid: 0, gid: 0, additionalGids: [], home: '/root' },
    rootfs,
    mounts: [],
    etcFiles: {},
    cgroupsPath: `${cgroupParent}/${id}`,
    rlimitCaps: readRlimitCaps(),
    arch: process.arch,
    kernelRelease: os.release(),
    ...(existsSync(TINI) ? { initPath: TINI } : {}),
    ...(consoleSize ? { consoleSize } : {}),
  });
  await writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
  const box: Box = {
    id,
    bundle,
    exitDir: path.join(base, 'exits'),
    logPath: path.join(dir, 'ctr.log'),
    loc: { id, exitDir: path.join(base, 'exits'), bundle },
  };
  made.push(box);
  return { box, config };
}

function createOptions(box: Box, config: ContainerConfig): CreateOptions {
  return {
    id: box.id,
    name: `test-${box.id.slice(8, 12)}`,
    bundle: box.bundle,
    logPath: box.logPath,
    exitDir: box.exitDir,
    terminal: config.tty,
    stdin: config.openStdin,
  };
}

/** Creates (and unless told otherwise, starts) a container; returns it with its monitor's pid. */
async function launch(overrides: Partial<ContainerConfig>, opts: { start?: boolean } = {}) {
  const { box, config } = await prepare(overrides);
  const created = await runtime.create(createOptions(box, config));
  if (opts.start !== false) await runtime.start(box.id);
  return { box, config, ...created };
}

function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Deletes a container and checks that nothing of it is left on the host. */
async function deleteAndCheckClean(box: Box, monitorPid: number): Promise<void> {
  await runtime.delete(box.id, { force: true });
  assert.equal(await runtime.state(box.id), undefined, 'runc state is gone');
  await until('the monitor to exit', () => !alive(monitorPid));
  for (const dir of cgroups.directories(`${cgroupParent}/${box.id}`)) {
    assert.equal(existsSync(dir), false, `cgroup directory ${dir} is removed`);
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  assert.equal(mounts.includes(base), false, 'no mount under the test root is left on the host');
}

describe('runc + conmon runtime', { skip, concurrency: false }, () => {
  before(async () => {
    base = await mkdtemp('/tmp/hyperbox-rt-');
    rootfs = path.join(base, 'rootfs');
    execFileSync('bash', [path.join(repo, 'scripts/make-busybox-rootfs.sh'), rootfs], { stdio: 'ignore' });
    runtime = new ConmonRuncRuntime({
      runcRoot: path.join(base, 'run', 'runc'),
      execRoot: path.join(base, 'run', 'exec'),
    });
  });

  after(async () => {
    for (const box of made) {
      const pidFile = path.join(box.bundle, 'conmon.pid');
      await runtime.delete(box.id, { force: true }).catch(() => {});
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
      if (pid > 0 && alive(pid)) await until('monitor exit', () => !alive(pid), 3000).catch(() => {});
    }
    for (const dir of cgroups.directories(cgroupParent)) {
      try {
        rmdirSync(dir);
      } catch {}
    }
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('delivers every byte of stdout and stderr, separated, to an attach made before start', async () => {
    const script = 'head -c 300000 /dev/zero | tr "\\0" o; echo -n to-stderr >&2; exit 0';
    const { box, config } = await prepare({ cmd: ['sh', '-c', script] });
    const { monitorPid } = await runtime.create(createOptions(box, config));
    const session = await runtime.attach(box.bundle, { stdin: false });
    const [out, err] = [collect(session.stdout), collect(session.stderr)];
    await runtime.start(box.id);
    const stdout = await out;
    assert.equal(stdout.length, 300000);
    assert.ok(stdout.every((b) => b === 0x6f));
    assert.equal((await err).toString(), 'to-stderr');
    const exit = await runtime.waitExit(box.loc);
    assert.equal(exit.exitCode, 0);
    assert.equal(exit.oomKilled, false);
    await deleteAndCheckClean(box, monitorPid);
  });

  it('reports the exit status of the container process', async () => {
    const { box, monitorPid } = await launch({ cmd: ['sh', '-c', 'exit 3'] });
    assert.equal((await runtime.waitExit(box.loc)).exitCode, 3);
    await deleteAndCheckClean(box, monitorPid);
  });

  it('fails create with CommandNotFound (127) for a missing command and leaves nothing behind', async () => {
    const { box, config } = await prepare({ cmd: ['no-such-command'] });
    await assert.rejects(runtime.create(createOptions(box, config)), (err: unknown) => {
      assert.ok(err instanceof CommandNotFoundError);
      assert.match(err.message, /no-such-command/);
      return true;
    });
    assert.equal(await runtime.state(box.id), undefined);
    const monitorPid = Number(readFileSync(path.join(box.bundle, 'conmon.pid'), 'utf8'));
    assert.equal(alive(monitorPid), false, 'no monitor left');
  });

  it('fails create with CannotExecute (126) for a file that is not executable', async () => {
    const { box, config } = await prepare({ cmd: ['/etc/passwd'] });
    await assert.rejects(runtime.create(createOptions(box, config)), CannotExecuteError);
    assert.equal(await runtime.state(box.id), undefined);
  });

  it('pipes stdin through, and the container sees EOF while output still arrives', async () => {
    const { box, config } = await prepare({ cmd: ['sh', '-c', 'cat; echo after-eof'], openStdin: true });
    const { monitorPid } = await runtime.create(createOptions(box, config));
    const session = await runtime.attach(box.bundle, { stdin: true });
    const out = collect(session.stdout);
    await runtime.start(box.id);
    session.stdin!.write('hello\n');
    session.stdin!.end('world\n');
    assert.equal((await out).toString(), 'hello\nworld\nafter-eof\n');
    assert.equal((await runtime.waitExit(box.loc)).exitCode, 0);
    await deleteAndCheckClean(box, monitorPid);
  });

  it('gives a tty its initial size and resizes it', async () => {
    const { box, config } = await prepare(
      { cmd: ['sh', '-c', 'stty size; read line; stty size'], tty: true, openStdin: true },
      { rows: 24, cols: 80 },
    );
    const { monitorPid } = await runtime.create(createOptions(box, config));
    const session = await runtime.attach(box.bundle, { stdin: true });
    let text = '';
    session.stdout.on('data', (c: Buffer) => {
      text += c.toString();
    });
    const done = new Promise((r) => session.stdout.on('end', r));
    await runtime.start(box.id);
    await until('the first size', () => text.includes('24 80'));
    await runtime.resize(box.bundle, { rows: 40, cols: 100 });
    session.stdin!.write('\n');
    await done;
    assert.match(text, /24 80\r?\n[\s\S]*40 100/);
    assert.equal((await runtime.waitExit(box.loc)).exitCode, 0);
    await deleteAndCheckClean(box, monitorPid);
  });

  it('execs a process with separated output and its exit status, and a detached one', async () => {
    const { box, monitorPid } = await launch({ cmd: ['sleep', '1000'] });
    const user = { uid: 0, gid: 0, additionalGids: [] };
    const exec = await runtime.exec(box.id, {
      args: ['sh', '-c', 'echo out; echo err >&2; exit 5'],
      env: ['PATH=/bin'],
      cwd: '/',
      user,
      tty: false,
      stdin: false,
      detach: false,
    });
    const [out, err] = await Promise.all([collect(exec.stdout), collect(exec.stderr)]);
    assert.equal(out.toString(), 'out\n');
    assert.equal(err.toString(), 'err\n');
    assert.equal(await exec.exitCode, 5);

    const withInput = await runtime.exec(box.id, {
      args: ['tr', 'a-z', 'A-Z'],
      env: ['PATH=/bin'],
      cwd: '/',
      user,
      tty: false,
      stdin: true,
      detach: false,
    });
    const upper = collect(withInput.stdout);
    withInput.stdin!.end('shout\n');
    assert.equal((await upper).toString(), 'SHOUT\n');
    assert.equal(await withInput.exitCode, 0);

    const tty = await runtime.exec(box.id, {
      args: ['stty', 'size'],
      env: ['PATH=/bin'],
      cwd: '/',
      user,
      tty: true,
      stdin: false,
      detach: false,
      consoleSize: { rows: 33, cols: 77 },
    });
    assert.match((await collect(tty.stdout)).toString(), /33 77/);
    assert.equal(await tty.exitCode, 0);

    await assert.rejects(
      runtime.exec(box.id, {
        args: ['nope'],
        env: [],
        cwd: '/',
        user,
        tty: false,
        stdin: false,
        detach: false,
      }),
      CommandNotFoundError,
    );

    const marker = `/tmp/detached-${box.id.slice(0, 12)}`;
    const detached = await runtime.exec(box.id, {
      args: ['sh', '-c', `sleep 0.2; echo done > ${marker}`],
      env: ['PATH=/bin'],
      cwd: '/',
      user,
      tty: false,
      stdin: false,
      detach: true,
    });
    assert.ok(detached.pid > 0);
    assert.equal(detached.exitCode, undefined);
    assert.ok(
      (await runtime.pids(box.id)).includes(detached.pid),
      'the detached process runs in the container',
    );
    const content = await until('the detached exec to finish', () =>
      readFile(path.join(rootfs, marker), 'utf8').catch(() => undefined),
    );
    assert.equal(content, 'done\n');
    await rm(path.join(rootfs, marker));
    await deleteAndCheckClean(box, monitorPid);
  });

  it('delivers signals, pauses and resumes', async () => {
    const script = 'trap "exit 42" USR1; echo ready; while :; do sleep 0.05; done';
    const { box, config } = await prepare({ cmd: ['sh', '-c', script] });
    const { monitorPid } = await runtime.create(createOptions(box, config));
    const session = await runtime.attach(box.bundle, { stdin: false });
    let text = '';
    session.stdout.on('data', (c: Buffer) => {
      text += c.toString();
    });
    await runtime.start(box.id);
    await until('the trap to be set', () => text.includes('ready'));
    await runtime.pause(box.id);
    assert.equal((await runtime.state(box.id))?.status, 'paused');
    await runtime.resume(box.id);
    assert.equal((await runtime.state(box.id))?.status, 'running');
    await runtime.kill(box.id, 'USR1');
    assert.equal((await runtime.waitExit(box.loc)).exitCode, 42);
    assert.equal((await runtime.state(box.id))?.status, 'stopped');
    session.close();
    await deleteAndCheckClean(box, monitorPid);
  });

  it('keeps the container running after the process that started it exited', async () => {
    const { box, config } = await prepare({ cmd: ['sleep', '1000'] });
    const script = `
      import { ConmonRuncRuntime } from ${JSON.stringify(path.join(repo, 'src/drivers/runtime/conmon-runc.ts'))};
      const rt = new ConmonRuncRuntime(${JSON.stringify({ runcRoot: path.join(base, 'run', 'runc'), execRoot: path.join(base, 'run', 'exec') })});
      const created = await rt.create(${JSON.stringify(createOptions(box, config))});
      await rt.start(${JSON.stringify(box.id)});
      console.log(JSON.stringify(created));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const out = collect(child.stdout as Readable);
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 0);
    const created = JSON.parse((await out).toString()) as { pid: number; monitorPid: number };
    const state = await runtime.state(box.id);
    assert.equal(state?.status, 'running');
    assert.equal(state?.pid, created.pid);
    assert.ok(alive(created.monitorPid), 'the monitor outlives its starter');
    await runtime.kill(box.id, 'KILL');
    assert.equal((await runtime.waitExit(box.loc)).exitCode, 137);
    await deleteAndCheckClean(box, created.monitorPid);
  });

  it('reports an OOM kill as exit 137 with oomKilled', async () => {
    const memory = 16 * 1024 * 1024;
    const { box, monitorPid } = await launch({
      cmd: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=256M', 'count=1'],
      resources: { memory },
    });
    const exit = await runtime.waitExit(box.loc);
    assert.equal(exit.exitCode, 137);
    assert.equal(exit.oomKilled, true);
    await deleteAndCheckClean(box, monitorPid);
  });

  it('contains a fork bomb within the pids limit and reads cgroup stats', async () => {
    // The subshell forks until the limit stops it (busybox sh gives up at the first failed fork); bounded at 200
    // so that a broken limit fails the test instead of the host.
    const bomb = '(i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done) 2>/dev/null';
    const script = `${bomb}; echo forked; sleep 1000`;
    const { box, config } = await prepare({
      cmd: ['sh', '-c', script],
      resources: { pidsLimit: 20, memory: 64 << 20 },
    });
    const { monitorPid, pid } = await runtime.create(createOptions(box, config));
    const session = await runtime.attach(box.bundle, { stdin: false });
    let text = '';
    session.stdout.on('data', (c: Buffer) => {
      text += c.toString();
    });
    await runtime.start(box.id);
    await until('the loop to end', () => text.includes('forked'));
    const cgroupPath = `${cgroupParent}/${box.id}`;
    const stats = await cgroups.stats(cgroupPath);
    assert.equal(stats.pids.limit, 20);
    assert.ok(stats.pids.current <= 20 && stats.pids.current >= 10, `pids.current ${stats.pids.current}`);
    assert.equal(stats.memory.limit, 64 << 20);
    assert.ok(stats.memory.usage > 0);
    assert.ok(stats.cpu.usageNs > 0);
    const pids = await runtime.pids(box.id);
    assert.ok(pids.includes(pid));
    assert.ok(pids.length <= 20);
    assert.deepEqual((await cgroups.pids(cgroupPath)).sort(), [...pids].sort());
    session.close();
    await runtime.kill(box.id, 'KILL', { all: true });
    await runtime.waitExit(box.loc);
    await deleteAndCheckClean(box, monitorPid);
  });

  it('writes a timestamped k8s-file log', async () => {
    const { box, monitorPid } = await launch({ cmd: ['sh', '-c', 'echo one; echo two >&2; echo -n three'] });
    await runtime.waitExit(box.loc);
    const lines = (await readFile(box.logPath, 'utf8')).trimEnd().split('\n');
    const stamp = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d+(Z|[+-]\\d\\d:\\d\\d)';
    assert.equal(lines.length, 3);
    // stdout and stderr are separate pipes: their relative order in the log is not defined.
    const text = (word: string) => lines.find((line) => line.endsWith(` ${word}`)) ?? '';
    assert.match(text('one'), new RegExp(`^${stamp} stdout F one$`));
    assert.match(text('two'), new RegExp(`^${stamp} stderr F two$`));
    assert.match(text('three'), new RegExp(`^${stamp} stdout P three$`), 'a line without newline is partial');
    await deleteAndCheckClean(box, monitorPid);
  });

  it('applies the spec: loopback up, default capabilities, seccomp, rlimits, masked paths', async () => {
    const script = [
      'ip link show lo | grep -q "state UNKNOWN\\|UP" && echo lo-up',
      'grep CapEff /proc/self/status',
      'unshare -n true 2>/dev/null || echo unshare-denied',
      'ulimit -n',
      'cat /proc/kcore >/dev/null 2>&1; [ -s /proc/kcore ] || echo kcore-masked',
      'touch /sys/x 2>/dev/null || echo sys-ro',
      'hostname',
    ].join('; ');
    const { box, config } = await prepare({ cmd: ['sh', '-c', script] });
    const { monitorPid } = await runtime.create(createOptions(box, config));
    const session = await runtime.attach(box.bundle, { stdin: false });
    const out = collect(session.stdout);
    await runtime.start(box.id);
    const text = (await out).toString();
    assert.match(text, /lo-up/);
    assert.match(text, /CapEff:\s+00000000a80425fb/);
    assert.match(text, /unshare-denied/);
    assert.match(text, new RegExp(`^${Math.min(1048576, readRlimitCaps().nofile ?? 1048576)}$`, 'm'));
    assert.match(text, /kcore-masked/);
    assert.match(text, /sys-ro/);
    assert.match(text, new RegExp(`^${box.id.slice(0, 12)}$`, 'm'));
    await runtime.waitExit(box.loc);
    await deleteAndCheckClean(box, monitorPid);
  });

  it('runs the command under the init for --init', {
    skip: existsSync(TINI) ? false : `${TINI} missing`,
  }, async () => {
    const { box, config } = await prepare({
      cmd: ['sh', '-c', 'tr "\\0" " " < /proc/1/cmdline'],
      init: true,
    });
    const { monitorPid } = await runtime.create(createOptions(box, config));
    const session = await runtime.attach(box.bundle, { stdin: false });
    const out = collect(session.stdout);
    await runtime.start(box.id);
    assert.match((await out).toString(), /^\/sbin\/hyperbox-init -- sh -c/);
    assert.equal((await runtime.waitExit(box.loc)).exitCode, 0);
    await deleteAndCheckClean(box, monitorPid);
  });

  it('deletes idempotently', async () => {
    await runtime.delete('f'.repeat(64));
    await runtime.delete('f'.repeat(64), { force: true });
  });

  // The contract the fake is held to too (src/drivers/runtime/testing/fake-oci-runtime.test.ts).
  describe('passes the OciRuntime suite', () => {
    const sleep = 'trap "exit 42" USR1; while :; do sleep 0.05; done';
    const boxed = async (cmd: string[]) => {
      const { box, config } = await prepare({ cmd });
      return createOptions(box, config);
    };
    ociRuntimeSuite({
      runtime: () => runtime,
      sleeper: () => boxed(['sh', '-c', sleep]),
      exiting: (code) => boxed(['sh', '-c', `exit ${code}`]),
    });
  });
});
