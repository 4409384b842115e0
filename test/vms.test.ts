// Virtual machines under QEMU (TCG here: KVM does not boot guests on these hosts), driven through bin/hyperbox.
// Runs in a private network namespace (helpers/cli.ts), so taps, bridges and rules never touch the host's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestRoot } from './helpers/cli.ts';
import { type GuestImage, guestImage, vmSkipReason } from './helpers/guest.ts';

const skip = vmSkipReason();
const GET = "printf 'GET / HTTP/1.0\\r\\n\\r\\n'";

interface VmView {
  Id: string;
  State: { Status: string; Pid: number; ExitReason: string };
  Accelerator: { Accel: string; Reason: string };
  Resources: { DedicatedCpus: string };
  Vcpus: { Index: number; ThreadId: number; PinnedCpu: number }[];
  Networks: Record<string, { IPAddress: string; Tap: string }>;
  Ports: Record<string, { HostIp: string; HostPort: string }[]>;
  Paths: Record<string, string>;
}

function inspect(t: TestRoot, name: string): VmView {
  return (JSON.parse(t.ok(['vm', 'inspect', name])) as VmView[])[0]!;
}

/** Polls the serial log (through `vm logs`) until `pattern` shows, or fails with the log. */
async function waitLog(t: TestRoot, name: string, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let log = '';
  while (Date.now() < deadline) {
    log = t.run(['vm', 'logs', name]).stdout;
    if (pattern.test(log)) return log;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`VM ${name}: no ${pattern} in its serial log within ${timeoutMs} ms:\n${log.slice(-2000)}`);
}

/**
 * Types `command` on the VM's console (`vm console` with stdin from a pipe) and returns the output once `expect`
 * shows. Commands print a computed marker (e.g. `echo M-$((1+1))` prints M-2), so the echo of the typed line
 * cannot satisfy `expect` by itself.
 */
async function onConsole(t: TestRoot, name: string, command: string, expect: RegExp, timeoutMs = 20_000) {
  const child = t.spawn(['vm', 'console', name]);
  let out = '';
  child.stdout.on('data', (d) => {
    out += d.toString('latin1');
  });
  child.stderr.on('data', (d) => {
    out += d.toString('latin1');
  });
  child.stdin.write(`${command}\n`);
  const deadline = Date.now() + timeoutMs;
  while (!expect.test(out) && Date.now() < deadline && child.exitCode === null)
    await new Promise((r) => setTimeout(r, 50));
  child.stdin.end();
  child.kill();
  assert.match(out, expect, `console of ${name} after "${command}"`);
  return out.replaceAll('\r', '');
}

/** What a root leaves for VMs: taps, QEMU processes, sockets and per-VM directories. */
function vmLitter(root: string): string[] {
  const out: string[] = [];
  for (const n of fs.readdirSync('/sys/class/net')) if (/^hbxt[0-9a-f]{8}$/.test(n)) out.push(`tap ${n}`);
  for (const dir of [path.join(root, 'vms'), path.join(root, 'run', 'vms')]) {
    if (fs.existsSync(dir)) for (const e of fs.readdirSync(dir)) out.push(`${dir}/${e}`);
  }
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.startsWith('/usr/bin/qemu-system') && cmd.includes(root)) out.push(`qemu ${pid}`);
    } catch {}
  }
  return out;
}

function cpusAllowed(tid: number): string {
  return /Cpus_allowed_list:\s*(\S+)/.exec(fs.readFileSync(`/proc/${tid}/status`, 'utf8'))![1]!;
}

