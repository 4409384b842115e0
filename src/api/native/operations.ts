import type { z } from 'zod';
import type { Handler, Router } from '../router.ts';

/** One native endpoint: what the router dispatches and what /openapi.json describes, from one declaration. */
export interface Operation {
  method: 'GET' | 'POST' | 'DELETE';
  /** Router pattern, `:name` for a path parameter. */
  path: string;
  summary: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** Content type of a successful answer (JSON by default; NDJSON or a tar for streams; none for 204). */
  produces?:
    | 'application/json'
    | 'application/x-ndjson'
    | 'application/x-tar'
    | 'application/octet-stream'
    | 'application/vnd.docker.multiplexed-stream'
    | 'none';
  /** The connection is taken over for raw bytes both ways (`Connection: Upgrade`, `Upgrade: tcp`; 101). */
  upgrade?: boolean;
  /** A raw (non-JSON) request body, e.g. an image archive. */
  consumes?: 'application/x-tar';
}

/** The native API's routes and their declarations; handlers validate with the operation's own schemas. */
export class NativeApi {
  readonly router: Router;
  readonly operations: Operation[] = [];

  /** Routes go into `router` (the server's, beside docker's: the native paths are disjoint from docker's). */
  constructor(router: Router) {
    this.router = router;
  }

  add(op: Operation, handler: Handler): this {
    this.operations.push(op);
    this.router.add(op.method, op.path, handler);
    return this;
  }
}
