import type { LocalEngine } from '../../engine/local-engine.ts';
import type { NativeApi } from './operations.ts';
import * as s from './schemas.ts';

const P = '/hyperbox/v1/networks';

export function nativeNetworkRoutes(api: NativeApi, engine: LocalEngine): void {
  const n = engine.networks;
  api.add({ method: 'GET', path: P, summary: 'Every network' }, (_req, ex) => ex.json200(n.list()));
  api.add(
    { method: 'POST', path: P, summary: 'Create a network', body: s.NetworkCreate },
    async ({ body }, ex) => ex.json200(n.create(body), 201),
  );
  api.add({ method: 'POST', path: `${P}/prune`, summary: 'Remove unused networks' }, async (_req, ex) =>
    ex.json200(await n.prune()),
  );
  api.add({ method: 'GET', path: `${P}/:ref`, summary: 'One network' }, ({ params }, ex) =>
    ex.json200(n.inspect(params.ref)),
  );
  api.add(
    { method: 'DELETE', path: `${P}/:ref`, summary: 'Remove a network', produces: 'none' },
    async ({ params }, ex) => {
      await n.remove(params.ref);
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
    async ({ params, body: { container, ...att } }, ex) => {
      ex.json200(await n.connect(params.ref, container, att));
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
    async ({ params, body }, ex) => {
      await n.disconnect(params.ref, body.containerId);
      ex.noContent();
    },
  );
  api.add(
    { method: 'GET', path: `${P}/ports/:owner`, summary: "A container's published ports" },
    ({ params }, ex) => ex.json200(n.ports(params.owner)),
  );
}
