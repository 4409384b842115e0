import {
  AlreadyExistsError,
  CannotExecuteError,
  CommandNotFoundError,
  ConflictError,
  type ErrorCode,
  FailedPreconditionError,
  type HyperboxError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  NotImplementedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from '../core/errors.ts';

const CLASSES: Record<ErrorCode, new (message: string) => HyperboxError> = {
  NotFound: NotFoundError,
  AlreadyExists: AlreadyExistsError,
  InvalidArgument: InvalidArgumentError,
  FailedPrecondition: FailedPreconditionError,
  Conflict: ConflictError,
  Unavailable: UnavailableError,
  NotImplemented: NotImplementedError,
  Internal: InternalError,
  Unauthenticated: UnauthenticatedError,
  CommandNotFound: CommandNotFoundError,
  CannotExecute: CannotExecuteError,
  ResourceExhausted: ResourceExhaustedError,
};

/**
 * The client's one translation of an error answer back into the class the engine threw (the server's twin is
 * api/errors.ts): same class, same message, so the CLI prints and exits the same with or without a daemon. An
 * answer without a known code (a docker route of an older daemon, a proxy) falls back on the HTTP status.
 */
export function errorFromAnswer(status: number, body: string): HyperboxError {
  let message = body.trim() || `HTTP ${status}`;
  let code: unknown;
  try {
    const parsed = JSON.parse(body) as { message?: unknown; code?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
    code = parsed.code;
  } catch {
    // not JSON: keep the text
  }
  const cls =
    typeof code === 'string' && code in CLASSES ? CLASSES[code as ErrorCode] : CLASSES[codeForStatus(status)];
  return new cls(message);
}

function codeForStatus(status: number): ErrorCode {
  if (status === 400) return 'InvalidArgument';
  if (status === 401) return 'Unauthenticated';
  if (status === 404) return 'NotFound';
  if (status === 409) return 'Conflict';
  if (status === 501) return 'NotImplemented';
  if (status === 503) return 'Unavailable';
  return 'Internal';
}
