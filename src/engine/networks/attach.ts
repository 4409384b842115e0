import path from 'node:path';
import {
  attachPlan,
  baseRulesPlan,
  bridgeDownPlan,
  bridgeUpPlan,
  detachPlan,
  sortSteps,
  tapAttachPlan,
} from '../../core/network/plan.ts';
import type { EndpointRecord, NetworkRecord } from '../../core/network/types.ts';
import type { NetworkDriver } from '../../drivers/network/network-driver.ts';
import { withLock } from '../../drivers/proc/lock.ts';
import { updateDns } from './dns.ts';
import type { NetworkStore } from './store.ts';

/** What attaching and detaching needs: the records, the driver that carries plans out, and where things live. */
export interface AttachContext {
  readonly store: NetworkStore;
  readonly driver: NetworkDriver;
  /** A network by id (the endpoints name theirs). */
  get(ref: string): NetworkRecord;
  sandboxPath(ownerId: string): string;
  /** Where the bring-up lock of each network is taken. */
  readonly lockDir: string;
}

/**
 * Links recorded endpoints of one owner into its sandbox: brings their bridges up, makes the sandbox when
 * `createSandbox` (with the first plan), gives the sandbox one default route through its first non-internal
 * network, and puts the owner's names in the user networks' DNS.
 */
export async function attachEndpoints(
  ctx: AttachContext,
  a: { ownerId: string; endpoints: readonly EndpointRecord[]; createSandbox: boolean },
): Promise<void> {
  const eps = a.endpoints;
  const nets = eps.map((e) => ctx.get(e.networkId));
  for (const n of nets) await bringUp(ctx, n);
  // Whether the sandbox is routed already. The endpoints just leased are recorded, so they count too: connecting a
  // sandbox that is only on internal networks to a routed one adds no default route. (Docker would route through
  // the new network; kept as it was while the engine is split.)
  let routed =
    !a.createSandbox && ctx.store.endpointsOfOwner(a.ownerId).some((e) => !ctx.get(e.networkId).internal);
  const plans = eps.map((e, i) => {
    const n = nets[i]!;
    const p = attachPlan({
      network: n,
      endpoint: e,
      sandboxPath: ctx.sandboxPath(a.ownerId),
      createSandbox: a.createSandbox && i === 0,
      defaultRoute: !routed && !n.internal,
      hostNetns: ctx.driver.hostNetns,
    });
    if (!n.internal) routed = true;
    return p;
  });
  await ctx.driver.apply({
    sandbox: { path: ctx.sandboxPath(a.ownerId), create: a.createSandbox },
    steps: sortSteps(plans.flatMap((p) => p.steps)),
  });
  for (const n of nets) if (!n.isDefault) await updateDns(ctx, n);
}

/** A VM's taps (one per endpoint, enslaved to its network's bridge), with their rules and DNS names. */
export async function attachTaps(ctx: AttachContext, endpoints: readonly EndpointRecord[]): Promise<void> {
  const nets = endpoints.map((e) => ctx.get(e.networkId));
  for (const n of nets) await bringUp(ctx, n);
  await ctx.driver.apply({ steps: sortSteps(endpoints.flatMap((e, i) => tapAttachPlan(nets[i]!, e).steps)) });
  for (const n of nets) if (!n.isDefault) await updateDns(ctx, n);
}

/**
 * Unlinks endpoints (loosely: what is already gone is skipped), removes the owner's sandbox when asked, then
 * deletes the records and leases and takes the names out of DNS. The records go last, so a crash half-way leaves
 * records that reconcile finishes.
 */
export async function detachEndpoints(
  ctx: AttachContext,
  a: { endpoints: readonly EndpointRecord[]; removeSandbox: boolean; ownerId?: string },
): Promise<void> {
  const eps = a.endpoints;
  const owner = a.ownerId ?? eps[0]?.ownerId;
  const steps = eps.flatMap((e) => detachPlan(e).steps);
  if (a.removeSandbox && owner) steps.push({ op: 'netns-remove', path: ctx.sandboxPath(owner) });
  if (steps.length > 0) await ctx.driver.apply({ steps: sortSteps(steps) }, { loose: true });
  ctx.store.transaction(() => {
    for (const e of eps) ctx.store.deleteEndpoint(e);
  });
  for (const id of new Set(eps.map((e) => e.networkId))) {
    const n = ctx.store.find(id);
    if (n && !n.isDefault) await updateDns(ctx, n);
  }
}

/** Bridge, gateway address, sysctls and rules of a network, when its bridge is missing (first use, reboot). */
export async function bringUp(ctx: AttachContext, n: NetworkRecord): Promise<void> {
  if (ctx.driver.linkExists(n.bridge)) return;
  // Processes attaching to one network at once bring its bridge up once.
  await withLock(path.join(ctx.lockDir, n.id), async () => {
    if (ctx.driver.linkExists(n.bridge)) return;
    // Rules first, from a clean slate for this network: a crash may have left some behind.
    await ctx.driver.apply(bridgeDownPlan(n), { loose: true });
    const base = baseRulesPlan(await ctx.driver.presentChains());
    const up = bridgeUpPlan(n);
    await ctx.driver.apply({ steps: [...base.steps, ...up.steps] });
  });
}

/** Stops the network's DNS server and removes its bridge and rules. */
export async function bringDown(ctx: Pick<AttachContext, 'driver'>, n: NetworkRecord): Promise<void> {
  ctx.driver.dns.stop(n.id);
  if (!ctx.driver.linkExists(n.bridge)) return;
  await ctx.driver.apply(bridgeDownPlan(n), { loose: true });
}
