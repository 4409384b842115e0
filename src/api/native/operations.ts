import type { z } from 'zod';
import type { Exchange } from '../exchange.ts';
import type { Router } from '../router.ts';
import { readBody, readQuery } from './validate.ts';

/**
 * The parameters a router pattern captures, typed from the pattern itself:
 * `'/vms/:ref/snapshots/:name'` gives `{ ref: string; name: string }`.
 */
export type PathParams<P extends string> = Flat<Captures<P>>;
type Captures<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Record<Name, string> & Captures<Rest>
  : P extends `${string}:${infer Name}`
    ? Record<Name, string>
    : Record<never, string>;
type Flat<T> = { [K in keyof T]: T[K] };

type Schema = z.ZodType | undefined;
/** What a declared schema parses to; nothing declared: nothing read (an empty query, no body). */
type Parsed<S extends Schema, None> = S extends z.ZodType ? z.output<S> : None;

/** One native endpoint: what the router dispatches and what /openapi.json describes, from one declaration. */
export interface Operation<
  Path extends string = string,
  Q extends Schema = Schema,
  B extends Schema = Schema,
> {
  method: 'GET' | 'POST' | 'DELETE';
  /** Router pattern, `:name` for a path parameter. */
  path: Path;
  summary: string;
  /** The JSON body's schema: the body is read, parsed and checked before the handler runs. */
  body?: B;
  /** The query's schema (values are strings), checked before the body. */
  query?: Q;
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
  /** A raw (non-JSON) request body, e.g. an image archive: left unread for the handler to stream. */
  consumes?: 'application/x-tar';
}

/** A request as its operation declares it: path parameters, query and body parsed and checked. */
export interface NativeRequest<Path extends string, Q extends Schema, B extends Schema> {
  params: PathParams<Path>;
  query: Parsed<Q, Record<never, never>>;
  body: Parsed<B, undefined>;
}

export type NativeHandler<Path extends string, Q extends Schema, B extends Schema> = (
  req: NativeRequest<Path, Q, B>,
  ex: Exchange,
) => Promise<void> | void;

/**
 * The native API's routes and their declarations. The declaration is the only place a schema is named: the
 * mechanism reads and checks the query and the body by it (400 naming the field) and hands the handler the results.
 */
export class NativeApi {
  readonly router: Router;
  readonly operations: Operation[] = [];

  /** Routes go into `router` (the server's, beside docker's: the native paths are disjoint from docker's). */
  constructor(router: Router) {
    this.router = router;
  }

  add<const Path extends string, Q extends Schema = undefined, B extends Schema = undefined>(
    op: Operation<Path, Q, B>,
    handler: NativeHandler<Path, Q, B>,
  ): this {
    this.operations.push(op);
    this.router.add(op.method, op.path, async (ex) => {
      const query = op.query ? readQuery(ex, op.query) : {};
      const body = op.body ? await readBody(ex, op.body) : undefined;
      // The router captured exactly the pattern's parameters; the schemas gave exactly their outputs.
      await handler({ params: ex.params, query, body } as NativeRequest<Path, Q, B>, ex);
    });
    return this;
  }
}
