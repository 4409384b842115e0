import type { LocalEngine } from '../../engine/local-engine.ts';
import { emptyEngine } from '../../engine/system/reset.ts';
import type { NativeApi } from './operations.ts';
import * as s from './schemas.ts';

/** What docker has no words for: the host's inventory, the ledger of dedicated resources, the planner. */
export function nativeHostRoutes(api: NativeApi, engine: LocalEngine): void {
  api.add(
    {
      method: 'GET',
      path: '/hyperbox/v1/ledger',
      summary: 'Dedicated CPUs, memory and disk: who holds what',
    },
    (_req, ex) => {
      const l = engine.ledger;
      ex.json200({
        host: l.host,
        policy: l.policy,
        hostReservedCpus: l.hostReservedCpus(),
        sharedCpus: l.sharedCpus(),
        reservations: l.list(),
        availability: l.availability(),
      });
    },
  );
  api.add(
    {
      method: 'POST',
      path: '/hyperbox/v1/plan',
      summary: 'How many VMs (and containers) fit on this host or a hypothetical one',
      body: s.PlanRequest,
    },
    async ({ body }, ex) => ex.json200(await engine.host.plan(body)),
  );
  api.add(
    {
      method: 'GET',
      path: '/hyperbox/v1/host',
      summary: 'The host: CPU topology, accelerator, memory, storage, and who holds each CPU',
      query: s.HostQuery,
    },
    async ({ query }, ex) => ex.json200(await engine.host.report({ probe: query.probe === true })),
  );
  api.add(
    {
      method: 'POST',
      path: '/hyperbox/v1/system/reset',
      summary: 'Remove every container, VM, network, volume and image (the daemon keeps its state root)',
    },
    async (_req, ex) => ex.json200({ ...(await emptyEngine(engine)), rootRemoved: false }),
  );
  api.add(
    {
      method: 'GET',
      path: '/hyperbox/v1/system/df',
      summary: 'What images, containers and volumes take under the state root, and what is free there',
    },
    async (_req, ex) => ex.json200(await engine.system.df()),
  );
}
