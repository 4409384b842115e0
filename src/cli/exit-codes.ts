import type { ErrorCode } from '../core/errors.ts';

/**
 * The CLI's one translation of error codes into exit statuses, as docker does: 125 when hyperbox itself failed
 * (bad flags, engine errors), 126 when the command could not be executed, 127 when it was not found. Errors about
 * objects (no such container, conflicts) exit 1 like docker's daemon-reported errors.
 */
export const EXIT_ENGINE = 125;

/**
 * docker's pull, push, login and logout report every failure they print with status 1: an invalid reference, a
 * digest mismatch, a refused login. Flag errors still exit 125 (commander's, before the action runs).
 */
export const EXIT_REGISTRY_COMMAND = 1;

export function exitCodeFor(code: ErrorCode, context: 'run' | 'other'): number {
  switch (code) {
    case 'CommandNotFound':
      return 127;
    case 'CannotExecute':
      return 126;
    case 'InvalidArgument':
    case 'ResourceExhausted':
      return 125;
    default:
      // docker run/create/start report every other failure as 125; other commands as 1.
      return context === 'run' ? 125 : 1;
  }
}

/** Thrown by a command to end with a given status after it printed what it had to say (e.g. run's exit code). */
export class ExitStatus extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`exit ${status}`);
    this.status = status;
  }
}
