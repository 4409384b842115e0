import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parsePublish } from '../../core/network/ports.ts';
import { layoutFor } from '../../core/paths.ts';
import { FakeNetworkDriver } from '../../drivers/network/testing/fake-network-driver.ts';
import { Database } from '../../drivers/store/database.ts';
import type { NetworkAttachment } from '../api/networks.ts';
import { EventLog } from '../events/service.ts';
import { NO_USERS, type References } from '../references.ts';
import { NetworkService } from './service.ts';

/** The network service on a scratch root, its kernel a fake: no root, nothing on the host. */
describe('NetworkService (against the fake driver)', () => {
  let dir: string;
  let db: Database;
  let driver: FakeNetworkDriver;
  let svc: NetworkService;
  let events: EventLog;
  let refs: References;

  const open = () => new NetworkService({ layout: layoutFor(dir), db, driver, events, references: refs });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-netsvc-'));
    db = new Database(path.join(dir, 'db.sqlite'));
    driver = new FakeNetworkDriver();
    events = new EventLog(db);
    refs = NO_USERS;
    svc = open();
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const id = (name: string) => name.padEnd(64, '0');
  const start = (name: string, networks: NetworkAttachment[] = [], publish: string[] = []) =>
    svc.setUp({
      ownerId: id(name),
      ownerName: name,
      hostname: name,
      networks,
      publish: publish.flatMap((p) => parsePublish(p)),
    });
  const actions = () => events.list({}).events.map((e) => `${e.type} ${e.action}`);
  const dnsHosts = (netId: string) => driver.dns.servers.get(netId)?.hosts ?? '';

  describe('create and remove', () => {
    it('creates a bridge network with the next free subnet, its record listed and inspected by name or id', () => {
      const n = svc.create({ name: 'appnet', labels: { team: 'web' } });
      assert.equal(n.subnet, '172.18.0.0/16');
      assert.equal(n.gateway, '172.18.0.1');
      assert.equal(n.bridge, `hbr-${n.id.slice(0, 11)}`);
      assert.deepEqual(
        svc.list().map((x) => [x.name, x.endpoints.length]),
        [['appnet', 0]],
      );
      assert.equal(svc.inspect(n.id.slice(0, 8)).name, 'appnet');
      assert.deepEqual(svc.inspect('appnet').labels, { team: 'web' });
      assert.deepEqual(actions(), ['network create']);
      assert.equal(driver.linkExists(n.bridge), false, 'the bridge comes up on first use only');
    });

    it('refuses a second network of a name, a bridge device already used and a subnet that overlaps', () => {
      svc.create({ name: 'a', subnet: '10.1.0.0/16', options: { 'com.docker.network.bridge.name': 'br-a' } });
      assert.throws(() => svc.create({ name: 'a' }), { code: 'AlreadyExists' });
      // (Names that are not hex: a hex name is also looked up as an id prefix.)
      assert.throws(
        () => svc.create({ name: 'net-b', options: { 'com.docker.network.bridge.name': 'br-a' } }),
        {
          code: 'Conflict',
          message: 'bridge br-a is used by another network',
        },
      );
      assert.throws(() => svc.create({ name: 'net-c', subnet: '10.1.2.0/24' }), /overlaps network a/);
      assert.throws(() => svc.create({ name: 'host' }), /reserved/);
      assert.throws(() => svc.inspect('nosuch'), { code: 'NotFound', message: 'network nosuch not found' });
    });

    it('skips subnets a host route takes, and makes the default network on first use', () => {
      driver.addRoute('172.17.0.0/16');
      driver.addRoute('172.18.0.0/16');
      assert.equal(svc.create({ name: 'n' }).subnet, '172.19.0.0/16');
      const def = svc.ensureDefault();
      assert.equal(def.name, 'bridge');
      assert.equal(def.isDefault, true);
      assert.notEqual(def.subnet, '172.17.0.0/16', 'the host route keeps it');
      assert.equal(svc.ensureDefault().id, def.id, 'made once');
    });

    it('refuses to remove the default network, a network in use or one a stopped workload names', async () => {
      const n = svc.create({ name: 'appnet' });
      await start('web', [{ network: 'appnet' }]);
      await assert.rejects(svc.remove('bridge'), { code: 'FailedPrecondition' });
      await assert.rejects(svc.remove('appnet'), {
        code: 'Conflict',
        message: `network appnet is in use by container web (${id('web').slice(0, 12)})`,
      });
      await svc.tearDown(id('web'));
      refs = { ...NO_USERS, usersOfNetwork: (x) => (x.id === n.id ? ['container db (0a1b2c3d4e5f)'] : []) };
      svc = open();
      await assert.rejects(svc.remove('appnet'), /in use by container db/);
      refs = NO_USERS;
      svc = open();
      await svc.remove('appnet');
      assert.equal(driver.linkExists(n.bridge), false, 'its bridge went with it');
      assert.deepEqual(
        svc.list().map((x) => x.name),
        ['bridge'],
      );
      assert.ok(actions().includes('network destroy'));
    });

    it('prunes the user networks nobody uses; reset removes every network once the workloads are gone', async () => {
      svc.create({ name: 'used' });
      svc.create({ name: 'idle' });
      await start('web', [{ network: 'used' }]);
      assert.deepEqual(await svc.prune(), ['idle']);
      await assert.rejects(svc.removeAll(), /networks are in use by container web/);
      await svc.tearDown(id('web'));
      svc.ensureDefault();
      assert.equal(await svc.removeAll(), 2, 'the default network and "used"');
      assert.deepEqual(svc.list(), []);
      assert.deepEqual(driver.hostInterfaces(), []);
      assert.deepEqual(driver.dns.known(), []);
    });
  });

  describe('attach and detach', () => {
    it('puts two containers on a user network: addresses in turn, links on its bridge, names in its DNS', async () => {
      const n = svc.create({ name: 'appnet', subnet: '10.77.0.0/24' });
      const a = await start('aaa', [{ network: 'appnet' }]);
      const b = await start('bbb', [{ network: 'appnet', aliases: ['web'] }]);
      assert.deepEqual(
        [a, b].map((r) => r.endpoints[0]!.address),
        ['10.77.0.2', '10.77.0.3'],
      );
      for (const r of [a, b]) {
        assert.ok(fs.existsSync(r.netnsPath), 'the sandbox exists');
        assert.equal(driver.masterOf(r.endpoints[0]!.hostIf), n.bridge);
        assert.equal(driver.defaultRoutes.get(r.netnsPath), '10.77.0.1');
      }
      assert.deepEqual(driver.sandboxAddresses(a.netnsPath, 'eth0'), ['10.77.0.2/24']);
      assert.match(a.resolvConf, /^nameserver 10\.77\.0\.1$/m);
      assert.match(b.hosts, /10\.77\.0\.3\tbbb/);
      assert.equal(
        dnsHosts(n.id),
        `10.77.0.2 aaa ${id('aaa').slice(0, 12)}\n10.77.0.3 bbb ${id('bbb').slice(0, 12)} web\n`,
        'names, short ids and aliases',
      );
      assert.equal(svc.inspect('appnet').endpoints.length, 2);
      assert.ok(driver.linkExists(n.bridge));
    });

    it('detaching one keeps the other; the last one stops the DNS server; leases go with their endpoints', async () => {
      const n = svc.create({ name: 'appnet', subnet: '10.77.0.0/24' });
      const a = await start('aaa', [{ network: 'appnet' }]);
      await start('bbb', [{ network: 'appnet' }]);
      await svc.tearDown(id('aaa'));
      await svc.tearDown(id('aaa')); // idempotent
      assert.equal(fs.existsSync(a.netnsPath), false);
      assert.deepEqual(
        svc.leases().map((l) => l.address),
        ['10.77.0.3'],
      );
      assert.doesNotMatch(dnsHosts(n.id), /aaa/);
      await svc.tearDown(id('bbb'));
      assert.deepEqual(svc.leases(), []);
      assert.deepEqual(driver.dns.known(), []);
      assert.deepEqual(driver.hostInterfaces(), []);
    });

    it('hands a released address out again only after the rest of the range (round robin)', async () => {
      svc.create({ name: 'n', subnet: '10.5.0.0/29' }); // .2-.6 for containers
      await start('c1', [{ network: 'n' }]);
      await start('c2', [{ network: 'n' }]);
      await svc.tearDown(id('c1'));
      const next = await start('c3', [{ network: 'n' }]);
      assert.equal(next.endpoints[0]!.address, '10.5.0.4', 'not .2, just released');
      const asked = await start('c4', [{ network: 'n', ip: '10.5.0.2', mac: '02:42:00:00:00:99' }]);
      assert.equal(asked.endpoints[0]!.address, '10.5.0.2');
      assert.equal(asked.endpoints[0]!.mac, '02:42:00:00:00:99');
      await assert.rejects(start('c5', [{ network: 'n', ip: '10.5.0.2' }]), { code: 'Conflict' });
      await assert.rejects(start('c6', [{ network: 'n', ip: '10.9.0.2' }]), /outside the network's subnet/);
    });

    it('refuses a container when the range is exhausted, leaving nothing of it', async () => {
      svc.create({ name: 'tiny', subnet: '10.6.0.0/30' }); // one address: .2
      await start('first', [{ network: 'tiny' }]);
      await assert.rejects(start('second', [{ network: 'tiny' }]), {
        code: 'Unavailable',
        message: 'no free address left in 10.6.0.0/30',
      });
      assert.deepEqual(svc.endpoints(id('second')), []);
      assert.equal(fs.existsSync(svc.sandboxPath(id('second'))), false);
      assert.equal(svc.leases().length, 1);
    });

    it('undoes all it did when the host refuses a step, and the container must not start', async () => {
      svc.create({ name: 'appnet' });
      driver.failOn = (s) => s.op === 'ip' && s.line.includes('hairpin');
      await assert.rejects(start('web', [{ network: 'appnet' }], ['8080:80']), /injected failure/);
      driver.failOn = undefined;
      assert.deepEqual(svc.leases(), []);
      assert.deepEqual(driver.hostInterfaces(), []);
      assert.equal(fs.existsSync(svc.sandboxPath(id('web'))), false);
      assert.ok(!(await driver.taggedRules()).some((r) => r.line.includes('--dport 8080')));
      await start('web', [{ network: 'appnet' }], ['8080:80']);
    });

    it('publishes ports on the first network: a port taken by another container or a host process is refused', async () => {
      const web = await start('web', [], ['8080:80', '127.0.0.1::53/udp']);
      const [tcp, udp] = web.endpoints[0]!.ports;
      assert.equal(tcp!.hostPort, 8080);
      assert.ok(udp!.hostPort >= 32768 && udp!.hostPort <= 60999, `ephemeral ${udp!.hostPort}`);
      assert.deepEqual(svc.ports(id('web')), web.endpoints[0]!.ports);
      assert.ok((await driver.taggedRules()).some((r) => r.line.includes('--dport 8080')));
      await assert.rejects(start('other', [], ['8080:80']), { code: 'Conflict' });
      driver.busyPorts.add('0.0.0.0:9090/tcp');
      await assert.rejects(start('other', [], ['9090:80']), /already in use on the host/);
      assert.deepEqual(svc.endpoints(id('other')), []);
    });

    it('connects a running container to one more network, and disconnects it', async () => {
      svc.create({ name: 'front', subnet: '10.7.0.0/24' });
      const back = svc.create({ name: 'back', subnet: '10.8.0.0/24', internal: true });
      const r = await start('web', [{ network: 'front' }]);
      const ep = await svc.connect('back', { id: id('web'), name: 'web' }, { aliases: ['api'] });
      assert.equal(ep.ifname, 'eth1');
      assert.deepEqual(ep.aliases, ['api']);
      assert.deepEqual(driver.sandboxAddresses(r.netnsPath, 'eth1'), ['10.8.0.2/24']);
      await assert.rejects(svc.connect('back', { id: id('web'), name: 'web' }), { code: 'AlreadyExists' });
      await assert.rejects(svc.connect('back', { id: id('nosandbox'), name: 'nosandbox' }), {
        code: 'FailedPrecondition',
      });
      await svc.disconnect('back', id('web'));
      assert.deepEqual(
        svc.endpoints(id('web')).map((e) => e.ifname),
        ['eth0'],
      );
      assert.equal(driver.dns.known().includes(back.id), false);
      await assert.rejects(svc.disconnect('back', id('web')), { code: 'NotFound' });
      await svc.disconnect('front', id('web'));
      assert.equal(fs.existsSync(r.netnsPath), false, 'the last disconnect removes the sandbox');
      assert.deepEqual(
        actions().filter((a) => a.endsWith('connect')),
        ['network connect', 'network disconnect', 'network disconnect'],
      );
    });

    it('gives a VM taps on its networks from the same leases, and takes them back', async () => {
      const n = svc.create({ name: 'vmnet', subnet: '10.9.0.0/24' });
      await start('ctr', [{ network: 'vmnet' }]);
      const eps = await svc.attachTaps({
        ownerId: id('vm'),
        ownerName: 'vm',
        hostname: 'vm',
        networks: [{ network: 'vmnet' }],
      });
      assert.equal(eps[0]!.kind, 'vm');
      assert.match(eps[0]!.hostIf, /^hbxt[0-9a-f]{8}$/);
      assert.equal(eps[0]!.address, '10.9.0.3');
      assert.equal(driver.masterOf(eps[0]!.hostIf), n.bridge);
      assert.match(dnsHosts(n.id), /10\.9\.0\.3\s+vm/);
      await svc.detachTaps(id('vm'));
      assert.equal(driver.linkExists(eps[0]!.hostIf), false);
      assert.deepEqual(
        svc.leases().map((l) => l.kind),
        ['container'],
      );
    });

    it('brings a bridge up once when many attach to it at once', async () => {
      const n = svc.create({ name: 'busy' });
      await Promise.all(['a', 'b', 'c', 'd'].map((c) => start(c, [{ network: 'busy' }])));
      const bringUps = driver.applied.filter((a) =>
        a.plan.steps.some((s) => s.op === 'ip' && s.line === `link add name ${n.bridge} type bridge`),
      );
      assert.equal(bringUps.length, 1);
      assert.equal(svc.inspect('busy').endpoints.length, 4);
      assert.equal(
        fs.existsSync(path.join(layoutFor(dir).networkLocks, n.id)),
        false,
        'the lock is released',
      );
    });
  });

  describe('reconcile', () => {
    it('after a crash, removes what an owner that is gone held and keeps the live ones', async () => {
      svc.create({ name: 'appnet', subnet: '10.77.0.0/24' });
      const live = await start('live', [{ network: 'appnet' }]);
      const gone = await start('gone', [{ network: 'appnet' }], ['8080:80']);
      await svc.reconcile(new Set([id('live')]));
      assert.deepEqual(
        svc.leases().map((l) => l.ownerId),
        [id('live')],
      );
      assert.equal(fs.existsSync(gone.netnsPath), false);
      assert.equal(driver.linkExists(gone.endpoints[0]!.hostIf), false);
      assert.ok(!(await driver.taggedRules()).some((r) => r.line.includes('--dport 8080')));
      assert.ok(fs.existsSync(live.netnsPath));
      assert.ok(driver.linkExists(live.endpoints[0]!.hostIf));
    });

    it('removes leftovers with no record: a veth on our bridge, a sandbox file, a rule of a vanished endpoint', async () => {
      const n = svc.create({ name: 'appnet', subnet: '10.77.0.0/24' });
      const r = await start('web', [{ network: 'appnet' }], ['8080:80']);
      const ep = r.endpoints[0]!;
      // A process died after making these and before recording them (or after deleting the records).
      await driver.apply({
        steps: [
          { op: 'ip', ns: 'host', line: 'tuntap add dev hbx0badf00d mode tap' },
          { op: 'ip', ns: 'host', line: `link set hbx0badf00d master ${n.bridge} mtu 1500 up` },
          { op: 'ip', ns: 'host', line: 'tuntap add dev hbxdeadbeef mode tap' },
        ],
      });
      fs.writeFileSync(path.join(layoutFor(dir).netns, id('stray')), '');
      const stray = `-A HBX-PORTS -p tcp -m tcp --dport 9999 -m comment --comment hbx-ep:0123456789ab -j DNAT --to-destination 10.77.0.9:80`;
      await driver.apply({ steps: [{ op: 'rule', table: 'nat', line: stray }] });
      await svc.reconcile(() => true);
      assert.deepEqual(
        driver.hostInterfaces().sort(),
        [ep.hostIf, 'hbxdeadbeef'].sort(),
        'the stray veth went',
      );
      assert.equal(
        driver.linkExists('hbxdeadbeef'),
        true,
        'a link on no bridge of ours is not ours to judge',
      );
      assert.equal(fs.existsSync(path.join(layoutFor(dir).netns, id('stray'))), false);
      assert.ok(!(await driver.taggedRules()).some((x) => x.line.includes('--dport 9999')));
      assert.ok(
        (await driver.taggedRules()).some((x) => x.line.includes('--dport 8080')),
        'live rules stay',
      );
      assert.deepEqual(svc.endpoints(id('web')).length, 1);
    });

    it('asks the predicate about each owner when it gets to it, and stops DNS servers of networks left empty', async () => {
      const n = svc.create({ name: 'appnet' });
      await start('a', [{ network: 'appnet' }]);
      await start('b', [{ network: 'appnet' }]);
      const asked: string[] = [];
      await svc.reconcile((o) => {
        asked.push(o);
        return false;
      });
      assert.deepEqual(asked.sort(), [id('a'), id('b')]);
      assert.deepEqual(svc.leases(), []);
      assert.equal(driver.dns.known().includes(n.id), false);
    });
  });
});
