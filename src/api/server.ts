import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Layout } from '../core/paths.ts';
import { mark } from '../core/trace.ts';
import type { LocalEngine } from '../engine/engine.ts';
import type { ReconcileGate } from '../engine/reconcile-gate.ts';
import { dockerRouter } from './docker/router.ts';
import { API_VERSION, hyperboxVersion, serverHeader } from './docker/version.ts';
import { sendError } from './errors.ts';
import { Exchange } from './exchange.ts';
import { addNativeRoutes } from './native/router.ts';
import { untilReconciled } from './reconcile-wait.ts';
import type { Router } from './router.ts';

/** docker's clients put the API version first (`/v1.47/containers/json`); the version is advisory here. */
const VERSION_PREFIX = /^\/v\d+\.\d+(?=\/)/;

export interface ApiServerOptions {
  engine: LocalEngine;
  /** Serve HTTPS that insists on a client certificate signed by `ca` (docker's --tlsverify). */
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
  /** The start-up reconcile still running behind the answers: requests wait for what they touch (reconcile-wait.ts). */
  gate?: ReconcileGate;
}

/**
 * The engine's HTTP API: docker's Engine API at the root (prefixed by a version or not). A native router for what
 * docker has no words for (VMs, the host, the ledger) goes beside it under `/hyperbox/v1/`. Handlers parse and
 * validate, then call the engine; errors are translated to statuses once (errors.ts).
 */
export function createApiServer(opts: ApiServerOptions): http.Server {
  const docker = dockerRouter(opts.engine);
  const layout = opts.engine.containers.layout;
  const { gate } = opts;
  addNativeRoutes(docker, opts.engine, { version: hyperboxVersion() });
  const common = { keepAliveTimeout: 30_000, requestTimeout: 0 };
  const server: http.Server = opts.tls
    ? https.createServer({ ...common, ...opts.tls, requestCert: true, rejectUnauthorized: true })
    : http.createServer(common);
  const inFlight = new Set<net.Socket>();
  server.on(opts.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    inFlight.add(socket);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    void dispatch(docker, new Exchange(req, res), layout, gate);
  });
  // docker's attach and exec start ask to take the connection over (Connection: Upgrade, Upgrade: tcp).
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on('error', () => {});
    void dispatch(docker, Exchange.forUpgrade(req, socket, head), layout, gate);
  });
  connections.set(server, inFlight);
  return server;
}

const connections = new WeakMap<http.Server, Set<net.Socket>>();

/** Stops listening and drops every connection, streams and taken-over sockets included (they hold no workload). */
export function stopApiServer(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const s of connections.get(server) ?? []) s.destroy();
  return closed;
}

async function dispatch(
  router: Router,
  ex: Exchange,
  layout: Layout,
  gate: ReconcileGate | undefined,
): Promise<void> {
  ex.res.setHeader('Api-Version', API_VERSION);
  ex.res.setHeader('Ostype', 'linux');
  ex.res.setHeader('Server', serverHeader());
  ex.res.setHeader('Docker-Experimental', 'false');
  ex.req.on('error', () => {});
  ex.res.on('error', () => {});
  try {
    const path = ex.path.replace(VERSION_PREFIX, '');
    const { handler, params } = router.match(ex.req.method ?? 'GET', path);
    ex.params = params;
    mark(`api: ${ex.req.method} ${path}`);
    if (gate) await untilReconciled(gate, path, ex.query);
    await handler(ex);
    mark(`api: ${ex.req.method} ${path} handled`);
  } catch (err) {
    if (process.env.HYPERBOX_DEBUG)
      process.stderr.write(`${ex.req.method} ${ex.req.url}: ${(err as Error).stack}\n`);
    sendError(ex.res, err, layout);
  }
}
