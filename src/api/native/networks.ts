import type { LocalEngine } from '../../engine/local-engine.ts';
import type { NativeApi } from './operations.ts';
import * as s from './schemas.ts';
import { readBody } from './validate.ts';

const P = '/hyperbox/v1/networks';

export function nativeNetworkRoutes(api: NativeApi, engine: LocalEngine): void {
  const n = engine.networks;
  api.add({ method: 'GET', path: P, summary: 'Every network' }, (ex) => ex.json200(n.list()));
  api.add({ method: 'POST', path: P, summary: 'Create a network', body: s.NetworkCreate }, async (ex) =>
    ex.json200(n.create(await readBody(ex, s.NetworkCreate)), 201),
  );
  api.add({ method: 'POST', path: `${P}/prune`, summary: 'Remove unused networks' }, async (ex) =>
    ex.json200(await n.prune()),
  );
  api.add({ method: 'GET', path: `${P}/:ref`, summary: 'One network' }, (ex) =>
    ex.json200(n.inspect(ex.params.ref!)),
  );
  api.add(
    { method: 'DELETE', path: `${P}/:ref`, summary: 'Remove a network', produces: 'none' },
    async (ex) => {
      await n.remove(ex.params.ref!);
      ex.noContent();
    },
  );
  api.add(
    {
      method: 'POST',
      path: `${P}/:ref/connect`,
      summary: 'Attach a running container',
      body: s.NetworkConnect,
    },
    async (ex) => {
      const { container, ...att } = await readBody(ex, s.NetworkConnect);
      ex.json200(await n.connect(ex.params.ref!, container, att));
    },
  );
  api.add(
    {
      method: 'POST',
      path: `${P}/:ref/disconnect`,
      summary: 'Detach a container',
      body: s.NetworkDisconnect,
      produces: 'none',
    },
    async (ex) => {
      await n.disconnect(ex.params.ref!, (await readBody(ex, s.NetworkDisconnect)).containerId);
      ex.noContent();
    },
  );
  api.add({ method: 'GET', path: `${P}/ports/:owner`, summary: "A container's published ports" }, (ex) =>
    ex.json200(n.ports(ex.params.owner!)),
  );
}
