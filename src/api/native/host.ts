import { vmInspectView } from '../../core/vm/views.ts';
import { readHostFacts, readStorage } from '../../drivers/host/host-inventory.ts';
import { acceleratorFor } from '../../engine/accelerator.ts';
import type { LocalEngine } from '../../engine/engine.ts';
import { planReport } from '../../engine/planner.ts';
import type { NativeApi } from './operations.ts';
import * as s from './schemas.ts';
import { readBody, readQuery } from './validate.ts';

const V = '/hyperbox/v1/vms';

/** What docker has no words for: virtual machines, the host's inventory and the ledger of dedicated resources. */
export function nativeHostRoutes(api: NativeApi, engine: LocalEngine): void {
  const vms = engine.vms;
  const view = (ref: string) => vmInspectView(vms.facts(vms.get(ref)));
  api.add({ method: 'GET', path: V, summary: "Every VM (vm inspect's view)" }, (ex) =>
    ex.json200(vms.list().map((r) => vmInspectView(vms.facts(r)))),
  );
  api.add({ method: 'GET', path: `${V}/images`, summary: 'VM base images' }, (ex) =>
    ex.json200(vms.images.list()),
  );
  api.add({ method: 'GET', path: `${V}/:ref`, summary: "One VM (vm inspect's view)" }, (ex) =>
    ex.json200(view(ex.params.ref!)),
  );
  api.add({ method: 'POST', path: `${V}/:ref/start`, summary: 'Boot a VM' }, async (ex) => {
    await vms.start(ex.params.ref!);
    ex.json200(view(ex.params.ref!));
  });
  api.add(
    { method: 'POST', path: `${V}/:ref/stop`, summary: 'ACPI shutdown, then kill', body: s.VmStop },
    async (ex) => {
      await vms.stop(ex.params.ref!, await readBody(ex, s.VmStop));
      ex.json200(view(ex.params.ref!));
    },
  );
  api.add(
    { method: 'POST', path: `${V}/:ref/restart`, summary: 'Stop, then start', body: s.VmStop },
    async (ex) => {
      await vms.restart(ex.params.ref!, await readBody(ex, s.VmStop));
      ex.json200(view(ex.params.ref!));
    },
  );
  api.add({ method: 'POST', path: `${V}/:ref/kill`, summary: 'Kill QEMU' }, async (ex) => {
    await vms.kill(ex.params.ref!);
    ex.json200(view(ex.params.ref!));
  });
  api.add(
    {
      method: 'DELETE',
      path: `${V}/:ref`,
      summary: 'Remove a VM and its disk',
      query: s.VmRemoveQuery,
      produces: 'none',
    },
    async (ex) => {
      await vms.remove(ex.params.ref!, readQuery(ex, s.VmRemoveQuery));
      ex.noContent();
    },
  );
  api.add(
    {
      method: 'GET',
      path: '/hyperbox/v1/ledger',
      summary: 'Dedicated CPUs, memory and disk: who holds what',
    },
    (ex) => {
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
    async (ex) => {
      const req = await readBody(ex, s.PlanRequest);
      ex.json200(await planReport(req, { layout: engine.containers.layout, ledger: () => engine.ledger }));
    },
  );
  api.add(
    {
      method: 'GET',
      path: '/hyperbox/v1/host',
      summary: 'The host: CPU topology, memory, accelerator, storage',
    },
    async (ex) => {
      const layout = engine.containers.layout;
      ex.json200({
        ...readHostFacts('/'),
        accelerator: await acceleratorFor(layout),
        storage: readStorage(layout.root),
      });
    },
  );
}
