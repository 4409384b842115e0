import { dnsHostsFile, hostNameservers } from '../../core/network/names.ts';
import type { NetworkRecord } from '../../core/network/types.ts';
import type { NetworkDriver } from '../../drivers/network/network-driver.ts';
import type { NetworkStore } from './store.ts';

/**
 * A user network's DNS server answers its endpoints' names and aliases and forwards the rest to the host's
 * resolvers: rewritten after every attach and detach, stopped when the last endpoint goes.
 */
export async function updateDns(
  ctx: { store: NetworkStore; driver: Pick<NetworkDriver, 'dns' | 'hostResolvConf'> },
  n: NetworkRecord,
): Promise<void> {
  const eps = ctx.store.endpointsOf(n.id);
  if (eps.length === 0) {
    ctx.driver.dns.stop(n.id);
    return;
  }
  await ctx.driver.dns.update(n, dnsHostsFile(eps), hostNameservers(ctx.driver.hostResolvConf()));
}
