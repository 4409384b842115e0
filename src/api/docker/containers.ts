import os from 'node:os';
import { checkContainerFilters, selectContainers } from '../../core/container/list-filter.ts';
import { statsView, summaryView } from '../../core/container/views.ts';
import { ConflictError, InvalidArgumentError } from '../../core/errors.ts';
import type { ContainerRecord } from '../../engine/api/containers.ts';
import type { LocalEngine } from '../../engine/local-engine.ts';
import type { Router } from '../router.ts';
import type { AttachBroker } from './attach-broker.ts';
import { Body } from './body.ts';
import { configFromDockerBody } from './create-config.ts';
import { boolParam, intParam, parseFilters } from './filters.ts';

/** Container life cycle and queries (streams are in container-io.ts). */
export function containerRoutes(r: Router, engine: LocalEngine, broker: AttachBroker): void {
  const c = engine.containers;

  r.add('POST', '/containers/create', async (ex) => {
    const name = ex.query.get('name') || undefined;
    const platform = ex.query.get('platform') || undefined;
    const body = new Body(await ex.json());
    const config = configFromDockerBody(body);
    const { id, warnings } = await c.create({
      ...(name ? { name } : {}),
      ...(platform ? { platform } : {}),
      config,
    });
    const [rows, cols] = body.obj('HostConfig').numbers('ConsoleSize') ?? [];
    if (config.tty && rows && cols) broker.setConsoleSize(id, { rows, cols });
    ex.json200({ Id: id, Warnings: warnings }, 201);
  });

  r.add('GET', '/containers/json', async (ex) => {
    const filters = checkContainerFilters(parseFilters(ex.query.get('filters')));
    const all = boolParam(ex.query, 'all');
    const limit = intParam(ex.query, 'limit');
    // docker: a limit of 0 or less is no limit.
    const records = selectContainers(c.list(), { all, filters, ...(limit && limit > 0 ? { limit } : {}) });
    ex.json200(await Promise.all(records.map((rec) => summary(engine, rec))));
  });

  r.add('GET', '/containers/:id/json', async (ex) => ex.json200(await c.inspect(ex.params.id!)));

  r.add('POST', '/containers/:id/stop', async (ex) => {
    const t = intParam(ex.query, 't');
    const signal = ex.query.get('signal') || undefined;
    const stopped = await c.stop(ex.params.id!, {
      ...(t !== undefined ? { timeoutSeconds: t } : {}),
      ...(signal ? { signal } : {}),
    });
    ex.noContent(stopped ? 204 : 304);
  });

  r.add('POST', '/containers/:id/kill', async (ex) => {
    await c.kill(ex.params.id!, ex.query.get('signal') || 'SIGKILL');
    ex.noContent();
  });

  r.add('POST', '/containers/:id/restart', async (ex) => {
    const t = intParam(ex.query, 't');
    await c.restart(ex.params.id!, t !== undefined ? { timeoutSeconds: t } : {});
    ex.noContent();
  });

  r.add('POST', '/containers/:id/pause', async (ex) => {
    await c.pause(ex.params.id!);
    ex.noContent();
  });

  r.add('POST', '/containers/:id/unpause', async (ex) => {
    await c.unpause(ex.params.id!);
    ex.noContent();
  });

  r.add('POST', '/containers/:id/rename', (ex) => {
    const name = ex.query.get('name');
    if (!name) throw new InvalidArgumentError('name must be given: the new name of the container');
    c.rename(ex.params.id!, name);
    ex.noContent();
  });

  r.add('POST', '/containers/:id/resize', async (ex) => {
    const rows = intParam(ex.query, 'h');
    const cols = intParam(ex.query, 'w');
    if (!rows || !cols || rows < 0 || cols < 0)
      throw new InvalidArgumentError(`h and w must be positive integers: h=${rows} w=${cols}`);
    await c.resize(ex.params.id!, { rows, cols });
    ex.noContent(200);
  });

  r.add('DELETE', '/containers/:id', async (ex) => {
    await c.remove(ex.params.id!, { force: boolParam(ex.query, 'force'), volumes: boolParam(ex.query, 'v') });
    ex.noContent();
  });

  r.add('POST', '/containers/prune', async (ex) => {
    const removed = await c.prune();
    ex.json200({ ContainersDeleted: removed, SpaceReclaimed: 0 });
  });

  r.add('GET', '/containers/:id/top', async (ex) => {
    const args = (ex.query.get('ps_args') ?? '').split(/\s+/).filter(Boolean);
    const { titles, processes } = await c.top(ex.params.id!, args);
    ex.json200({ Titles: titles, Processes: processes });
  });

  r.add('GET', '/containers/:id/stats', async (ex) => {
    if (boolParam(ex.query, 'stream', true) && !boolParam(ex.query, 'one-shot'))
      throw new InvalidArgumentError('only stream=false is supported: use docker stats --no-stream');
    const rec = c.get(ex.params.id!);
    const [s] = await c.stats([rec.id]);
    ex.json200(statsView(rec, s!, { hostMemory: os.totalmem(), now: Date.now() }));
  });

  r.add('GET', '/containers/:id/changes', () => {
    throw new ConflictError('container changes are not supported by hyperbox');
  });
}

/** One row of `GET /containers/json`, as `ps` reads it. */
async function summary(engine: LocalEngine, rec: ContainerRecord): Promise<Record<string, unknown>> {
  const image = await engine.images.resolve(rec.imageId).catch(() => undefined);
  return summaryView(rec, {
    image: image?.config ?? {},
    ports: engine.networks.ports(rec.id),
    endpoints: engine.networks.endpoints(rec.id),
    now: Date.now(),
  });
}
