import type { LocalEngine } from '../../engine/local-engine.ts';
import type { NativeApi } from './operations.ts';
import * as s from './schemas.ts';
import { parseBody, readBody, readQuery } from './validate.ts';

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
    (ex) => {
      const q = readQuery(ex, s.VolumeListQuery);
      ex.json200(v.list(parseBody(q.filters ?? '', s.VolumeFilters, 'query field "filters"')));
    },
  );
  api.add({ method: 'POST', path: P, summary: 'Create a volume', body: s.VolumeCreate }, async (ex) =>
    ex.json200(v.create(await readBody(ex, s.VolumeCreate)), 201),
  );
  api.add(
    { method: 'POST', path: `${P}/prune`, summary: 'Remove unused volumes', body: s.VolumePrune },
    async (ex) => ex.json200(v.prune(await readBody(ex, s.VolumePrune))),
  );
  api.add({ method: 'GET', path: `${P}/:name`, summary: 'One volume' }, (ex) =>
    ex.json200(v.inspect(ex.params.name!)),
  );
  api.add(
    {
      method: 'DELETE',
      path: `${P}/:name`,
      summary: 'Remove a volume',
      query: s.VolumeRemoveQuery,
      produces: 'none',
    },
    (ex) => {
      v.remove(ex.params.name!, readQuery(ex, s.VolumeRemoveQuery));
      ex.noContent();
    },
  );
}
