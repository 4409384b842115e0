import fs from 'node:fs';
import path from 'node:path';
import { parseCidr } from '../../core/network/ip.ts';
import { epTag, type NetStep, netTag, ruleIsOurs, sortSteps } from '../../core/network/plan.ts';
import type { NetworkDriver } from '../../drivers/network/network-driver.ts';
import type { NetworkStore } from './store.ts';

/** What the network reconcile needs: the records, the driver, where sandboxes live, and the owners' teardown. */
export interface ReconcileContext {
  readonly store: NetworkStore;
  readonly driver: NetworkDriver;
  /** The directory of sandbox files (one per owner id). */
  readonly netnsDir: string;
  /** Removes all an owner holds (endpoints, links, leases, DNS names, sandbox). */
  tearDown(ownerId: string): Promise<void>;
}

/**
 * Removes whatever belongs to owners that are not live: endpoints, leases, sandboxes, veths, DNS servers, and, with
 * `deep` or when anything stale was found, tagged rules of vanished endpoints and networks.
 *
 * `isLive` is asked at the moment each owner is looked at: another process may be starting a container right now
 * (it marks itself busy before it leases anything), and a snapshot taken earlier would miss it.
 */
export async function reconcileNetworks(
  ctx: ReconcileContext,
  isLive: (ownerId: string) => boolean,
  opts: { deep?: boolean } = {},
): Promise<void> {
  const { store, driver } = ctx;
  let stale = opts.deep ?? false;
  // What exists on the host is read BEFORE the records: setUp records an endpoint before it makes its veth and
  // namespace file, so anything seen here whose record is missing afterwards is really left over.
  const hostIfs = driver.hostInterfaces();
  let files: string[] = [];
  try {
    files = fs.readdirSync(ctx.netnsDir);
  } catch {}
  const dnsKnown = driver.dns.known();
  for (const o of store.owners()) {
    if (!isLive(o)) {
      stale = true;
      await ctx.tearDown(o);
    }
  }
  store.dropOrphanLeases();
  const eps = store.allEndpoints();
  const ifs = new Set(eps.map((e) => e.hostIf));
  const nets = store.all();
  // Other state roots may run networks on this host too: only objects tied to this root's bridges and subnets
  // are ours to judge. (Every object is recorded before it is made and deleted before its record, so nothing of
  // ours can exist without a record naming its bridge.)
  const bridges = new Set(nets.map((n) => n.bridge));
  const subnets = nets.map((n) => parseCidr(n.subnet));
  const steps: NetStep[] = [];
  for (const name of hostIfs) {
    if (!ifs.has(name) && bridges.has(driver.masterOf(name) ?? '')) {
      steps.push({ op: 'ip', ns: 'host', line: `link del ${name}` });
    }
  }
  const sandboxOwners = new Set(eps.map((e) => e.ownerId));
  for (const f of files)
    if (!sandboxOwners.has(f)) steps.push({ op: 'netns-remove', path: path.join(ctx.netnsDir, f) });
  const netIds = new Set(nets.map((n) => n.id));
  for (const id of dnsKnown) {
    if (!netIds.has(id) || !eps.some((e) => e.networkId === id)) driver.dns.stop(id);
  }
  if (steps.length > 0) stale = true;
  if (stale) {
    const epTags = new Set(eps.map((e) => epTag(e.id)));
    const netTags = new Set(nets.map((n) => netTag(n.id)));
    for (const r of await driver.taggedRules()) {
      const tag = /--comment (hbx-(?:net|ep):[0-9a-f]+)/.exec(r.line)?.[1];
      if (tag && !epTags.has(tag) && !netTags.has(tag) && ruleIsOurs(r.line, bridges, subnets)) {
        steps.push({ op: 'rule', table: r.table, line: r.line.replace(/^-A /, '-D ') });
      }
    }
  }
  if (steps.length > 0) await driver.apply({ steps: sortSteps(steps) }, { loose: true });
}
