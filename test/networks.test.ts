/**
 * Container networking end to end through the CLI. The whole file runs again inside a private network namespace
 * (test/helpers/private-netns.ts): bridges, veths, rules, dnsmasq and every packet stay there.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { litterOf, privilegedSkipReason, TestRoot } from './helpers/cli.ts';
import { INSIDE_PRIVATE_NETNS } from './helpers/private-netns.ts';

const skip =
  privilegedSkipReason() ??
  (spawnSync('sh', ['-c', 'command -v dnsmasq']).status !== 0 ? 'dnsmasq is not installed' : undefined);
if (skip) console.log(`# skipping network tests: ${skip}`);

const GET = 'printf "GET /index.html HTTP/1.0\\r\\n\\r\\n"';

if (!INSIDE_PRIVATE_NETNS) {
  // As root, importing helpers/private-netns.ts re-ran this file inside a private network namespace.
  test('container networks', { skip: skip ?? 'needs root' }, () => {});
} else {
  describe('container networks', () => {
    let t: TestRoot;
    before(() => {
      t = new TestRoot();
      t.importBusybox();
    });
    after(() => {
      const ids = t.ok(['ps', '-aq']).split('\n').filter(Boolean);
      if (ids.length) t.ok(['rm', '-f', ...ids]);
      for (const n of t
        .ok(['network', 'ls', '--format', '{{.Name}}'])
        .split('\n')
        .filter((x) => x && x !== 'bridge')) {
        t.ok(['network', 'rm', n]);
      }
      assert.deepEqual(t.cleanup(), []);
      const links = spawnSync('ip', ['-o', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' }).stdout;
      assert.equal(links, '', 'no veth left');
      const rules = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout;
      assert.doesNotMatch(rules, /hbx-ep:/, 'no endpoint rules left');
    });

    const serve = (name: string, extra: string[]) =>
      t.ok([
        'run',
        '-d',
        '--name',
        name,
        ...extra,
        'busybox:1',
        'sh',
        '-c',
        `echo ${name} > /www/index.html 2>/dev/null || (mkdir /www && echo ${name} > /www/index.html); httpd -f -p 80 -h /www`,
      ]);

    it('creates, lists and inspects user networks, and refuses bad subnets', () => {
      const id = t.ok(['network', 'create', '--subnet', '10.77.0.0/24', '--label', 'team=a', 'app']).trim();
      assert.match(id, /^[0-9a-f]{64}$/);
      assert.match(
        t.ok(['network', 'ls']),
        /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\n[\s\S]*app\s+bridge\s+local/,
      );
      const inspect = JSON.parse(t.ok(['network', 'inspect', 'app']))[0];
      assert.equal(inspect.IPAM.Config[0].Subnet, '10.77.0.0/24');
      assert.equal(inspect.Labels.team, 'a');
      const bad = t.run(['network', 'create', '--subnet', '10.77.0.0/33', 'broken']);
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /10\.77\.0\.0\/33/);
    });

    it('lets containers on a user network reach each other by name and alias over TCP', () => {
      serve('web', ['--network', 'app', '--network-alias', 'www']);
      const out = t.ok([
        'run',
        '--rm',
        '--network',
        'app',
        'busybox:1',
        'sh',
        '-c',
        `${GET} | nc -w 3 web 80 | tail -1; ${GET} | nc -w 3 www 80 | tail -1`,
      ]);
      assert.equal(out, 'web\nweb\n');
      const rm = t.run(['network', 'rm', 'app']);
      assert.equal(rm.status, 1);
      assert.match(rm.stderr, /in use/);
    });

    it('publishes TCP and UDP ports on 127.0.0.1 and the host addresses, refusing a taken one', async () => {
      serve('pub', ['-p', '18080:80', '-p', '15353:5353/udp']);
      assert.equal(t.ok(['port', 'pub', '80']), '0.0.0.0:18080\n');
      const gateway = t.ok(['network', 'inspect', '-f', '{{json .IPAM.Config}}', 'bridge']);
      const gw = (JSON.parse(gateway) as Array<{ Gateway: string }>)[0]!.Gateway;
      for (const addr of ['127.0.0.1', gw]) {
        const r = spawnSync('sh', ['-c', `${GET} | busybox nc -w 3 ${addr} 18080 | tail -1`], {
          encoding: 'utf8',
        });
        assert.equal(r.stdout, 'pub\n', `via ${addr}`);
      }
      // busybox has no UDP tool: a Node listener runs in the container's network namespace (what the published
      // port leads to), and the host side sends until a datagram arrives (UDP has no handshake to wait on).
      const pid = t.ok(['inspect', '-f', '{{.State.Pid}}', 'pub']).trim();
      const listener = `require('dgram').createSocket('udp4').on('message', (m) => { console.log(String(m).trim()); process.exit(0); }).bind(5353); setTimeout(() => process.exit(1), 8000);`;
      const sender = `const s = require('dgram').createSocket('udp4'); const t = setInterval(() => s.send('datagram', 15353, '127.0.0.1'), 200); setTimeout(() => { clearInterval(t); s.close(); }, 7000);`;
      const listening = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, process.execPath, '-e', listener], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const sending = spawn(process.execPath, ['-e', sender], { stdio: 'ignore' });
      let received = '';
      listening.stdout.on('data', (d) => {
        received += d;
      });
      const code = await new Promise((resolve) => listening.on('exit', resolve));
      sending.kill();
      assert.equal(code, 0, 'no datagram reached the container');
      assert.equal(received, 'datagram\n');
      const taken = t.run(['run', '-d', '-p', '18080:80', 'busybox:1', 'true']);
      assert.equal(taken.status, 125);
      assert.match(taken.stderr, /18080/);
      assert.match(t.ok(['ps', '--filter', 'name=pub']), /0\.0\.0\.0:18080->80\/tcp/);
    });

    it('keeps --internal networks without egress', () => {
      t.ok(['network', 'create', '--internal', 'sealed']);
      const routes = t.ok(['run', '--rm', '--network', 'sealed', 'busybox:1', 'ip', 'route']);
      assert.doesNotMatch(routes, /default/);
    });

    it('gives 20 containers started at once 20 distinct addresses', async () => {
      const starts = Array.from(
        { length: 20 },
        (_, i) =>
          new Promise<{ code: number; stderr: string }>((resolve) => {
            const args = [
              '--root',
              t.root,
              'run',
              '-d',
              '--name',
              `many${i}`,
              '--network',
              'app',
              'busybox:1',
              'sleep',
              '60',
            ];
            const child = spawn('bin/hyperbox', args, { stdio: ['ignore', 'ignore', 'pipe'] });
            let stderr = '';
            child.stderr.on('data', (d) => {
              stderr += d;
            });
            child.on('exit', (c) => resolve({ code: c ?? -1, stderr }));
          }),
      );
      const results = await Promise.all(starts);
      assert.deepEqual(
        results.map((r) => r.code),
        Array(20).fill(0),
        results.map((r) => r.stderr).join(''),
      );
      const addrs = Array.from({ length: 20 }, (_, i) =>
        t.ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', `many${i}`]).trim(),
      );
      assert.equal(new Set(addrs).size, 20, addrs.join(' '));
      t.ok(['rm', '-f', ...Array.from({ length: 20 }, (_, i) => `many${i}`)]);
    });

    it('reaches a container connected to two networks on both', () => {
      t.ok(['network', 'create', 'second']);
      serve('twin', ['--network', 'app']);
      t.ok(['network', 'connect', 'second', 'twin']);
      for (const n of ['app', 'second']) {
        const out = t.ok([
          'run',
          '--rm',
          '--network',
          n,
          'busybox:1',
          'sh',
          '-c',
          `${GET} | nc -w 3 twin 80 | tail -1`,
        ]);
        assert.equal(out, 'twin\n', `over ${n}`);
      }
    });

    it('joins the default bridge without --network, and reaches its own published port (hairpin)', () => {
      serve('self', ['-p', '18090:80']);
      const inspect = JSON.parse(t.ok(['inspect', 'self']))[0];
      assert.deepEqual(Object.keys(inspect.NetworkSettings.Networks), ['bridge']);
      const gateway = inspect.NetworkSettings.Networks.bridge.Gateway;
      assert.match(gateway, /^\d+\.\d+\.\d+\.\d+$/);
      const out = t.ok(['exec', 'self', 'sh', '-c', `${GET} | nc -w 3 ${gateway} 18090 | tail -1`]);
      assert.equal(out, 'self\n');
      t.ok(['rm', '-f', 'self']);
    });

    it("shares another container's namespace with --network container:NAME", () => {
      serve('owner', ['--network', 'app']);
      const ownerIp = t.ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'owner']).trim();
      const out = t.ok([
        'run',
        '--rm',
        '--network',
        'container:owner',
        'busybox:1',
        'sh',
        '-c',
        `ip -4 -o addr show eth0 | grep -o '${ownerIp}/'; hostname; ${GET} | nc -w 3 127.0.0.1 80 | tail -1`,
      ]);
      const ownerHost = t.ok(['exec', 'owner', 'hostname']).trim();
      assert.equal(out, `${ownerIp}/\n${ownerHost}\nowner\n`);
      const conflict = t.run([
        'run',
        '--rm',
        '--network',
        'container:owner',
        '-p',
        '80',
        'busybox:1',
        'true',
      ]);
      assert.equal(conflict.status, 125);
      assert.match(conflict.stderr, /conflicting options: port publishing/);
      t.ok(['stop', '-t', '0', 'owner']);
      const stopped = t.run(['run', '--rm', '--network', 'container:owner', 'busybox:1', 'true']);
      assert.notEqual(stopped.status, 0);
      assert.match(stopped.stderr, /non running container: owner/);
      t.ok(['rm', 'owner']);
      const missing = t.run(['run', '--rm', '--network', 'container:nosuch', 'busybox:1', 'true']);
      assert.equal(missing.status, 125);
      assert.match(missing.stderr, /nosuch/);
    });

    it('refuses to remove a network a stopped container is configured on, and the default one', () => {
      t.ok(['network', 'create', 'parked']);
      t.ok(['create', '--name', 'sleeper', '--network', 'parked', 'busybox:1', 'true']);
      const inUse = t.run(['network', 'rm', 'parked']);
      assert.equal(inUse.status, 1);
      assert.match(inUse.stderr, /network parked is in use by container sleeper/);
      t.ok(['rm', 'sleeper']);
      t.ok(['network', 'rm', 'parked']);
      const predefined = t.run(['network', 'rm', 'bridge']);
      assert.equal(predefined.status, 1);
      assert.match(predefined.stderr, /bridge is a pre-defined network and cannot be removed/);
      const unknown = t.run(['run', '--rm', '--network', 'nosuch', 'busybox:1', 'true']);
      assert.equal(unknown.status, 125);
      assert.match(unknown.stderr, /network nosuch not found/);
    });

    /** What of this root's networking is on the host now: veths, rules, namespace files, leases. */
    const footprint = () => {
      const links = spawnSync('ip', ['-o', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' }).stdout;
      const rules = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout;
      let netns: string[] = [];
      try {
        netns = fs.readdirSync(path.join(t.root, 'run', 'netns'));
      } catch {}
      return {
        veths: links.split('\n').filter((l) => /hbx[0-9a-f]{8}/.test(l)).length,
        endpointRules: rules.split('\n').filter((l) => /hbx-ep:/.test(l)).length,
        netns: netns.length,
      };
    };

    it('cleans up after a crashed container monitor: no veth, rule, namespace or lease remains', () => {
      const before = footprint();
      serve('crashy', ['--network', 'app', '-p', '18081:80']);
      const during = footprint();
      assert.equal(during.veths, before.veths + 1);
      assert.equal(during.netns, before.netns + 1);
      assert.ok(during.endpointRules > before.endpointRules);
      // The monitor and the container die without anyone to clean up after them (as in an engine crash).
      killWithMonitor('crashy');
      // In-process, the next command reconciles; a daemon notices the dead monitor within a second or so.
      let status = '';
      for (let i = 0; i < 50 && !status.startsWith('Exited'); i++, spawnSync('sleep', ['0.1'])) {
        status = t.ok(['ps', '-a', '--filter', 'name=crashy', '--format', '{{.Status}}']);
      }
      assert.match(status, /^Exited/);
      assert.deepEqual(footprint(), before);
      assert.ok(!holdsLease('app', 'crashy'));
      // The port is free again: another container takes it.
      serve('heir', ['--network', 'app', '-p', '18081:80']);
      t.ok(['rm', '-f', 'heir', 'crashy']);
    });

    it('leaves nothing behind when a start fails after the network was set up', () => {
      const before = footprint();
      const r = t.run([
        'run',
        '-d',
        '--name',
        'broken',
        '--network',
        'app',
        '-p',
        '18083:80',
        'busybox:1',
        '/nosuch',
      ]);
      assert.equal(r.status, 127, r.stderr);
      assert.deepEqual(footprint(), before);
      assert.ok(!holdsLease('app', 'broken'));
      serve('taker', ['--network', 'app', '-p', '18083:80']);
      t.ok(['rm', '-f', 'taker', 'broken']);
    });

    it('reconciles after a host reboot: stale records go, and networks come back on the next start', () => {
      const others = t.ok(['ps', '-aq']).split('\n').filter(Boolean);
      if (others.length) t.ok(['rm', '-f', ...others]);
      serve('booted', ['--network', 'app', '-p', '18082:80']);
      const id = inspectId('booted');
      // A reboot: every process, link, rule and run-time file is gone; the state root's records remain.
      killWithMonitor('booted');
      for (const dns of spawnSync('pgrep', ['-f', `${t.root}/run/dns`], { encoding: 'utf8' }).stdout.split(
        '\n',
      ))
        if (dns) process.kill(Number(dns), 'SIGKILL');
      for (const l of fs.readdirSync('/sys/class/net')) {
        if (/^(hbx|hbr-)/.test(l)) spawnSync('ip', ['link', 'del', l]);
      }
      spawnSync('sh', ['-c', 'iptables-save | grep -v hbx- | iptables-restore']);
      for (const f of fs.readdirSync(path.join(t.root, 'run', 'netns'))) {
        spawnSync('umount', [path.join(t.root, 'run', 'netns', f)]);
      }
      spawnSync('umount', ['-R', path.join(t.root, 'containers', id, 'rootfs')]);
      fs.rmSync(path.join(t.root, 'run'), { recursive: true, force: true });
      assert.match(t.ok(['ps', '-a', '--filter', 'name=booted', '--format', '{{.Status}}']), /^Exited/);
      assert.deepEqual(footprint(), { veths: 0, endpointRules: 0, netns: 0 });
      t.ok(['start', 'booted']);
      const out = t.ok([
        'run',
        '--rm',
        '--network',
        'app',
        'busybox:1',
        'sh',
        '-c',
        `${GET} | nc -w 3 booted 80 | tail -1`,
      ]);
      assert.equal(out, 'booted\n');
      t.ok(['rm', '-f', 'booted']);
    });

    const inspectId = (name: string) => t.ok(['inspect', '-f', '{{.Id}}', name]).trim();

    const holdsLease = (network: string, name: string): boolean =>
      Object.values(JSON.parse(t.ok(['network', 'inspect', network]))[0].Containers).some(
        (c) => (c as { Name: string }).Name === name,
      );

    /** SIGKILL for a container's process and its monitor: nobody is left to clean up after it. */
    const killWithMonitor = (name: string) => {
      const pid = Number(t.ok(['inspect', '-f', '{{.State.Pid}}', name]).trim());
      const monitor = Number(
        spawnSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim(),
      );
      process.kill(monitor, 'SIGKILL');
      process.kill(pid, 'SIGKILL');
      spawnSync('sleep', ['0.3']);
    };
  });

  describe('system reset', () => {
    it('removes every container, network, volume and image with their bridges, rules and mounts', () => {
      const t = new TestRoot();
      const hbxRules = () =>
        spawnSync('iptables-save', [], { encoding: 'utf8' })
          .stdout.split('\n')
          .filter((l) => l.includes('hbx'));
      const othersRules = hbxRules();
      const othersBridges = spawnSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' })
        .stdout.split('\n')
        .map((l) => l.split(':')[1]?.trim());
      try {
        t.importBusybox();
        t.ok(['network', 'create', '--subnet', '10.78.0.0/24', 'resetnet']);
        t.ok(['volume', 'create', 'kept']);
        t.ok(
          ['run', '-d', '--name', 'ra', '--network', 'resetnet', '-p', '18090:80', '-v', 'kept:/data'].concat(
            ['busybox:1', 'sleep', '300'],
          ),
        );
        t.ok(['run', '-d', '--name', 'rb', 'busybox:1', 'sleep', '300']);
        t.ok(['create', '--name', 'rc', 'busybox:1', 'true']);
        const bridgesNow = () =>
          spawnSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' })
            .stdout.split('\n')
            .map((l) => l.split(':')[1]?.trim())
            .filter((n) => n !== undefined);
        // Other roots' bridges may live in this namespace too (in daemon mode the reboot test that drops them is
        // left out): only the ones this root made count.
        const ours = bridgesNow().filter((b) => !othersBridges.includes(b));
        assert.equal(ours.length, 2, `the two networks have bridges: ${ours.join(' ')}`);

        const refused = t.run(['system', 'reset']);
        assert.notEqual(refused.status, 0, refused.stderr);
        assert.match(refused.stderr, /--force/);
        assert.equal(t.ok(['ps', '-aq']).split('\n').filter(Boolean).length, 3, 'nothing removed');

        const out = t.ok(['system', 'reset', '-f']);
        assert.match(out, /^Removed 3 containers, 0 VMs, 2 networks, 1 volumes, 1 images\n/);
        assert.deepEqual(
          bridgesNow().filter((b) => ours.includes(b)),
          [],
          'no bridge of this root left',
        );
        assert.equal(
          spawnSync('ip', ['-o', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' }).stdout,
          '',
          'no veth left',
        );
        assert.deepEqual(
          hbxRules().filter((r) => !othersRules.includes(r)),
          [],
          'no rule of this root left',
        );
        const left = litterOf(t.root).filter((l) => !t.daemon || !l.startsWith(`process ${t.daemon.pid} `));
        assert.deepEqual(left, []);
        if (t.daemon) {
          // The daemon runs on: its root stays, empty, and it goes on serving.
          assert.match(out, /The daemon keeps running on its state root/);
          assert.equal(t.ok(['ps', '-aq']), '');
          assert.equal(t.ok(['volume', 'ls', '-q']), '');
          assert.equal(t.ok(['images', '-q']), '');
        } else {
          assert.equal(fs.existsSync(t.root), false, 'the state root is gone');
        }
      } finally {
        assert.deepEqual(t.cleanup(), []);
      }
    });
  });
}
