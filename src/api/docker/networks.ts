import { InvalidArgumentError } from '../../core/errors.ts';
import { networkInspectView } from '../../core/network/views.ts';
import type { LocalEngine } from '../../engine/local-engine.ts';
import type { Router } from '../router.ts';
import { Body } from './body.ts';
import { parseFilters } from './filters.ts';

/** Networks: create, list, inspect, remove, connect, disconnect, prune. */
export function networkRoutes(r: Router, engine: LocalEngine): void {
  const n = engine.networks;

  r.add('GET', '/networks', (ex) => {
    const filters = parseFilters(ex.query.get('filters'));
    const names = filters.get('name');
    const ids = filters.get('id');
    ex.json200(
      n
        .list()
        .map(networkInspectView)
        .filter(
          (x) =>
            (!names || names.some((v) => x.Name.includes(v))) &&
            (!ids || ids.some((v) => x.Id.startsWith(v))),
        ),
    );
  });

  r.add('POST', '/networks/create', async (ex) => {
    const b = new Body(await ex.json());
    const name = b.str('Name');
    if (!name) throw new InvalidArgumentError('Name must be given: the name of the network');
    const [ipam] = b.obj('IPAM').list('Config');
    const created = n.create({
      name,
      ...(b.str('Driver') !== undefined ? { driver: b.str('Driver')! } : {}),
      ...(ipam?.str('Subnet') !== undefined ? { subnet: ipam.str('Subnet')! } : {}),
      ...(ipam?.str('Gateway') !== undefined ? { gateway: ipam.str('Gateway')! } : {}),
      ...(ipam?.str('IPRange') !== undefined ? { ipRange: ipam.str('IPRange')! } : {}),
      internal: b.bool('Internal'),
      options: b.map('Options'),
      labels: b.map('Labels'),
    });
    ex.json200({ Id: created.id, Warning: '' }, 201);
  });

  r.add('POST', '/networks/prune', async (ex) => ex.json200({ NetworksDeleted: await n.prune() }));

  r.add('GET', '/networks/:id', (ex) => ex.json200(networkInspectView(n.inspect(ex.params.id!))));

  r.add('DELETE', '/networks/:id', async (ex) => {
    await n.remove(ex.params.id!);
    ex.noContent();
  });

  r.add('POST', '/networks/:id/connect', async (ex) => {
    const b = new Body(await ex.json());
    const ref = b.str('Container');
    if (!ref) throw new InvalidArgumentError('Container must be given: the container to connect');
    const rec = engine.containers.requireRunning(ref);
    const ep = b.obj('EndpointConfig');
    const ip = ep.obj('IPAMConfig').str('IPv4Address');
    const aliases = ep.strings('Aliases') ?? [];
    await n.connect(
      ex.params.id!,
      { id: rec.id, name: rec.name },
      { ...(ip ? { ip } : {}), ...(aliases.length ? { aliases } : {}) },
    );
    ex.noContent(200);
  });

  r.add('POST', '/networks/:id/disconnect', async (ex) => {
    const b = new Body(await ex.json());
    const ref = b.str('Container');
    if (!ref) throw new InvalidArgumentError('Container must be given: the container to disconnect');
    await n.disconnect(ex.params.id!, engine.containers.get(ref).id);
    ex.noContent(200);
  });
}
