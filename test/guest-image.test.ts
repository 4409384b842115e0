// The VM guest image (scripts/make-guest.sh) booted by raw QEMU under TCG (KVM does not boot guests here):
// the cmdline contract (ip=, hbx.dns=, hbx.mkfs=, console=ttyS0, tsc_early_khz=), the hello API, the ACPI
// power button and the /data disk. Networking is QEMU user-mode with a host forward bound to loopback only.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO } from './helpers/cli.ts';

const QEMU = '/usr/bin/qemu-system-x86_64';
const MAKE_GUEST = path.join(REPO, 'scripts', 'make-guest.sh');
const skip = fs.existsSync(QEMU) ? undefined : `${QEMU} is missing (bash scripts/setup.sh)`;

/** Host TSC kHz from /proc/cpuinfo "cpu MHz" (this host has no cpufreq directory under a hypervisor). */
function hostTscKhz(): number {
  const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  assert.ok(m, 'no "cpu MHz" in /proc/cpuinfo');
  return Math.round(Number(m[1]) * 1000);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

interface Guest {
  proc: ChildProcess;
  port: number;
  qmp: string;
  output: () => string;
  /** Milliseconds from spawn until the first line matching `pattern` (waits up to timeoutMs). */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<number>;
  exited: Promise<number | null>;
}

interface BootOptions {
  machine: 'microvm' | 'q35';
  hostname: string;
  extraCmdline?: string[];
  disk?: string;
}

const started: ChildProcess[] = [];

async function boot(dir: string, kernel: string, initrd: string, o: BootOptions): Promise<Guest> {
  const port = await freePort();
  const qmp = path.join(dir, `qmp-${o.hostname}-${started.length}.sock`);
  const microvm = o.machine === 'microvm';
  const cmdline = [
    'console=ttyS0',
    `ip=10.0.2.15::10.0.2.2:255.255.255.0:${o.hostname}:eth0:off`,
    'hbx.dns=10.0.2.3',
    ...(microvm ? [`tsc_early_khz=${hostTscKhz()}`] : []),
    ...(o.extraCmdline ?? []),
    'quiet',
  ].join(' ');
  const args = [
    ...['-M', o.machine, '-accel', 'tcg', '-nodefaults', '-no-user-config', '-display', 'none', '-m', '256'],
    ...['-kernel', kernel, '-initrd', initrd, '-append', cmdline],
    ...['-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:80`],
    ...['-device', `${microvm ? 'virtio-net-device' : 'virtio-net-pci'},netdev=n0`],
    ...(o.disk
      ? [
          ...['-drive', `file=${o.disk},format=raw,if=none,id=d0`],
          ...['-device', `${microvm ? 'virtio-blk-device' : 'virtio-blk-pci'},drive=d0`],
        ]
      : []),
    ...['-qmp', `unix:${qmp},server=on,wait=off`, '-serial', 'stdio'],
  ];
  const t0 = Date.now();
  const proc = spawn(QEMU, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  started.push(proc);
  let out = '';
  const seen: { re: RegExp; resolve: (ms: number) => void }[] = [];
  const onData = (b: Buffer) => {
    out += b.toString();
    for (const w of seen.splice(0)) {
      if (w.re.test(out)) w.resolve(Date.now() - t0);
      else seen.push(w);
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const waitFor = (re: RegExp, timeoutMs = 60_000) =>
    new Promise<number>((resolve, reject) => {
      if (re.test(out)) return resolve(Date.now() - t0);
      const timer = setTimeout(
        () => reject(new Error(`no ${re} within ${timeoutMs} ms; console:\n${out.slice(-3000)}`)),
        timeoutMs,
      );
      seen.push({
        re,
        resolve: (ms) => {
          clearTimeout(timer);
          resolve(ms);
        },
      });
    });
  return { proc, port, qmp, output: () => out, waitFor, exited };
}

/** Sends QMP commands in order and returns each command's reply. */
function qmpCommands(socket: string, commands: string[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(socket);
    const replies: unknown[] = [];
    let buf = '';
    let greeted = false;
    const next = () => c.write(`${JSON.stringify({ execute: commands[replies.length] })}\n`);
    c.on('data', (d) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const msg = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
        buf = buf.slice(i + 1);
        if (!greeted && 'QMP' in msg) {
          greeted = true;
          next();
        } else if ('return' in msg || 'error' in msg) {
          replies.push(msg);
          if (replies.length === commands.length) {
            c.end();
            resolve(replies);
          } else next();
        }
      }
    });
    c.on('error', reject);
  });
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]);
}

async function powerdown(g: Guest): Promise<number> {
  const t = Date.now();
  const replies = await qmpCommands(g.qmp, ['qmp_capabilities', 'system_powerdown']);
  assert.deepEqual(replies, [{ return: {} }, { return: {} }]);
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref());
  const code = await Promise.race([g.exited, timeout]);
  assert.equal(code, 0, `QEMU did not exit after system_powerdown; console:\n${g.output().slice(-2000)}`);
  assert.match(g.output(), /hyperbox-guest: power button, powering off/);
  return Date.now() - t;
}

