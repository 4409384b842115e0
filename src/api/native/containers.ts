import type { LocalEngine } from '../../engine/local-engine.ts';
import { errorJson } from '../errors.ts';
import { streamLogs } from '../log-stream.ts';
import type { NativeApi } from './operations.ts';
import * as s from './schemas.ts';
import { readBody, readQuery } from './validate.ts';

const P = '/hyperbox/v1/containers';

/** Containers in the engine's own shapes (records, not docker views): what hyperbox's client needs. */
export function nativeContainerRoutes(api: NativeApi, engine: LocalEngine): void {
  const c = engine.containers;
  api.add({ method: 'GET', path: P, summary: 'Every container record, newest first' }, (ex) =>
    ex.json200(c.list()),
  );
  api.add({ method: 'POST', path: P, summary: 'Create a container', body: s.ContainerCreate }, async (ex) => {
    const req = await readBody(ex, s.ContainerCreate);
    ex.json200(await c.create(req), 201);
  });
  api.add({ method: 'POST', path: `${P}/prune`, summary: 'Remove stopped containers' }, async (ex) =>
    ex.json200(await c.prune()),
  );
  api.add(
    { method: 'POST', path: `${P}/stats`, summary: 'Resource usage now', body: s.ContainerStats },
    async (ex) => ex.json200(await c.stats((await readBody(ex, s.ContainerStats)).ids)),
  );
  api.add(
    { method: 'GET', path: `${P}/:ref`, summary: 'One container record', query: s.ContainerGetQuery },
    (ex) => {
      const q = readQuery(ex, s.ContainerGetQuery);
      ex.json200(q.require === 'running' ? c.requireRunning(ex.params.ref!) : c.get(ex.params.ref!));
    },
  );
  api.add({ method: 'GET', path: `${P}/:ref/inspect`, summary: "docker's inspect view" }, async (ex) =>
    ex.json200(await c.inspect(ex.params.ref!)),
  );
  api.add(
    { method: 'POST', path: `${P}/:ref/start`, summary: 'Start (detached; attach through the docker API)' },
    async (ex) => ex.json200((await c.start(ex.params.ref!, { detached: true })).record),
  );
  api.add({ method: 'POST', path: `${P}/:ref/stop`, summary: 'Stop', body: s.ContainerStop }, async (ex) => {
    const opts = await readBody(ex, s.ContainerStop);
    ex.json200({ stopped: await c.stop(ex.params.ref!, opts) });
  });
  api.add(
    {
      method: 'POST',
      path: `${P}/:ref/kill`,
      summary: 'Send a signal',
      body: s.ContainerKill,
      produces: 'none',
    },
    async (ex) => {
      const { signal } = await readBody(ex, s.ContainerKill);
      await c.kill(ex.params.ref!, signal);
      ex.noContent();
    },
  );
  api.add(
    {
      method: 'POST',
      path: `${P}/:ref/restart`,
      summary: 'Restart',
      body: s.ContainerRestart,
      produces: 'none',
    },
    async (ex) => {
      await c.restart(ex.params.ref!, await readBody(ex, s.ContainerRestart));
      ex.noContent();
    },
  );
  for (const verb of ['pause', 'unpause'] as const) {
    api.add({ method: 'POST', path: `${P}/:ref/${verb}`, summary: verb, produces: 'none' }, async (ex) => {
      await c[verb](ex.params.ref!);
      ex.noContent();
    });
  }
  api.add(
    {
      method: 'POST',
      path: `${P}/:ref/rename`,
      summary: 'Rename',
      body: s.ContainerRename,
      produces: 'none',
    },
    async (ex) => {
      c.rename(ex.params.ref!, (await readBody(ex, s.ContainerRename)).name);
      ex.noContent();
    },
  );
  api.add(
    {
      method: 'DELETE',
      path: `${P}/:ref`,
      summary: 'Remove',
      query: s.ContainerRemoveQuery,
      produces: 'none',
    },
    async (ex) => {
      await c.remove(ex.params.ref!, readQuery(ex, s.ContainerRemoveQuery));
      ex.noContent();
    },
  );
  api.add(
    {
      method: 'POST',
      path: `${P}/:ref/top`,
      summary: "The container's processes (ps)",
      body: s.ContainerTop,
    },
    async (ex) => ex.json200(await c.top(ex.params.ref!, (await readBody(ex, s.ContainerTop)).psArgs)),
  );
  api.add(
    {
      method: 'GET',
      path: `${P}/:ref/logs`,
      summary:
        "The container's output in docker's frames (stdout 1, stderr 2; an error after the start: stream 3, JSON " +
        '{message, code}); with follow=true until the container stops',
      query: s.ContainerLogsQuery,
      produces: 'application/vnd.docker.multiplexed-stream',
    },
    async (ex) => {
      const { follow, ...q } = readQuery(ex, s.ContainerLogsQuery);
      await streamLogs(ex, (signal) => c.logs(ex.params.ref!, { ...q, follow: follow ?? false, signal }), {
        raw: false,
        stdout: true,
        stderr: true,
        encodeError: errorJson,
      });
    },
  );
}
