import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkCreateName,
  checkCreateOptions,
  defaultBridgeDevice,
  defaultNetworkSubnet,
  networkRecord,
} from './create.ts';
import { parseCidr } from './ip.ts';
import type { NetworkRecord } from './types.ts';

const ID = 'ab'.repeat(32);
const plain = { bridge: 'hbr-x', mtu: 1500, options: {} };
const make = (
  req: Parameters<typeof networkRecord>[0]['req'],
  others: NetworkRecord[] = [],
  routes: string[] = [],
) =>
  networkRecord({
    id: ID,
    name: 'n',
    created: 0,
    checked: plain,
    others,
    hostRoutes: routes.map((r) => parseCidr(r)),
    req,
    isDefault: false,
  });

describe('network create rules', () => {
  it('takes docker names and refuses reserved ones and other drivers', () => {
    checkCreateName({ name: 'app_net.1-x' });
    assert.throws(() => checkCreateName({ name: '-bad' }), /invalid network name "-bad"/);
    for (const name of ['bridge', 'host', 'none'])
      assert.throws(() => checkCreateName({ name }), new RegExp(`network name "${name}" is reserved`));
    assert.throws(
      () => checkCreateName({ name: 'o', driver: 'overlay' }),
      /driver "overlay" is not supported/,
    );
    assert.throws(() => checkCreateName({ name: 'x'.repeat(256) }), { code: 'InvalidArgument' });
  });

  it('knows two options: the bridge device (checked) and the MTU (68-65535)', () => {
    assert.deepEqual(checkCreateOptions({}, ID), {
      bridge: `hbr-${ID.slice(0, 11)}`,
      mtu: 1500,
      options: {},
    });
    const opts = { 'com.docker.network.bridge.name': 'br-app', 'com.docker.network.driver.mtu': '9000' };
    assert.deepEqual(checkCreateOptions({ options: opts }, ID), {
      bridge: 'br-app',
      mtu: 9000,
      options: opts,
    });
    assert.throws(() => checkCreateOptions({ options: { foo: '1' } }, ID), /unknown network option "foo"/);
    assert.throws(
      () => checkCreateOptions({ options: { 'com.docker.network.bridge.name': 'hbx0123abcd' } }, ID),
      /invalid bridge name/,
      'a name of our veth ends',
    );
    assert.throws(
      () => checkCreateOptions({ options: { 'com.docker.network.bridge.name': 'a-very-long-bridge' } }, ID),
      /1-15 characters/,
    );
    assert.throws(
      () => checkCreateOptions({ options: { 'com.docker.network.driver.mtu': '67' } }, ID),
      /invalid MTU "67"/,
    );
  });

  it('takes the subnet asked for unless another network overlaps it, with its first host as gateway', () => {
    const a = make({ subnet: '10.5.0.0/24', labels: { k: 'v' }, internal: true });
    assert.equal(a.subnet, '10.5.0.0/24');
    assert.equal(a.gateway, '10.5.0.1');
    assert.equal(a.internal, true);
    assert.deepEqual(a.labels, { k: 'v' });
    assert.throws(() => make({ subnet: '10.5.0.0/16' }, [{ ...a, name: 'first' }]), {
      code: 'Conflict',
      message: 'subnet 10.5.0.0/16 overlaps network first (10.5.0.0/24)',
    });
    assert.throws(() => make({ subnet: '10.5.0.0/31' }), /too small: use \/30 or larger/);
  });

  it('checks the gateway and the address range against the subnet', () => {
    assert.equal(make({ subnet: '10.6.0.0/24', gateway: '10.6.0.254' }).gateway, '10.6.0.254');
    assert.throws(() => make({ subnet: '10.6.0.0/24', gateway: '10.7.0.1' }), /not a host address of subnet/);
    assert.throws(() => make({ subnet: '10.6.0.0/24', gateway: '10.6.0.255' }), /not a host address/);
    assert.equal(make({ subnet: '10.6.0.0/24', ipRange: '10.6.0.128/25' }).ipRange, '10.6.0.128/25');
    assert.throws(() => make({ subnet: '10.6.0.0/24', ipRange: '10.8.0.0/25' }), /is not inside subnet/);
    assert.throws(() => make({ gateway: '10.6.0.1' }), /--gateway and --ip-range need --subnet/);
  });

  it('picks a free subnet past the other networks and the host routes', () => {
    const first = make({});
    const second = make({}, [first]);
    assert.notEqual(second.subnet, first.subnet);
    const third = make({}, [first], [second.subnet]);
    assert.ok(
      ![first.subnet, second.subnet].includes(third.subnet),
      'a host route is avoided as a network is',
    );
    assert.equal(third.gateway, third.subnet.replace(/\.0\/\d+$/, '.1'));
  });

  it("gives the default network docker's subnet unless it is taken, and a bridge per state root", () => {
    assert.equal(
      defaultNetworkSubnet([], [parseCidr('0.0.0.0/0')]),
      '172.17.0.0/16',
      'the default route is no clash',
    );
    assert.notEqual(defaultNetworkSubnet([], [parseCidr('172.17.5.0/24')]), '172.17.0.0/16');
    assert.equal(defaultBridgeDevice(undefined), 'hbx0');
    assert.equal(defaultBridgeDevice('0123456789abcdef'), 'hbx0-012345');
  });
});