describe('guest image (scripts/make-guest.sh) under raw QEMU/TCG', { skip }, () => {
  let dir = '';
  let out = '';
  let kernel = '';
  let initrd = '';

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-guest-test-'));
    out = path.join(REPO, '.cache', 'guest');
    execFileSync('bash', [MAKE_GUEST, out], { stdio: 'pipe' });
    kernel = path.join(out, 'vmlinuz');
    initrd = path.join(out, 'initrd.img');
  });

  after(() => {
    for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records the kernel version and the sha256 of each file, and a second run rebuilds nothing', () => {
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'guest.json'), 'utf8'));
    assert.match(meta.kernelVersion, /^\d+\.\d+\.\d+-\d+-cloud-amd64$/);
    for (const f of ['vmlinuz', 'initrd.img']) {
      const sum = createHash('sha256')
        .update(fs.readFileSync(path.join(out, f)))
        .digest('hex');
      assert.equal(meta.files[f].sha256, sum, `${f} sha256`);
    }
    assert.match(meta.cmdline, /ip=<client-ip>::<gw-ip>:<netmask>:<hostname>:eth0:off/);
    const before = fs.statSync(initrd).mtimeMs;
    const t = Date.now();
    execFileSync('bash', [MAKE_GUEST, out], { stdio: 'pipe' });
    assert.equal(fs.statSync(initrd).mtimeMs, before, 'the cached initrd was rebuilt');
    assert.ok(Date.now() - t < 5000, `cached run took ${Date.now() - t} ms`);
  });

  it('rebuilds when guest.json records other inputs instead of trusting a stale cache', () => {
    const copy = path.join(dir, 'stale');
    fs.mkdirSync(copy);
    for (const f of ['vmlinuz', 'initrd.img']) fs.copyFileSync(path.join(out, f), path.join(copy, f));
    fs.writeFileSync(path.join(copy, 'guest.json'), '{"inputs": "stale"}\n');
    execFileSync('bash', [MAKE_GUEST, copy], { stdio: 'pipe' });
    const meta = JSON.parse(fs.readFileSync(path.join(copy, 'guest.json'), 'utf8'));
    assert.notEqual(meta.inputs, 'stale');
  });

  it('boots on microvm (tsc_early_khz), serves {"hello":"<hostname>"} and powers off on the ACPI button', async (t) => {
    const g = await boot(dir, kernel, initrd, { machine: 'microvm', hostname: 'hbx-micro' });
    const init = await g.waitFor(/^hyperbox-guest: init\r?$/m);
    const ready = await g.waitFor(/^hyperbox-guest: ready 10\.0\.2\.15\r?$/m);
    // /init's very first line comes before anything else it prints.
    assert.ok(g.output().indexOf('hyperbox-guest: init') < g.output().indexOf('hyperbox-guest: ready'));
    const res = await fetch(`http://127.0.0.1:${g.port}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { hello: 'hbx-micro' });
    const hello = await fetch(`http://127.0.0.1:${g.port}/cgi-bin/hello`);
    assert.deepEqual(await hello.json(), { hello: 'hbx-micro' });
    await new Promise((r) => setTimeout(r, 1000));
    const rss = rssKiB(g.proc.pid!);
    const off = await powerdown(g);
    t.diagnostic(`microvm/TCG: init ${init} ms, ready ${ready} ms, idle RSS ${rss} KiB, powerdown ${off} ms`);
  });

  it('boots on q35 without tsc_early_khz and powers off on the ACPI button', async (t) => {
    const g = await boot(dir, kernel, initrd, { machine: 'q35', hostname: 'hbx-q35' });
    const init = await g.waitFor(/^hyperbox-guest: init\r?$/m);
    const ready = await g.waitFor(/^hyperbox-guest: ready 10\.0\.2\.15\r?$/m);
    assert.doesNotMatch(g.output(), /tsc_early_khz/);
    const res = await fetch(`http://127.0.0.1:${g.port}/`);
    assert.deepEqual(await res.json(), { hello: 'hbx-q35' });
    const rss = rssKiB(g.proc.pid!);
    const off = await powerdown(g);
    t.diagnostic(`q35/TCG: init ${init} ms, ready ${ready} ms, idle RSS ${rss} KiB, powerdown ${off} ms`);
  });

  it('formats an empty disk with hbx.mkfs=1, mounts it at /data, and the data survives a reboot', async () => {
    const disk = path.join(dir, 'data.raw');
    fs.writeFileSync(disk, '');
    fs.truncateSync(disk, 16 * 1024 * 1024);
    const first = await boot(dir, kernel, initrd, {
      machine: 'microvm',
      hostname: 'hbx-disk',
      extraCmdline: ['hbx.mkfs=1'],
      disk,
    });
    await first.waitFor(/hyperbox-guest: formatted \/dev\/vda/);
    await first.waitFor(/^hyperbox-guest: ready/m);
    first.proc.stdin!.write('echo kept-$((6*7)) > /data/proof && sync && poweroff -f\n');
    assert.equal(await first.exited, 0);

    // hbx.mkfs=1 again: the disk now holds a file system and must not be formatted a second time.
    const second = await boot(dir, kernel, initrd, {
      machine: 'microvm',
      hostname: 'hbx-disk',
      extraCmdline: ['hbx.mkfs=1'],
      disk,
    });
    await second.waitFor(/^hyperbox-guest: ready/m);
    second.proc.stdin!.write('cat /data/proof; poweroff -f\n');
    await second.waitFor(/^kept-42\r?$/m);
    assert.equal(await second.exited, 0);
    assert.doesNotMatch(second.output(), /formatted \/dev\/vda/);
  });
});
