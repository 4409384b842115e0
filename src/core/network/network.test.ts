import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIPv4, overlaps, parseCidr, parseIPv4 } from './ip.ts';
import { allocateSubnet, macForAddress, pickAddress } from './ipam.ts';
import { dnsHostsFile, hostsFile, resolvConf } from './names.ts';
import { attachPlan, detachPlan, renderPlan } from './plan.ts';
import { checkClashes, parsePublish, publishAllRequests } from './ports.ts';
import type { EndpointRecord, NetworkRecord } from './types.ts';

test('subnet parsing is strict and overlap is symmetric', () => {
  assert.deepEqual(parseCidr('172.18.0.0/16'), { network: parseIPv4('172.18.0.0'), prefix: 16 });
  assert.throws(() => parseCidr('172.18.0.1/16'), /host bits are set, did you mean 172.18.0.0\/16/);
  assert.throws(() => parseIPv4('10.0.0.01'), { code: 'InvalidArgument' });
  assert.throws(() => parseCidr('10.0.0.0/33'), /over 32/);
  assert.ok(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.89.3.0/24')));
  assert.ok(!overlaps(parseCidr('172.17.0.0/16'), parseCidr('172.18.0.0/16')));
});

test('IPAM never hands out network, gateway or broadcast, honours ip-range and requests', () => {
  const subnet = parseCidr('10.1.0.0/29');
  const pool = { subnet, gateway: parseIPv4('10.1.0.1'), range: subnet };
  const taken = new Set<number>();
  const got: string[] = [];
  for (;;) {
    try {
      const ip = pickAddress(pool, taken);
      taken.add(ip);
      got.push(formatIPv4(ip));
    } catch (e) {
      assert.equal((e as { code: string }).code, 'Unavailable');
      break;
    }
  }
  assert.deepEqual(got, ['10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6']);
  assert.throws(() => pickAddress(pool, taken, { requested: parseIPv4('10.1.0.3') }), { code: 'Conflict' });
  assert.throws(() => pickAddress(pool, new Set(), { requested: parseIPv4('10.1.0.1') }), /reserved/);
  assert.throws(
    () => pickAddress(pool, new Set(), { requested: parseIPv4('10.2.0.1') }),
    /outside the network's subnet/,
  );
  const ranged = { ...pool, subnet: parseCidr('10.1.0.0/24'), range: parseCidr('10.1.0.128/25') };
  assert.equal(formatIPv4(pickAddress(ranged, new Set())), '10.1.0.128');
  assert.throws(() => pickAddress(ranged, new Set(), { requested: parseIPv4('10.1.0.5') }), /ip-range/);
  // round-robin after the last lease
  assert.equal(formatIPv4(pickAddress(pool, new Set(), { after: parseIPv4('10.1.0.4') })), '10.1.0.5');
});

test('subnet pool skips networks in use and host routes', () => {
  const s = allocateSubnet(
    [parseCidr('172.18.0.0/16')],
    [parseCidr('172.19.5.0/24'), parseCidr('0.0.0.0/0')],
  );
  assert.equal(`${formatIPv4(s.network)}/${s.prefix}`, '172.20.0.0/16');
  assert.equal(macForAddress(parseIPv4('172.17.0.2')), '02:42:ac:11:00:02');
});

test('port parsing: ip, ranges, protocols, ephemeral, clashes', () => {
  assert.deepEqual(parsePublish('8080:80'), [
    { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, proto: 'tcp' },
  ]);
  assert.deepEqual(parsePublish('127.0.0.1:53:53/udp'), [
    { hostIp: '127.0.0.1', hostPort: 53, containerPort: 53, proto: 'udp' },
  ]);
  assert.equal(parsePublish('9000-9002:7000-7002').length, 3);
  assert.equal(parsePublish('80')[0]!.hostPort, 0);
  assert.equal(parsePublish('10.0.0.1::80')[0]!.hostPort, 0);
  assert.throws(() => parsePublish('9000-9001:80'), /differ in size/);
  assert.throws(() => parsePublish('80/sctp'), /protocol/);
  assert.throws(() => parsePublish('70000:80'), /1-65535/);
  assert.deepEqual(
    publishAllRequests(['80/tcp', '53/udp']).map((r) => r.proto),
    ['tcp', 'udp'],
  );
  const held = [
    { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, proto: 'tcp' as const, owner: 'web' },
  ];
  assert.throws(() => checkClashes(parsePublish('127.0.0.1:8080:80'), held), /allocated to container web/);
  assert.doesNotThrow(() => checkClashes(parsePublish('8080:80/udp'), held));
});

const net: NetworkRecord = {
  id: 'a'.repeat(64),
  name: 'app',
  created: 0,
  driver: 'bridge',
  subnet: '10.77.0.0/24',
  gateway: '10.77.0.1',
  ipRange: undefined,
  internal: false,
  bridge: 'hbr-aaaaaaaaaaa',
  mtu: 1500,
  options: {},
  labels: {},
  isDefault: false,
};
const ep: EndpointRecord = {
  id: 'b'.repeat(64),
  networkId: net.id,
  ownerId: 'c'.repeat(64),
  kind: 'container',
  ownerName: 'web',
  aliases: ['www'],
  address: '10.77.0.2',
  mac: '02:42:0a:4d:00:02',
  hostIf: 'hbxbbbbbbbb',
  ifname: 'eth0',
  ports: [{ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, proto: 'tcp' }],
  created: 0,
};

test('attach and detach plans', () => {
  const plan = attachPlan({
    network: net,
    endpoint: ep,
    sandboxPath: '/run/x/netns/c',
    createSandbox: true,
    defaultRoute: true,
    hostNetns: '/proc/1/ns/net',
  });
  assert.equal(
    renderPlan(plan),
    [
      '# sandbox /run/x/netns/c (create)',
      'ip[sandbox] link add eth0 address 02:42:0a:4d:00:02 mtu 1500 type veth peer name hbxbbbbbbbb netns /proc/1/ns/net',
      'ip[sandbox] link set lo up',
      'ip[sandbox] addr add 10.77.0.2/24 brd + dev eth0',
      'ip[sandbox] link set eth0 up',
      'ip[sandbox] route add default via 10.77.0.1 dev eth0',
      'ip[host] link set hbxbbbbbbbb master hbr-aaaaaaaaaaa mtu 1500 up',
      'ip[host] link set hbxbbbbbbbb type bridge_slave hairpin on',
      'iptables -t nat -A HBX-PORTS -p tcp -m tcp --dport 8080 -m comment --comment hbx-ep:bbbbbbbbbbbb -j DNAT --to-destination 10.77.0.2:80',
      'iptables -t nat -A HBX-POSTROUTING -s 10.77.0.2/32 -d 10.77.0.2/32 -p tcp -m tcp --dport 80 -m comment --comment hbx-ep:bbbbbbbbbbbb -j MASQUERADE',
    ].join('\n'),
  );
  const internal = attachPlan({
    network: { ...net, internal: true },
    endpoint: ep,
    sandboxPath: '/n',
    createSandbox: false,
    defaultRoute: true,
    hostNetns: '1',
  });
  assert.doesNotMatch(renderPlan(internal), /route add default|link set lo/);
  const down = renderPlan(detachPlan(ep, { removeSandbox: '/n' }));
  assert.match(down, /-D HBX-PORTS .*--dport 8080/);
  assert.match(down, /-D HBX-POSTROUTING -s 10\.77\.0\.2\/32 .*MASQUERADE/);
  assert.match(down, /link del hbxbbbbbbbb\nnetns-remove \/n$/);
});

test('name files', () => {
  assert.match(
    hostsFile({ hostname: 'web', addresses: ['10.77.0.2'], extraHosts: [{ name: 'db', ip: '10.0.0.9' }] }),
    /10\.0\.0\.9\tdb\n10\.77\.0\.2\tweb\n$/,
  );
  const host = 'search lan\nnameserver 127.0.0.53\nnameserver 192.168.1.1\n';
  assert.equal(
    resolvConf({ hostResolvConf: host, networkDns: undefined, dns: [], dnsSearch: [], dnsOptions: [] }),
    'search lan\nnameserver 192.168.1.1\n',
  );
  assert.equal(
    resolvConf({ hostResolvConf: host, networkDns: '10.77.0.1', dns: [], dnsSearch: [], dnsOptions: [] }),
    'search lan\nnameserver 10.77.0.1\n',
  );
  assert.equal(
    resolvConf({
      hostResolvConf: host,
      networkDns: '10.77.0.1',
      dns: ['1.1.1.1'],
      dnsSearch: [],
      dnsOptions: ['ndots:2'],
    }),
    'search lan\nnameserver 1.1.1.1\noptions ndots:2\n',
  );
  assert.equal(dnsHostsFile([ep]), `10.77.0.2 web ${'c'.repeat(12)} www\n`);
});
