import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { InvalidArgumentError } from '../core/errors.ts';
import { mark } from '../core/trace.ts';
import type { LocalEngine } from '../engine/local-engine.ts';
import type { ReconcileGate } from '../engine/reconcile-gate.ts';
import { dockerRouter } from './docker/router.ts';
import { API_VERSION, hyperboxVersion, serverHeader } from './docker/version.ts';
import { type ErrorContext, sendError } from './errors.ts';
import { type BodyTimeouts, Exchange } from './exchange.ts';
import { addNativeRoutes } from './native/router.ts';
import { untilReconciled } from './reconcile-wait.ts';
import type { Router } from './router.ts';

/** docker's clients put the API version first (`/v1.47/containers/json`); the version is advisory here. */
const VERSION_PREFIX = /^\/v\d+\.\d+(?=\/)/;

export interface ApiServerOptions {
  engine: LocalEngine;
  /** Serve HTTPS that insists on a client certificate signed by `ca` (docker's --tlsverify). */
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
  /** For bodies read whole; BODY_TIMEOUTS by default (tests shorten them). */
  bodyTimeouts?: BodyTimeouts;
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
  addNativeRoutes(docker, opts.engine, { version: hyperboxVersion() });
  // No request timeout: image loads and archive uploads are long requests. Headers must come within 20 s, and
  // bodies read whole have their own deadlines (exchange.ts BODY_TIMEOUTS).
  const common = { keepAliveTimeout: 30_000, requestTimeout: 0, headersTimeout: 20_000 };
  const layout = opts.engine.containers.layout;
  const send: Dispatch = {
    router: docker,
    // Error messages never show where the state lives on the host (ENOENT and the like name the file).
    errors: { hostRoots: [layout.root, layout.runRoot], disk: layout },
    gate: opts.gate,
  };
  const timeouts = opts.bodyTimeouts ? { bodyTimeouts: opts.bodyTimeouts } : {};
  const server: http.Server = opts.tls
    ? https.createServer({ ...common, ...opts.tls, requestCert: true, rejectUnauthorized: true })
    : http.createServer(common);
  const inFlight = new Set<net.Socket>();
  server.on(opts.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    inFlight.add(socket);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    void dispatch(send, new Exchange(req, res, timeouts));
  });
  // docker's attach and exec start ask to take the connection over (Connection: Upgrade, Upgrade: tcp).
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on('error', () => {});
    void dispatch(send, Exchange.forUpgrade(req, { socket, head }, opts.bodyTimeouts));
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

interface Dispatch {
  router: Router;
  errors: ErrorContext;
  /** The start-up reconcile still running behind the answers: requests wait for what they touch. */
  gate: ReconcileGate | undefined;
}

async function dispatch(d: Dispatch, ex: Exchange): Promise<void> {
  ex.res.setHeader('Api-Version', API_VERSION);
  ex.res.setHeader('Ostype', 'linux');
  ex.res.setHeader('Server', serverHeader());
  ex.res.setHeader('Docker-Experimental', 'false');
  ex.req.on('error', () => {});
  ex.res.on('error', () => {});
  try {
    if (ex.badUrl !== undefined)
      throw new InvalidArgumentError(`malformed request target ${JSON.stringify(ex.badUrl)}`);
    const path = ex.path.replace(VERSION_PREFIX, '');
    const { handler, params } = d.router.match(ex.req.method ?? 'GET', path);
    ex.params = params;
    mark(`api: ${ex.req.method} ${path}`);
    if (d.gate) await untilReconciled(d.gate, path, ex.query);
    await handler(ex);
    mark(`api: ${ex.req.method} ${path} handled`);
  } catch (err) {
    if (process.env.HYPERBOX_DEBUG)
      process.stderr.write(`${ex.req.method} ${ex.req.url}: ${(err as Error).stack}\n`);
    sendError(ex.res, err, d.errors);
  }
}
