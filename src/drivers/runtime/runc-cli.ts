import { execFile } from 'node:child_process';
import { InternalError, NotFoundError } from '../../core/errors.ts';
import { runcMessage } from './runc-errors.ts';

/** runc invoked directly for the short commands (start, kill, delete, state, ps, pause, resume). */
export class RuncCli {
  readonly #runc: string;
  readonly #root: string;

  constructor(opts: { runc: string; root: string }) {
    this.#runc = opts.runc;
    this.#root = opts.root;
  }

  /** Runs `runc --root ROOT ARGS`; stdout on success. A failure about an unknown container is NotFound. */
  run(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.#runc,
        ['--root', this.#root, ...args],
        { maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const message = runcMessage(stderr) || err.message;
          const text = `runc ${args[0]} failed: ${message}`;
          reject(
            isNotExist(message)
              ? new NotFoundError(text, { cause: err })
              : new InternalError(text, { cause: err }),
          );
        },
      );
    });
  }
}

/** runc's wording for an id it has no state for. */
export function isNotExist(message: string): boolean {
  return /does not exist|container not found/i.test(message);
}
