import {
  AlreadyExistsError,
  ConflictError,
  FailedPreconditionError,
  HyperboxError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
} from '../../core/errors.ts';

/**
 * A system call's failure inside a tree reached through descriptors, as one of hyperbox's errors. The message is
 * `what` (the tree and the path inside it) and the reason in words: never the `/proc/self/fd/N/...` path the call
 * used, which means nothing to a user and would show host paths.
 */
export function fsFailure(err: unknown, what: string): HyperboxError {
  if (err instanceof HyperboxError) return err; // ours already (a closed descriptor...): it says what it is
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return new NotFoundError(`${what}: no such file or directory`, { cause: err });
    case 'ENOTDIR':
      return new InvalidArgumentError(`${what}: not a directory`, { cause: err });
    case 'ELOOP':
      return new InvalidArgumentError(`${what}: too many levels of symbolic links`, { cause: err });
    case 'EEXIST':
      return new AlreadyExistsError(`${what}: file exists`, { cause: err });
    case 'ENOTEMPTY':
      return new FailedPreconditionError(`${what}: directory not empty`, { cause: err });
    case 'ENAMETOOLONG':
      return new InvalidArgumentError(`${what}: file name too long`, { cause: err });
    case 'EISDIR':
      return new InvalidArgumentError(`${what}: is a directory`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new FailedPreconditionError(`${what}: permission denied`, { cause: err });
    case 'EROFS':
      return new FailedPreconditionError(`${what}: read-only file system`, { cause: err });
    case 'ENOSPC':
      return new FailedPreconditionError(`${what}: no space left on device`, { cause: err });
    case 'EINVAL':
      return new ConflictError(`${what}: changed while it was read`, { cause: err });
    case 'EXDEV':
      return new InvalidArgumentError(`${what}: crosses a mount point`, { cause: err });
    default:
      return new InternalError(`${what}: ${code ?? (err as Error).message}`, { cause: err });
  }
}
