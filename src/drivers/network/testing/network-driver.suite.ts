import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  attachPlan,
  baseRulesPlan,
  bridgeDownPlan,
  bridgeUpPlan,
  detachPlan,
  epTag,
  hostIfName,
  netTag,
  tapAttachPlan,
  tapIfName,
} from '../../../core/network/plan.ts';
import type { EndpointRecord, NetworkRecord } from '../../../core/network/types.ts';
import type { NetworkDriver } from '../network-driver.ts';

/** What an implementation under test gives the suite: the driver and a scratch directory for sandbox files. */
export interface NetworkDriverUnderTest {
  driver: NetworkDriver;
  dir: string;
  /** Called once after the suite (the suite removes what it made first). */
  close?(): Promise<void> | void;
}

const hex = (c: string) => c.repeat(64);

/** A network of the suite's own (its bridge and subnet are the suite's, far from any a host would use). */
function network(c: string, subnet: string, internal = false): NetworkRecord {
  return {
    id: hex(c),
    name: `suite-${c}`,
    created: 0,
    driver: 'bridge',
    subnet: `${subnet}.0/24`,
    gateway: `${subnet}.1`,
    ipRange: undefined,
    internal,
    bridge: `hbr-suite-${c}`,
    mtu: 1500,
    options: {},
    labels: {},
    isDefault: false,
  };
}

function endpoint(
  n: NetworkRecord,
  c: string,
  a: { host: number; kind?: 'container' | 'vm'; port?: number },
) {
  const id = hex(c);
  const address = `${n.gateway.replace(/\.1$/, '')}.${a.host}`;
  const ep: EndpointRecord = {
    id,
    networkId: n.id,
    ownerId: hex(c),
    kind: a.kind ?? 'container',
    ownerName: `owner-${c}`,
    aliases: [],
    address,
    mac: `02:42:0a:63:00:${a.host.toString(16).padStart(2, '0')}`,
    hostIf: a.kind === 'vm' ? tapIfName(id) : hostIfName(id),
    ifname: 'eth0',
    ports: a.port ? [{ hostIp: '0.0.0.0', hostPort: a.port, containerPort: 80, proto: 'tcp' }] : [],
    created: 0,
  };
  return ep;
}

/**
 * What every NetworkDriver must do, the fake and the Linux driver alike: bring bridges up and down with their
 * tagged rules, make a sandbox and link it to a bridge, make a VM's tap, undo all of it, and keep the strict and
 * loose contracts of `apply`. The real driver runs it as root inside a private network namespace.
 */
