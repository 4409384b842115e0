import { volumeView } from '../../core/volume/views.ts';
import type { LocalEngine } from '../../engine/local-engine.ts';
import type { Router } from '../router.ts';
import { Body } from './body.ts';
import { boolParam, parseFilters } from './filters.ts';

/** Volumes: create, list, inspect, remove, prune. */
export function volumeRoutes(r: Router, engine: LocalEngine): void {
  const v = engine.volumes;

  r.add('GET', '/volumes', (ex) => {
    const f = parseFilters(ex.query.get('filters'));
    const dangling = f.get('dangling')?.[0];
    const volumes = v.list({
      ...(dangling !== undefined ? { dangling: dangling === 'true' || dangling === '1' } : {}),
      ...(f.get('name') ? { name: f.get('name')! } : {}),
      ...(f.get('label') ? { label: f.get('label')! } : {}),
    });
    ex.json200({ Volumes: volumes.map(volumeView), Warnings: [] });
  });

  r.add('POST', '/volumes/create', async (ex) => {
    const b = new Body(await ex.json());
    const name = b.str('Name');
    const driver = b.str('Driver');
    const created = v.create({
      ...(name ? { name } : {}),
      ...(driver ? { driver } : {}),
      labels: b.map('Labels'),
      options: b.map('DriverOpts'),
    });
    ex.json200(volumeView(created), 201);
  });

  r.add('POST', '/volumes/prune', (ex) => {
    const f = parseFilters(ex.query.get('filters'));
    const all = f.get('all')?.some((x) => x === 'true' || x === '1') ?? false;
    const { deleted, spaceReclaimed } = v.prune({ all });
    ex.json200({ VolumesDeleted: deleted, SpaceReclaimed: spaceReclaimed });
  });

  r.add('GET', '/volumes/:name', (ex) => ex.json200(volumeView(v.inspect(ex.params.name!))));

  r.add('DELETE', '/volumes/:name', (ex) => {
    v.remove(ex.params.name!, { force: boolParam(ex.query, 'force') });
    ex.noContent();
  });
}
