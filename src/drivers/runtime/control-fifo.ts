import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { FailedPreconditionError, InvalidArgumentError } from '../../core/errors.ts';
import type { TerminalSize } from './oci-runtime.ts';

/** conmon's control messages: "<type> <height> <width>\n"; type 1 resizes the pty, type 2 reopens the log. */
const RESIZE = 1;

/**
 * Writes a resize request into a monitor's `ctl` fifo. Non-blocking open: a fifo without a reader (the monitor
 * is gone) fails at once with ENXIO instead of hanging.
 */
export async function sendResize(ctlPath: string, size: TerminalSize): Promise<void> {
  if (!Number.isInteger(size.rows) || !Number.isInteger(size.cols) || size.rows < 1 || size.cols < 1) {
    throw new InvalidArgumentError(
      `invalid terminal size ${size.rows}x${size.cols}: rows and cols must be >= 1`,
    );
  }
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(ctlPath, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') {
      throw new FailedPreconditionError(`cannot resize: no monitor reads ${ctlPath} (${code})`, { cause });
    }
    throw cause;
  }
  try {
    await handle.write(`${RESIZE} ${size.rows} ${size.cols}\n`);
  } finally {
    await handle.close();
  }
}
