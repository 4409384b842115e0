import type http from 'node:http';
import { asDiskFullError, type DiskFullContext } from '../core/disk-full.ts';
import {
  asHyperboxError,
  type ErrorCode,
  HyperboxError,
  InvalidArgumentError,
  NotFoundError,
} from '../core/errors.ts';

/**
 * The server's one translation of error codes into HTTP statuses (the CLI's twin is cli/exit-codes.ts). docker's
 * client reads these statuses: 404 drives `run`'s pull and `inspect`'s next object kind, 409 is a conflict.
 */
export function httpStatusFor(code: ErrorCode): number {
  switch (code) {
    case 'NotFound':
      return 404;
    case 'AlreadyExists':
    case 'Conflict':
    case 'FailedPrecondition':
      return 409;
    case 'InvalidArgument':
      return 400;
    case 'Unauthenticated':
      return 401;
    case 'NotImplemented':
      return 501;
    case 'Unavailable':
      return 503;
    case 'ResourceExhausted':
      return 507;
    case 'CommandNotFound':
    case 'CannotExecute':
    case 'Internal':
      return 500;
  }
}

/** Where the daemon's state lives: never shown to a client, and named in a full disk's error. */
export interface ErrorContext {
  /** Roots whose paths a message must not show (the state and run roots). */
  hostRoots?: readonly string[];
  /** A full disk names its path under the state root. */
  disk?: DiskFullContext;
}

/**
 * `{"message": ..., "code": ...}` with Content-Type exactly application/json (with a charset, docker's CLI prints raw
 * JSON). docker's clients read `message`; hyperbox's own client (client/errors.ts) rebuilds the same error class from
 * `code`, so that the CLI prints the same message and exits with the same status either way.
 */
export function sendError(res: http.ServerResponse, err: unknown, ctx: ErrorContext = {}): void {
  const e = apiError(err, ctx.disk);
  const status = httpStatusFor(e.code);
  if (res.headersSent) {
    // A stream was already under way: the status is gone, end it so the client notices.
    res.destroy(e);
    return;
  }
  const body = errorJson(e, ctx);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * A message as a client may see it: the state and run roots (and whatever lies below them) become `<state root>`.
 * The last line of defence: sources should not put such paths in messages at all. `/proc/<pid>/root/...` is not
 * rewritten: the engine never reaches a container's files by such a path (drivers/rootfs), so one in a message
 * is the user's own container path (`cp c:/proc/self/root ...`), which must come back as given.
 */
export function scrubHostPaths(message: string, hostRoots: readonly string[]): string {
  let out = message;
  for (const root of [...hostRoots].sort((a, b) => b.length - a.length)) {
    if (root.length > 1) out = out.split(root).join('<state root>');
  }
  return out;
}

/** System errors on a path the client chose (cp's archive path, a bind source), by what they say about it. */
const NOT_FOUND = new Set(['ENOENT']);
const BAD_PATH = new Set(['ENOTDIR', 'ENAMETOOLONG', 'ELOOP', 'EISDIR', 'EINVAL']);

/**
 * The error as the API answers it: a full disk as core/disk-full.ts says it (507, what to free); ours as they are;
 * a raw system error that reached the edge unclassified is 404 (no such file) or 400 (a path the kernel refuses),
 * not a 500. Its message is scrubbed like any other.
 */
export function apiError(err: unknown, disk?: DiskFullContext): HyperboxError {
  const full = asDiskFullError(err, disk);
  if (full) return full;
  if (err instanceof Error && !(err instanceof HyperboxError)) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (NOT_FOUND.has(code)) return new NotFoundError(err.message, { cause: err });
    if (BAD_PATH.has(code)) return new InvalidArgumentError(err.message, { cause: err });
  }
  return asHyperboxError(err);
}

/**
 * The error body, also what a stream already under way carries in its last message (e.g. a log's stream 3), with
 * its message scrubbed of host paths.
 */
export function errorJson(err: unknown, ctx: ErrorContext = {}): string {
  const e = apiError(err, ctx.disk);
  return JSON.stringify({ message: scrubHostPaths(e.message, ctx.hostRoots ?? []), code: e.code });
}
