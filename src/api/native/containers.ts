import type { LocalEngine } from '../../engine/local-engine.ts';
import { errorJson } from '../errors.ts';
import { streamLogs } from '../log-stream.ts';
import type { NativeApi } from './operations.ts';
import * as s from './schemas.ts';

const P = '/hyperbox/v1/containers';

/** Containers in the engine's own shapes (records, not docker views): what hyperbox's client needs. */
export function nativeContainerRoutes(api: NativeApi, engine: LocalEngine): void {
  const c = engine.containers;
  api.add({ method: 'GET', path: P, summary: 'Every container record, newest first' }, (_req, ex) =>
    ex.json200(c.list()),
  );
  api.add(
    { method: 'POST', path: P, summary: 'Create a container', body: s.ContainerCreate },
    async ({ body }, ex) => ex.json200(await c.create(body), 201),
  );
  api.add({ method: 'POST', path: `${P}/prune`, summary: 'Remove stopped containers' }, async (_req, ex) =>
    ex.json200(await c.prune()),
  );
  api.add(
    { method: 'POST', path: `${P}/stats`, summary: 'Resource usage now', body: s.ContainerStats },
    async ({ body }, ex) => ex.json200(await c.stats(body.ids)),
  );
  api.add(
    { method: 'GET', path: `${P}/:ref`, summary: 'One container record', query: s.ContainerGetQuery },
    ({ params, query }, ex) =>
      ex.json200(query.require === 'running' ? c.requireRunning(params.ref) : c.get(params.ref)),
  );
  api.add(
    { method: 'GET', path: `${P}/:ref/inspect`, summary: "docker's inspect view" },
    async ({ params }, ex) => ex.json200(await c.inspect(params.ref)),
  );
  api.add(
    { method: 'POST', path: `${P}/:ref/start`, summary: 'Start (detached; attach through the docker API)' },
    async ({ params }, ex) => ex.json200((await c.start(params.ref, { detached: true })).record),
  );
  api.add(
    { method: 'POST', path: `${P}/:ref/stop`, summary: 'Stop', body: s.ContainerStop },
    async ({ params, body }, ex) => ex.json200({ stopped: await c.stop(params.ref, body) }),
  );
  api.add(
    {
      method: 'POST',
      path: `${P}/:ref/kill`,
      summary: 'Send a signal',
      body: s.ContainerKill,
      produces: 'none',
    },
    async ({ params, body }, ex) => {
      await c.kill(params.ref, body.signal);
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
    async ({ params, body }, ex) => {
      await c.restart(params.ref, body);
      ex.noContent();
    },
  );
  for (const verb of ['pause', 'unpause'] as const) {
    api.add(
      { method: 'POST', path: `${P}/:ref/${verb}`, summary: verb, produces: 'none' },
      async ({ params }, ex) => {
        await c[verb](params.ref);
        ex.noContent();
      },
    );
  }
  api.add(
    {
      method: 'POST',
      path: `${P}/:ref/rename`,
      summary: 'Rename',
      body: s.ContainerRename,
      produces: 'none',
    },
    ({ params, body }, ex) => {
      c.rename(params.ref, body.name);
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
    async ({ params, query }, ex) => {
      await c.remove(params.ref, query);
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
    async ({ params, body }, ex) => ex.json200(await c.top(params.ref, body.psArgs)),
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
    async ({ params, query: { follow, ...q } }, ex) => {
      await streamLogs(ex, (signal) => c.logs(params.ref, { ...q, follow: follow ?? false, signal }), {
        raw: false,
        stdout: true,
        stderr: true,
        encodeError: errorJson,
      });
    },
  );
}
