import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { sendError } from '../errors.ts';
import { Exchange } from '../exchange.ts';
import { Router } from '../router.ts';
import { NativeApi } from './operations.ts';

/** A loopback server routing through a NativeApi, as api/server.ts does, answering errors as the server would. */
const router = new Router();
const api = new NativeApi(router);
const seen: unknown[] = [];
let server: http.Server;
let port = 0;

api.add(
  {
    method: 'POST',
    path: '/v/:ref/snapshots/:name',
    summary: 'both',
    query: z.strictObject({ force: z.enum(['true', 'false']).transform((v) => v === 'true') }),
    body: z.strictObject({ bytes: z.number().int() }),
  },
  ({ params, query, body }, ex) => {
    // Typed from the declaration: these lines would not compile with a misspelt parameter or field.
    const answer = { ref: params.ref, name: params.name, force: query.force, bytes: body.bytes + 1 };
    seen.push(answer);
    ex.json200(answer);
  },
);
api.add({ method: 'GET', path: '/v/:ref', summary: 'plain' }, ({ params, query, body }, ex) => {
  ex.json200({ ref: params.ref, query, body: body ?? null });
});

before(async () => {
  server = http.createServer(async (req, res) => {
    const ex = new Exchange(req, res);
    try {
      const { handler, params } = router.match(req.method ?? 'GET', ex.path);
      ex.params = params;
      await handler(ex);
    } catch (err) {
      sendError(res, err);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});
after(() => server.close());

async function call(method: string, path: string, body?: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, ...(body ? { body } : {}) });
  return { status: res.status, json: await res.json() };
}

describe('native operations: one declaration routes, parses and checks', () => {
  it('hands the handler the path parameters, the parsed query and the parsed body', async () => {
    const r = await call('POST', '/v/web/snapshots/s%201?force=true', '{"bytes": 41}');
    assert.deepEqual(r, { status: 200, json: { ref: 'web', name: 's 1', force: true, bytes: 42 } });
  });

  it('refuses a bad query before the body is read, naming the field (400)', async () => {
    seen.length = 0;
    const r = await call('POST', '/v/web/snapshots/s?force=yes', '{"bytes": 1}');
    assert.equal(r.status, 400);
    assert.match((r.json as { message: string }).message, /invalid query: field "force"/);
    assert.deepEqual(seen, []);
  });

  it('refuses a bad body, naming the field, and an unknown one (400); the handler never runs', async () => {
    seen.length = 0;
    const wrong = await call('POST', '/v/web/snapshots/s?force=false', '{"bytes": "many"}');
    assert.equal(wrong.status, 400);
    assert.match(
      (wrong.json as { message: string }).message,
      /field "bytes": expected number, got string "many"/,
    );
    const unknown = await call('POST', '/v/web/snapshots/s?force=false', '{"bytes": 1, "extra": 2}');
    assert.match((unknown.json as { message: string }).message, /unknown field "extra"/);
    assert.deepEqual(seen, []);
  });

  it('reads nothing that is not declared: the query is ignored, there is no body', async () => {
    const r = await call('GET', '/v/db?anything=1');
    assert.deepEqual(r, { status: 200, json: { ref: 'db', query: {}, body: null } });
  });

  it('keeps each declaration for /openapi.json', () => {
    assert.deepEqual(
      api.operations.map((o) => `${o.method} ${o.path}`),
      ['POST /v/:ref/snapshots/:name', 'GET /v/:ref'],
    );
  });
});
