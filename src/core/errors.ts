/**
 * One error base for all of hyperbox. Every error carries a stable `code`; each edge translates the code once:
 * the CLI into an exit status (see cli/exit-codes.ts), the API server into an HTTP status, the API client back
 * into the same class. Wrap with `cause`, never replace, so the original reason survives.
 */
export type ErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'FailedPrecondition'
  | 'Conflict'
  | 'Unavailable'
  | 'NotImplemented'
  | 'Internal'
  // A registry refused the credentials (or asked for some and had none): docker prints "unauthorized: ..." and exits 1.
  | 'Unauthenticated'
  // A container's process could not be started: docker exits 127 / 126 for these.
  | 'CommandNotFound'
  | 'CannotExecute'
  // A dedicated resource (CPUs, memory, disk in the ledger) has not enough left for a reservation.
  | 'ResourceExhausted';

export class HyperboxError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = `${code}Error`;
  }
}

export class NotFoundError extends HyperboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NotFound', message, options);
  }
}
export class AlreadyExistsError extends HyperboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AlreadyExists', message, options);
  }
}
export class InvalidArgumentError extends HyperboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('InvalidArgument', message, options);
  }
}
export class FailedPreconditionError extends HyperboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FailedPrecondition', message, options);
  }
}
export class ConflictError extends HyperboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Conflict', message, options);
  }
}
export class UnavailableError extends HyperboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Unavailable', message, options);
  }
}
export class NotImplementedError extends HyperboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NotImplemented', message, options);
  }
}
export class InternalError extends HyperboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Internal', message, options);
  }
}
export class UnauthenticatedError extends HyperboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('Unauthenticated', message, options);
  }
}
export class CommandNotFoundError extends HyperboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CommandNotFound', message, options);
  }
}
export class CannotExecuteError extends HyperboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CannotExecute', message, options);
  }
}

export class ResourceExhaustedError extends HyperboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ResourceExhausted', message, options);
  }
}

/** Any thrown value as a HyperboxError: ours pass through, others become Internal with the original as cause. */
export function asHyperboxError(err: unknown): HyperboxError {
  if (err instanceof HyperboxError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(message, { cause: err });
}
