/**
 * The network layer against the real kernel, entirely inside a private network (and mount) namespace that this
 * file creates by re-running itself under `unshare --net --mount`: every link, rule, packet and dnsmasq lives and
 * dies there; the host's interfaces and rules are never touched. "Containers" are netns files made by
 * NetworkService.setUp; programs run in them with `nsenter --net=FILE`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parsePublish } from '../src/core/network/ports.ts';
import { layoutFor } from '../src/core/paths.ts';
import { LinuxNetworkDriver } from '../src/drivers/network/linux.ts';
import { networkDriverSuite } from '../src/drivers/network/testing/network-driver.suite.ts';
import { Database } from '../src/drivers/store/database.ts';
import { NetworkService } from '../src/engine/networks/service.ts';
import { NO_USERS } from '../src/engine/references.ts';
import { INSIDE_PRIVATE_NETNS } from './helpers/private-netns.ts';

const self = fileURLToPath(import.meta.url);
const inside = INSIDE_PRIVATE_NETNS;

if (!inside) {
  // As root, importing helpers/private-netns.ts re-ran this file inside a private network namespace.
  test('network driver suite', { skip: 'needs root' }, () => {});
} else {
  const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });
  const tryIn = (ns: string, args: string[], timeout = 5000) =>
    spawnSync('nsenter', [`--net=${ns}`, ...args], { encoding: 'utf8', timeout });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-net-'));
  const layout = layoutFor(dir);
  let db: Database;
  let driver: LinuxNetworkDriver;
  let svc: NetworkService;
  const children: ChildProcess[] = [];
  const outside = path.join(dir, 'outside-ns');

  const bg = (ns: string, args: string[]): ChildProcess => {
    const c = spawn('nsenter', [`--net=${ns}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(c);
    return c;
  };
  // busybox wget crashes on this host: an HTTP GET through busybox nc instead.
  const wget = (ns: string | undefined, url: string) => {
    const u = new URL(url);
    const get = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 2 ${u.hostname} ${u.port || 80}`;
    return ns === undefined
      ? spawnSync('sh', ['-c', get], { encoding: 'utf8', timeout: 5000 })
      : tryIn(ns, ['sh', '-c', get]);
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const web = path.join(dir, 'www');

  before(() => {
    // The test's "host": loopback, a host address (192.0.2.2) on the link to an "outside" namespace as the upstream router.
    fs.mkdirSync(web);
    fs.writeFileSync(path.join(web, 'index.html'), 'hello from hbx\n');
    sh('ip', ['link', 'set', 'lo', 'up']);
    fs.writeFileSync(outside, '');
    sh('unshare', [`--net=${outside}`, 'true']);
    sh('ip', ['link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside]);
    sh('ip', ['addr', 'add', '192.0.2.2/24', 'dev', 'uplink0']);
    sh('ip', ['link', 'set', 'uplink0', 'up']);
    sh('ip', ['route', 'add', 'default', 'via', '192.0.2.1']);
    sh('nsenter', [
      `--net=${outside}`,
      'sh',
      '-c',
      'ip link set lo up; ip addr add 192.0.2.1/24 dev eth0; ip link set eth0 up',
    ]);
    db = new Database(layout.db);
    driver = new LinuxNetworkDriver({ dnsDir: path.join(layout.runRoot, 'dns') });
    svc = new NetworkService({ references: NO_USERS, layout, db, driver });
  });

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    try {
      for (const id of new Set(svc.leases().map((l) => l.ownerId))) await svc.tearDown(id);
      for (const n of svc.list()) if (n.name !== 'bridge') await svc.remove(n.id);
    } catch {}
    db?.close();
    spawnSync('umount', [outside]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const req = (
    id: string,
    networks: { network: string; ip?: string; aliases?: string[] }[],
    publish: string[] = [],
  ) => ({
    ownerId: id.padEnd(64, '0'),
    ownerName: id,
    hostname: id,
    networks,
    publish: publish.flatMap(parsePublish),
  });

  test('two containers on a user network talk by IP and by name; ports reach them from the host', async () => {
    svc.create({ name: 'appnet', subnet: '10.77.0.0/24' });
    const before = driver.spawns;
    const t0 = performance.now();
    const a = await svc.setUp(req('aaa', [{ network: 'appnet' }]));
    const t1 = performance.now();
    console.log(
      `# first attach (bridge bring-up + dnsmasq): ${(t1 - t0).toFixed(1)} ms, ${driver.spawns - before} spawns`,
    );
    const b = await svc.setUp(
      req('bbb', [{ network: 'appnet', aliases: ['web'] }], ['8080:80', '127.0.0.1:8081:80']),
    );
    assert.equal(a.endpoints[0]!.address, '10.77.0.2');
    assert.equal(b.endpoints[0]!.address, '10.77.0.3');
    assert.match(a.resolvConf, /nameserver 10\.77\.0\.1/);
    assert.match(b.hosts, /10\.77\.0\.3\tbbb/);
    bg(b.netnsPath, ['busybox', 'httpd', '-f', '-p', '80', '-h', web]);
    await sleep(200);
    assert.match(wget(a.netnsPath, 'http://10.77.0.3/').stdout, /hello from hbx/);
    const ns = tryIn(a.netnsPath, ['busybox', 'nslookup', 'web', '10.77.0.1']);
    assert.match(ns.stdout, /10\.77\.0\.3/, ns.stdout + ns.stderr);
    const byName = tryIn(a.netnsPath, ['busybox', 'nslookup', 'bbb', '10.77.0.1']);
    assert.match(byName.stdout, /10\.77\.0\.3/);
    // published TCP: from the host at 127.0.0.1 and at a host address, and from another namespace
    assert.match(wget(undefined, 'http://127.0.0.1:8080/').stdout, /hello from hbx/);
    assert.match(wget(undefined, 'http://192.0.2.2:8080/').stdout, /hello from hbx/);
    assert.match(wget(undefined, 'http://127.0.0.1:8081/').stdout, /hello from hbx/);
    assert.match(wget(outside, 'http://192.0.2.2:8080/').stdout, /hello from hbx/);
    assert.deepEqual(
      svc.ports(b.endpoints[0]!.ownerId).map((p) => `${p.hostIp}:${p.hostPort}`),
      ['0.0.0.0:8080', '127.0.0.1:8081'],
    );
    // a taken port is refused before anything is set up
    await assert.rejects(svc.setUp(req('ccc', [{ network: 'appnet' }], ['8080:80'])), { code: 'Conflict' });
    assert.equal(fs.existsSync(svc.sandboxPath('ccc'.padEnd(64, '0'))), false);
    // and so is a port a host process listens on
    const busy = spawn('busybox', ['nc', '-l', '-p', '8090'], { stdio: 'ignore' });
    children.push(busy);
    await sleep(100);
    await assert.rejects(svc.setUp(req('ccc', [{ network: 'appnet' }], ['8090:80'])), /in use on the host/);
    assert.equal(svc.leases().filter((l) => l.ownerId.startsWith('ccc')).length, 0);
    // network rm in use is refused, naming the containers
    await assert.rejects(
      svc.remove('appnet'),
      (e: Error & { code?: string }) => e.code === 'Conflict' && /aaa/.test(e.message),
    );
  });

  test('a published UDP port is reached from the host', async () => {
    const c = await svc.setUp(req('udp', [{ network: 'bridge' }], ['5300:53/udp']));
    const srv = bg(c.netnsPath, [
      process.execPath,
      '-e',
      "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('re:'+m,r.port,r.address));s.bind(53,()=>console.log('up'))",
    ]);
    await new Promise((r) => srv.stdout!.once('data', r));
    for (const host of ['127.0.0.1', '192.0.2.2']) {
      const sock = dgram.createSocket('udp4');
      const reply = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no UDP reply via ${host}`)), 3000);
        sock.on('message', (m) => {
          clearTimeout(t);
          resolve(m.toString());
        });
        sock.send('ping', 5300, host);
      });
      sock.close();
      assert.equal(reply, 're:ping');
    }
    await svc.tearDown(c.endpoints[0]!.ownerId);
  });

  test('egress is NATed out; an --internal network has none', async () => {
    svc.create({ name: 'sealed', internal: true });
    const open = await svc.setUp(req('open', [{ network: 'bridge' }]));
    const shut = await svc.setUp(req('shut', [{ network: 'sealed' }]));
    assert.equal(tryIn(open.netnsPath, ['busybox', 'ping', '-c', '1', '-W', '2', '192.0.2.1']).status, 0);
    assert.notEqual(tryIn(shut.netnsPath, ['busybox', 'ping', '-c', '1', '-W', '1', '192.0.2.1']).status, 0);
    assert.doesNotMatch(tryIn(shut.netnsPath, ['ip', 'route']).stdout, /default/);
    await svc.tearDown(open.endpoints[0]!.ownerId);
    await svc.tearDown(shut.endpoints[0]!.ownerId);
  });

  test('a container on two networks is reachable on both', async () => {
    svc.create({ name: 'second', subnet: '10.78.0.0/24' });
    const both = await svc.setUp(
      req('both', [{ network: 'appnet' }, { network: 'second', ip: '10.78.0.50' }]),
    );
    const other = await svc.setUp(req('other', [{ network: 'second' }]));
    bg(both.netnsPath, ['busybox', 'httpd', '-f', '-p', '80', '-h', web]);
    await sleep(200);
    const a = svc.endpoints('aaa'.padEnd(64, '0'))[0]!;
    assert.ok(a);
    assert.match(
      wget(svc.sandboxPath(a.ownerId), 'http://' + both.endpoints[0]!.address + '/').stdout,
      /hello/,
    );
    assert.match(wget(other.netnsPath, 'http://10.78.0.50/').stdout, /hello/);
    await assert.rejects(svc.setUp(req('dup', [{ network: 'second', ip: '10.78.0.50' }])), {
      code: 'Conflict',
    });
    await svc.tearDown(both.endpoints[0]!.ownerId);
    await svc.tearDown(other.endpoints[0]!.ownerId);
  });

  test('20 concurrent allocations from separate processes get distinct addresses', async () => {
    const script = path.join(dir, 'lease.ts');
    const repo = path.resolve(path.dirname(self), '..');
    fs.writeFileSync(
      script,
      `import { Database } from '${repo}/src/drivers/store/database.ts';
import { NetworkService } from '${repo}/src/engine/networks/service.ts';
import { layoutFor } from '${repo}/src/core/paths.ts';
import { NO_USERS } from '${repo}/src/engine/references.ts';
const layout = layoutFor(${JSON.stringify(dir)});
const noop = { hostNetns: '', apply: async () => {}, linkExists: () => true, hostRoutes: () => [], presentChains: async () => new Set(),
  hostInterfaces: () => [], taggedRules: async () => [], portFree: async () => true, hostResolvConf: () => '',
  dns: { update: async () => {}, stop: () => {}, known: () => [] } };
const svc = new NetworkService({ references: NO_USERS, layout, db: new Database(layout.db), driver: noop });
const r = await svc.setUp({ ownerId: process.argv[2], ownerName: process.argv[2].slice(0, 8), hostname: 'x', networks: [{ network: 'second' }] });
console.log(r.endpoints[0].address);
`,
    );
    const ids = Array.from({ length: 20 }, (_, i) => `c${String(i).padStart(2, '0')}`.padEnd(64, 'f'));
    const outs = await Promise.all(
      ids.map(
        (id) =>
          new Promise<string>((resolve, reject) => {
            const c = spawn(process.execPath, [script, id], { stdio: ['ignore', 'pipe', 'inherit'] });
            let out = '';
            c.stdout.on('data', (d) => (out += d));
            c.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}`))));
          }),
      ),
    );
    assert.equal(new Set(outs).size, 20, outs.join(' '));
    // these owners never had links (fake driver): reconcile with them gone drops their leases and endpoints
    const live = new Set(
      svc
        .leases()
        .map((l) => l.ownerId)
        .filter((o) => !ids.includes(o)),
    );
    await svc.reconcile(live);
    assert.equal(svc.leases().filter((l) => ids.includes(l.ownerId)).length, 0);
  });

  test('attach + detach cost on the default bridge', async () => {
    await svc.setUp(req('warm', [{ network: 'bridge' }]));
    await svc.tearDown('warm'.padEnd(64, '0'));
    const n = 10;
    let ms = 0;
    let spawns = 0;
    for (let i = 0; i < n; i++) {
      const s0 = driver.spawns;
      const t0 = performance.now();
      const r = await svc.setUp(req(`bench${i}`, [{ network: 'bridge' }]));
      await svc.tearDown(r.endpoints[0]!.ownerId);
      ms += performance.now() - t0;
      spawns += driver.spawns - s0;
    }
    console.log(`# attach+detach on bridge: ${(ms / n).toFixed(1)} ms, ${spawns / n} spawns (mean of ${n})`);
  });

  test('after teardown, crash leftovers and network removal nothing is left', async () => {
    // a "crash": an owner that vanished with its links, rules and lease still in place
    await svc.setUp(req('crashed', [{ network: 'appnet' }], ['9000:80']));
    for (const c of children) c.kill('SIGKILL');
    const live = new Set<string>();
    await svc.reconcile(live, { deep: true });
    for (const n of svc.list()) if (n.name !== 'bridge') await svc.remove(n.id);
    await assert.rejects(svc.remove('bridge'), /bridge is a pre-defined network and cannot be removed/);
    assert.equal(await svc.removeAll(), 1, 'system reset takes the default network too');
    await sleep(100);
    assert.deepEqual(svc.leases(), []);
    assert.deepEqual(svc.list(), []);
    assert.doesNotMatch(sh('ip', ['-o', 'link']), /hbx|hbr-/);
    assert.doesNotMatch(sh('iptables-save', []), /hbx-(ep|net):/);
    assert.deepEqual(fs.readdirSync(path.join(layout.runRoot, 'netns')), []);
    assert.equal(spawnSync('pgrep', ['-f', `${layout.runRoot}/dns`]).status, 1, 'a dnsmasq is left');
  });

  // The suite every NetworkDriver passes (the fake in a unit test), here against the kernel of this namespace.
  networkDriverSuite('linux', async () => {
    const suiteDir = path.join(dir, 'suite');
    fs.mkdirSync(suiteDir);
    return { driver: new LinuxNetworkDriver({ dnsDir: path.join(suiteDir, 'dns') }), dir: suiteDir };
  });
}