export function networkDriverSuite(name: string, open: () => Promise<NetworkDriverUnderTest>): void {
  describe(`NetworkDriver suite: ${name}`, () => {
    let t: NetworkDriverUnderTest;
    const net = network('a', '10.99.7');
    const sealed = network('b', '10.99.8', true);
    before(async () => {
      t = await open();
    });
    after(async () => {
      await t.driver.apply(bridgeDownPlan(net), { loose: true });
      await t.driver.apply(bridgeDownPlan(sealed), { loose: true });
      await t.close?.();
    });
    const tags = async () => (await t.driver.taggedRules()).map((r) => r.line);

    it('brings a bridge up with its chains and tagged rules, and down again', async () => {
      await t.driver.apply(baseRulesPlan(await t.driver.presentChains()));
      const chains = await t.driver.presentChains();
      for (const c of ['nat:HBX-PORTS', 'nat:HBX-POSTROUTING', 'filter:HBX-FORWARD', 'filter:HBX-USER'])
        assert.ok(chains.has(c), `${c} in ${[...chains].join(', ')}`);
      assert.deepEqual(baseRulesPlan(chains).steps, [], 'the base rules are made once');
      for (const n of [net, sealed]) {
        assert.equal(t.driver.linkExists(n.bridge), false);
        await t.driver.apply(bridgeUpPlan(n));
        assert.equal(t.driver.linkExists(n.bridge), true);
        assert.ok((await tags()).some((l) => l.includes(netTag(n.id))));
      }
      await t.driver.apply(bridgeDownPlan(sealed));
      assert.equal(t.driver.linkExists(sealed.bridge), false);
      assert.ok(!(await tags()).some((l) => l.includes(netTag(sealed.id))), 'its rules went with it');
    });

    it('makes a sandbox linked to the bridge, with published port rules, and removes all of it', async () => {
      const ep = endpoint(net, 'c', { host: 2, port: 18080 });
      const sandbox = path.join(t.dir, 'sandbox-c');
      const plan = attachPlan({
        network: net,
        endpoint: ep,
        sandboxPath: sandbox,
        createSandbox: true,
        defaultRoute: true,
        hostNetns: t.driver.hostNetns,
      });
      await t.driver.apply(plan);
      assert.ok(fs.existsSync(sandbox), 'the sandbox is a file at its path');
      assert.ok(t.driver.hostInterfaces().includes(ep.hostIf));
      assert.equal(t.driver.masterOf(ep.hostIf), net.bridge);
      assert.ok((await tags()).some((l) => l.includes(epTag(ep.id)) && l.includes('18080')));
      await t.driver.apply(detachPlan(ep, { removeSandbox: sandbox }));
      assert.equal(fs.existsSync(sandbox), false);
      assert.ok(!t.driver.hostInterfaces().includes(ep.hostIf));
      assert.ok(!(await tags()).some((l) => l.includes(epTag(ep.id))));
    });

    it("adds a second endpoint to a sandbox that exists, and the sandbox's removal takes its links", async () => {
      const first = endpoint(net, 'd', { host: 3 });
      const second = { ...endpoint(net, 'e', { host: 4 }), ownerId: first.ownerId, ifname: 'eth1' };
      const sandbox = path.join(t.dir, 'sandbox-d');
      const attach = (ep: EndpointRecord, createSandbox: boolean) =>
        attachPlan({
          network: net,
          endpoint: ep,
          sandboxPath: sandbox,
          createSandbox,
          defaultRoute: createSandbox,
          hostNetns: t.driver.hostNetns,
        });
      await t.driver.apply(attach(first, true));
      await t.driver.apply(attach(second, false));
      assert.ok([first.hostIf, second.hostIf].every((i) => t.driver.hostInterfaces().includes(i)));
      await t.driver.apply({ steps: [{ op: 'netns-remove', path: sandbox }] });
      // The kernel frees a namespace's veths when it goes: their host ends go with them, at once or very soon.
      for (let i = 0; i < 100 && t.driver.hostInterfaces().some((x) => x === first.hostIf); i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.ok(![first.hostIf, second.hostIf].some((i) => t.driver.hostInterfaces().includes(i)));
      assert.equal(fs.existsSync(sandbox), false);
    });

    it("makes a VM's tap on the bridge and deletes it", async () => {
      const ep = endpoint(net, '9', { host: 9, kind: 'vm' });
      await t.driver.apply(tapAttachPlan(net, ep));
      assert.ok(t.driver.hostInterfaces().includes(ep.hostIf));
      assert.equal(t.driver.masterOf(ep.hostIf), net.bridge);
      await t.driver.apply(detachPlan(ep));
      assert.equal(t.driver.linkExists(ep.hostIf), false);
    });

    it('strict: stops at the first step that fails and throws; loose: skips it and goes on', async () => {
      const ep = endpoint(net, '7', { host: 7, kind: 'vm' });
      await assert.rejects(
        t.driver.apply({
          steps: [
            { op: 'ip', ns: 'host', line: 'link del hbx77777777' },
            { op: 'ip', ns: 'host', line: `tuntap add dev ${ep.hostIf} mode tap` },
          ],
        }),
      );
      assert.equal(t.driver.linkExists(ep.hostIf), false, 'nothing after the failure ran');
      await t.driver.apply(
        {
          steps: [
            {
              op: 'rule',
              table: 'nat',
              line: `-D HBX-PORTS -p tcp -m tcp --dport 1 -m comment --comment ${epTag(ep.id)} -j RETURN`,
            },
            { op: 'ip', ns: 'host', line: 'link del hbx77777777' },
            { op: 'ip', ns: 'host', line: `tuntap add dev ${ep.hostIf} mode tap` },
          ],
        },
        { loose: true },
      );
      assert.equal(t.driver.linkExists(ep.hostIf), true, 'the step past the missing objects ran');
      await t.driver.apply(detachPlan(ep));
      await t.driver.apply(detachPlan(ep), { loose: true });
    });

    it('answers about the host: routes, resolv.conf, a port nobody listens on', async () => {
      assert.ok(Array.isArray(t.driver.hostRoutes()));
      assert.equal(typeof t.driver.hostResolvConf(), 'string');
      assert.equal(
        await t.driver.portFree({ hostIp: '127.0.0.1', hostPort: 18099, containerPort: 80, proto: 'tcp' }),
        true,
      );
    });

    it("runs a user network's DNS server on its gateway, and stops it", async () => {
      await t.driver.dns.update(net, `${net.gateway.replace(/\.1$/, '.2')}\tweb\n`, ['192.0.2.53']);
      assert.ok(t.driver.dns.known().includes(net.id));
      await t.driver.dns.update(net, '', ['192.0.2.53']);
      t.driver.dns.stop(net.id);
      assert.ok(!t.driver.dns.known().includes(net.id));
      t.driver.dns.stop(net.id);
    });
  });
}
