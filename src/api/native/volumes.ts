import type { LocalEngine } from '../../engine/local-engine.ts';
import type { NativeApi } from './operations.ts';
import * as s from './schemas.ts';
import { parseBody } from './validate.ts';

const P = '/hyperbox/v1/volumes';

export function nativeVolumeRoutes(api: NativeApi, engine: LocalEngine): void {
  const v = engine.volumes;
  api.add(
    {
      method: 'GET',
      path: P,
      summary: 'Volumes: any of the names (substrings), all of the labels',
      query: s.VolumeListQuery,
    },
    ({ query: q }, ex) => {
      ex.json200(v.list(parseBody(q.filters ?? '', s.VolumeFilters, 'query field "filters"')));
    },
  );
  api.add({ method: 'POST', path: P, summary: 'Create a volume', body: s.VolumeCreate }, ({ body }, ex) =>
    ex.json200(v.create(body), 201),
  );
  api.add(
    { method: 'POST', path: `${P}/prune`, summary: 'Remove unused volumes', body: s.VolumePrune },
    ({ body }, ex) => ex.json200(v.prune(body)),
  );
  api.add({ method: 'GET', path: `${P}/:name`, summary: 'One volume' }, ({ params }, ex) =>
    ex.json200(v.inspect(params.name)),
  );
  api.add(
    {
      method: 'DELETE',
      path: `${P}/:name`,
      summary: 'Remove a volume',
      query: s.VolumeRemoveQuery,
      produces: 'none',
    },
    ({ params, query }, ex) => {
      v.remove(params.name, query);
      ex.noContent();
    },
  );
}