describe('virtual machines', { skip }, () => {
  let t: TestRoot;
  let guest: GuestImage;
  const kernelArgs = (): string[] => ['--kernel', guest.kernel, '--initrd', guest.initrd];

  before(() => {
    guest = guestImage();
    t = new TestRoot();
    // Two VMs at once on this 2-CPU machine: the host keeps no CPU of its own in this root.
    fs.writeFileSync(path.join(t.root, 'engine.json'), '{"hostReserve":{"cpus":0,"memory":"0","disk":"0"}}');
  });

  after(() => {
    const ids = t.run(['vm', 'ls', '-q']).stdout.split('\n').filter(Boolean);
    if (ids.length) t.run(['vm', 'rm', '-f', ...ids]);
    t.run(['network', 'rm', 'vmnet']);
    const litter = [...vmLitter(t.root)];
    litter.push(...t.cleanup());
    assert.deepEqual(litter, []);
  });

  it('creates, starts, shows the console, pins vCPUs, stops and removes a VM leaving nothing', async () => {
    t.ok(['vm', 'create', '--name', 'alpha', '--cpus', '2', '--memory', '192M', ...kernelArgs()]);
    assert.match(t.ok(['vm', 'ls']), /alpha\s+Created/);
    t.ok(['vm', 'start', 'alpha']);
    await waitLog(t, 'alpha', /hyperbox-guest: ready/);
    assert.match(t.ok(['vm', 'logs', 'alpha']), /^[\s\S]*hyperbox-guest: init/);
    await onConsole(t, 'alpha', 'echo console-$((40+2))', /console-42/);

    const v = inspect(t, 'alpha');
    assert.equal(v.State.Status, 'running');
    assert.equal(v.Accelerator.Accel, 'tcg');
    assert.match(v.Accelerator.Reason, /KVM/);
    // Each vCPU thread runs on exactly its own dedicated CPU, as the kernel reports it.
    assert.equal(v.Vcpus.length, 2);
    assert.match(v.Resources.DedicatedCpus, /^0[-,]1$/);
    for (const vc of v.Vcpus) {
      assert.ok(
        fs.existsSync(`/proc/${v.State.Pid}/task/${vc.ThreadId}`),
        `vCPU thread ${vc.ThreadId} of QEMU`,
      );
      assert.equal(cpusAllowed(vc.ThreadId), String(vc.PinnedCpu));
    }
    assert.deepEqual(v.Vcpus.map((x) => x.PinnedCpu).sort(), [0, 1]);

    t.ok(['vm', 'stop', '--time', '3', 'alpha']);
    const stopped = inspect(t, 'alpha');
    assert.equal(stopped.State.Status, 'stopped');
    assert.match(stopped.State.ExitReason, /guest powered off|stopped by vm stop/);
    assert.equal(fs.existsSync(`/proc/${v.State.Pid}`), false, 'QEMU is gone after stop');
    assert.equal(fs.existsSync(stopped.Paths.QmpSocket!), false, 'no QMP socket after stop');

    const missing = t.run(['vm', 'start', 'nosuch']);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /no such VM: nosuch/);
    t.ok(['vm', 'rm', 'alpha']);
    assert.deepEqual(vmLitter(t.root), []);
    assert.equal(t.ok(['vm', 'ls', '-q']), '');
  });

  it('puts a VM on a user network: IP, published port, names both ways with a container; kill -9 reconciled', async () => {
    t.importBusybox();
    t.ok(['network', 'create', '--subnet', '10.88.0.0/24', 'vmnet']);
    t.ok([
      'vm',
      'create',
      '--name',
      'web',
      '--memory',
      '128M',
      ...kernelArgs(),
      '--network',
      'vmnet',
      '-p',
      '18081:80',
    ]);
    t.ok(['vm', 'start', 'web']);
    await waitLog(t, 'web', /hyperbox-guest: ready 10\.88\.0\./);
    const v = inspect(t, 'web');
    const ip = v.Networks.vmnet!.IPAddress;
    assert.match(ip, /^10\.88\.0\.\d+$/);
    assert.match(v.Networks.vmnet!.Tap, /^hbxt[0-9a-f]{8}$/);
    assert.ok(fs.existsSync(`/sys/class/net/${v.Networks.vmnet!.Tap}`));
    assert.deepEqual(v.Ports['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: '18081' }]);

    // From the host: by address and through the published port.
    for (const target of [`${ip} 80`, '127.0.0.1 18081']) {
      const r = spawnSync('sh', ['-c', `${GET} | busybox nc -w 5 ${target} | tail -1`], { encoding: 'utf8' });
      assert.equal(r.stdout.trim(), '{"hello":"web"}', `GET ${target}`);
    }
    // A container reaches the VM by name, and the VM the container.
    t.ok([
      'run',
      '-d',
      '--name',
      'box',
      '--network',
      'vmnet',
      'busybox:1',
      'httpd',
      '-f',
      '-p',
      '80',
      '-h',
      '/etc',
    ]);
    const fromBox = t.ok([
      'run',
      '--rm',
      '--network',
      'vmnet',
      'busybox:1',
      'sh',
      '-c',
      `${GET} | nc -w 5 web 80 | tail -1`,
    ]);
    assert.equal(fromBox.trim(), '{"hello":"web"}');
    const boxIp = JSON.parse(
      t.ok(['inspect', '-f', '{{json .NetworkSettings.Networks.vmnet.IPAddress}}', 'box']),
    );
    await onConsole(
      t,
      'web',
      `nslookup box | grep -c ${boxIp} | sed s/^/found-/; printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 5 box 80 | tail -1 | sed s/^/got-/`,
      /found-1[\s\S]*got-\w+/,
    );

    // QEMU killed behind hyperbox's back: the next command records why, and its tap and lease go.
    process.kill(v.State.Pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    assert.match(t.ok(['vm', 'ls']), /web\s+Stopped .*\(QEMU was killed by SIGKILL\)/);
    assert.equal(
      fs.existsSync(`/sys/class/net/${v.Networks.vmnet!.Tap}`),
      false,
      'tap removed after the crash',
    );
    assert.deepEqual(inspect(t, 'web').Networks, {});
    // Started again, it is reachable again.
    t.ok(['vm', 'start', 'web']);
    await waitLog(t, 'web', /hyperbox-guest: ready[\s\S]*hyperbox-guest: ready/);
    const again = spawnSync('sh', ['-c', `${GET} | busybox nc -w 5 127.0.0.1 18081 | tail -1`], {
      encoding: 'utf8',
    });
    assert.equal(again.stdout.trim(), '{"hello":"web"}');
    t.ok(['rm', '-f', 'box']);
    t.ok(['vm', 'rm', '-f', 'web']);
    assert.deepEqual(vmLitter(t.root), []);
    const rules = spawnSync('sh', ['-c', 'iptables-save | grep -c 18081 || true'], { encoding: 'utf8' });
    assert.equal(rules.stdout.trim(), '0', 'no DNAT rule left for the published port');
  });

  it('restores a snapshot of the disk, bringing back a deleted file', async () => {
    t.ok(['vm', 'create', '--name', 'snap', '--memory', '128M', '--disk', '64M', ...kernelArgs()]);
    t.ok(['vm', 'start', 'snap']);
    await waitLog(t, 'snap', /hyperbox-guest: ready/);
    await onConsole(t, 'snap', 'echo kept-$((1+1)) > /data/note && sync && cat /data/note', /kept-2\s/);
    t.ok(['vm', 'stop', '--time', '3', 'snap']);
    t.ok(['vm', 'snapshot', 'create', 'snap', 'before']);
    assert.match(t.ok(['vm', 'snapshot', 'ls', 'snap']), /before/);
    t.ok(['vm', 'start', 'snap']);
    await waitLog(t, 'snap', /hyperbox-guest: ready[\s\S]*hyperbox-guest: ready/);
    await onConsole(t, 'snap', 'rm /data/note && sync && ls /data | wc -l | sed s/^/count-/', /count-\d/);
    t.ok(['vm', 'stop', '--time', '3', 'snap']);
    t.ok(['vm', 'snapshot', 'restore', 'snap', 'before']);
    t.ok(['vm', 'start', 'snap']);
    await waitLog(t, 'snap', /(hyperbox-guest: ready[\s\S]*){3}/);
    await onConsole(t, 'snap', 'cat /data/note | sed s/^/file-/', /file-kept-2/);
    assert.equal(t.run(['vm', 'snapshot', 'restore', 'snap', 'before']).status, 1, 'refused while running');
    t.ok(['vm', 'rm', '-f', 'snap']);
    assert.deepEqual(vmLitter(t.root), []);
  });
});

describe('VM admission through the ledger', { skip }, () => {
  it('refuses a VM the host has no dedicated CPU left for, naming the resource, and frees it on rm', () => {
    const t = new TestRoot();
    try {
      const guest = guestImage();
      const k = ['--kernel', guest.kernel, '--initrd', guest.initrd, '--memory', '64M'];
      // Default policy: the host keeps 1 of this machine's 2 CPUs, so exactly one 1-CPU VM fits.
      t.ok(['vm', 'create', '--name', 'first', ...k]);
      const refused = t.run(['vm', 'create', '--name', 'second', ...k]);
      assert.equal(refused.status, 125, refused.stderr);
      assert.match(refused.stderr, /CPU/);
      assert.match(refused.stderr, /first/);
      assert.doesNotMatch(t.ok(['vm', 'ls']), /second/);
      const bad = t.run(['vm', 'create', '--name', 'third', '--cpus', 'x', ...k]);
      assert.equal(bad.status, 125);
      assert.match(bad.stderr, /--cpus "x"/);
      t.ok(['vm', 'rm', 'first']);
      t.ok(['vm', 'create', '--name', 'second', ...k]);
      t.ok(['vm', 'rm', 'second']);
      assert.deepEqual(vmLitter(t.root), []);
    } finally {
      assert.deepEqual(t.cleanup(), []);
    }
  });
});

describe('a VM that cannot boot', { skip }, () => {
  it('says why QEMU failed, records it, and leaves no tap, rule, process or socket', () => {
    const t = new TestRoot();
    try {
      const junk = path.join(t.root, 'not-a-kernel');
      fs.writeFileSync(junk, 'junk');
      t.ok(['network', 'create', '--subnet', '10.87.0.0/24', 'failnet']);
      t.ok([
        'vm',
        'create',
        '--name',
        'bad',
        '--memory',
        '64M',
        '--kernel',
        junk,
        '--network',
        'failnet',
        '-p',
        '18099:80',
      ]);
      const r = t.run(['vm', 'start', 'bad']);
      assert.equal(r.status, 125);
      assert.match(r.stderr, /QEMU failed to start.*invalid kernel header/);
      assert.match(t.ok(['vm', 'ls']), /bad\s+Stopped .*failed to start/);
      assert.deepEqual(inspect(t, 'bad').Networks, {});
      const rules = spawnSync('sh', ['-c', 'iptables-save | grep -c 18099 || true'], { encoding: 'utf8' });
      assert.equal(rules.stdout.trim(), '0');
      assert.equal(t.ok(['network', 'inspect', '-f', '{{json .Containers}}', 'failnet']).trim(), '{}');
      const litter = vmLitter(t.root).filter((l) => !l.includes('/vms/') || l.includes('/run/'));
      assert.deepEqual(litter, []);
      t.ok(['vm', 'rm', 'bad']);
      t.ok(['network', 'rm', 'failnet']);
      assert.deepEqual(vmLitter(t.root), []);
    } finally {
      assert.deepEqual(t.cleanup(), []);
    }
  });
});

describe('VM base images', { skip }, () => {
  it('imports a disk image, clones it thinly for a VM, and keeps it while the VM exists', () => {
    const t = new TestRoot();
    const raw = path.join(t.root, 'base.raw');
    try {
      spawnSync('qemu-img', ['create', '-q', '-f', 'raw', raw, '48M']);
      fs.writeFileSync(raw, 'hyperbox-base-marker', { flag: 'r+' });
      assert.equal(t.ok(['vm', 'image', 'import', raw, 'base']).trim(), 'base');
      assert.match(t.ok(['vm', 'image', 'ls']), /base\s+disk\s+50331648/);
      const dup = t.run(['vm', 'image', 'import', raw, 'base']);
      assert.notEqual(dup.status, 0);
      assert.match(dup.stderr, /already exists/);
      const small = t.run([
        'vm',
        'create',
        '--name',
        'c',
        '--image',
        'base',
        '--disk',
        '16M',
        '--memory',
        '64M',
      ]);
      assert.equal(small.status, 125);
      assert.match(small.stderr, /smaller than image base/);
      t.ok(['vm', 'create', '--name', 'c', '--image', 'base', '--disk', '64M', '--memory', '64M']);
      const v = inspect(t, 'c');
      const info = JSON.parse(
        spawnSync('qemu-img', ['info', '--output=json', v.Paths.Disk!], { encoding: 'utf8' }).stdout,
      ) as { format: string; 'virtual-size': number; 'backing-filename': string; 'actual-size': number };
      assert.equal(info.format, 'qcow2');
      assert.equal(info['virtual-size'], 64 * 1024 * 1024);
      assert.match(info['backing-filename'], /vm-images\/base\.qcow2$/);
      assert.ok(info['actual-size'] < 1024 * 1024, `a thin clone: ${info['actual-size']} bytes on disk`);
      // The clone reads the base's bytes.
      const head = spawnSync('qemu-img', [
        'dd',
        '-f',
        'qcow2',
        '-O',
        'raw',
        `if=${v.Paths.Disk}`,
        `of=${t.root}/head`,
        'bs=20',
        'count=1',
      ]);
      assert.equal(head.status, 0);
      assert.equal(fs.readFileSync(`${t.root}/head`, 'latin1').slice(0, 20), 'hyperbox-base-marker');
      const inUse = t.run(['vm', 'image', 'rm', 'base']);
      assert.notEqual(inUse.status, 0);
      assert.match(inUse.stderr, /in use by vm c/);
      t.ok(['vm', 'disk', 'resize', 'c', '96M']);
      assert.equal(
        JSON.parse(
          spawnSync('qemu-img', ['info', '--output=json', v.Paths.Disk!], { encoding: 'utf8' }).stdout,
        )['virtual-size'],
        96 * 1024 * 1024,
      );
      t.ok(['vm', 'rm', 'c']);
      t.ok(['vm', 'image', 'rm', 'base']);
      assert.equal(t.ok(['vm', 'image', 'ls']).trim().split('\n').length, 1, 'only the header is left');
      assert.deepEqual(vmLitter(t.root), []);
    } finally {
      assert.deepEqual(t.cleanup(), []);
    }
  });
});

describe('the seed demo: VMs until the dedicated CPUs run out, then containers', { skip }, () => {
  it('starts VMs serving the hello API until one is refused, then runs the same API in more containers', async () => {
    const t = new TestRoot(); // the default policy: the host keeps 1 logical CPU
    const started: string[] = [];
    try {
      const guest = guestImage();
      t.importBusybox();
      t.ok(['network', 'create', '--subnet', '10.89.0.0/24', 'demo']);
      let refused: { status: number; stderr: string } | undefined;
      for (let i = 1; i <= 64 && !refused; i++) {
        const name = `hello${i}`;
        const r = t.run([
          'vm',
          'create',
          '--name',
          name,
          '--cpus',
          '1',
          '--memory',
          '128M',
          '--kernel',
          guest.kernel,
          '--initrd',
          guest.initrd,
          '--network',
          'demo',
          '-p',
          `${18180 + i}:80`,
          '--start',
        ]);
        if (r.status === 0) started.push(name);
        else if (/cannot reserve/.test(r.stderr)) refused = r;
        else {
          // Made, then not started: removed with the others, and the failure says why.
          started.push(name);
          assert.fail(`vm create --start ${name} failed (exit ${r.status}): ${r.stderr}`);
        }
      }
      const cpus =
        Number(fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim().split('-').pop()) + 1;
      assert.equal(started.length, cpus - 1, 'one VM per logical CPU, minus the one the host keeps');
      assert.equal(refused?.status, 125);
      assert.match(refused!.stderr, /needs 1 CPU, 0 free: CPUs? [\d,-]+ (is|are) dedicated to hello1/);
      for (const [i, name] of started.entries()) {
        await waitLog(t, name, /hyperbox-guest: ready/);
        const ip = inspect(t, name).Networks.demo!.IPAddress;
        for (const target of [`${ip} 80`, `127.0.0.1 ${18181 + i}`]) {
          const r = spawnSync('sh', ['-c', `${GET} | busybox nc -w 5 ${target} | tail -1`], {
            encoding: 'utf8',
          });
          assert.equal(r.stdout.trim(), `{"hello":"${name}"}`, `GET ${target}`);
        }
      }
      // The host picture names each VM on its CPU.
      const host = t.ok(['host']);
      for (const name of started) assert.match(host, new RegExp(`\\b${name}\\b`));
      // The same API in containers: they share CPUs, so they fit where no further VM did.
      const cgi =
        'mkdir -p /www/cgi-bin && printf \'#!/bin/sh\\necho Content-Type: application/json\\necho\\necho "{\\\\"hello\\\\":\\\\"$(hostname)\\\\"}"\\n\' > /www/cgi-bin/index.cgi && chmod +x /www/cgi-bin/index.cgi && exec httpd -f -p 80 -h /www';
      const containers = 8;
      for (let i = 1; i <= containers; i++) {
        t.ok([
          'run',
          '-d',
          '--name',
          `c${i}`,
          '--hostname',
          `c${i}`,
          '--cpus',
          '0.1',
          '-m',
          '64m',
          '--network',
          'demo',
          'busybox:1',
          'sh',
          '-c',
          cgi,
        ]);
      }
      for (let i = 1; i <= containers; i++) {
        const out = t.ok([
          'run',
          '--rm',
          '--network',
          'demo',
          'busybox:1',
          'sh',
          '-c',
          `sleep 0.2; ${GET} | nc -w 5 c${i} 80 | tail -1`,
        ]);
        assert.equal(out.trim(), `{"hello":"c${i}"}`);
      }
    } finally {
      if (started.length) t.run(['vm', 'rm', '-f', ...started]);
      t.run(['rm', '-f', ...Array.from({ length: 8 }, (_, i) => `c${i + 1}`)]);
      t.run(['network', 'rm', 'demo']);
      const litter = vmLitter(t.root);
      litter.push(...t.cleanup());
      assert.deepEqual(litter, []);
    }
  });
});
