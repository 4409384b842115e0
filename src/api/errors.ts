import type http from 'node:http';
import { asDiskFullError, type DiskFullContext } from '../core/disk-full.ts';
import { asHyperboxError, type ErrorCode, type HyperboxError } from '../core/errors.ts';

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

/**
 * `{"message": ..., "code": ...}` with Content-Type exactly application/json (with a charset, docker's CLI prints raw
 * JSON). docker's clients read `message`; hyperbox's own client (client/errors.ts) rebuilds the same error class from
 * `code`, so that the CLI prints the same message and exits with the same status either way.
 */
export function sendError(res: http.ServerResponse, err: unknown, disk?: DiskFullContext): void {
  const e = apiError(err, disk);
  const status = httpStatusFor(e.code);
  if (res.headersSent) {
    // A stream was already under way: the status is gone, end it so the client notices.
    res.destroy(e);
    return;
  }
  const body = JSON.stringify({ message: e.message, code: e.code });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Any thrown value as the error a client is told: a full disk names its path under `disk` (the state root). */
export function apiError(err: unknown, disk?: DiskFullContext): HyperboxError {
  return asDiskFullError(err, disk) ?? asHyperboxError(err);
}
