import { InternalError } from '../../core/errors.ts';

/**
 * One message of conmon's sync pipe protocol (--api-version 1): a JSON object per line, `{"data": N}` with an
 * optional `"message"`. For a container, N is the init pid, or -1 when `runc create` failed (message: runc's
 * stderr). For an exec session, the first N is the pid (negative on failure), the second the exit status.
 */
export interface SyncMessage {
  data: number;
  message?: string;
}

/** Reads sync messages from the parent's end of the pipe, in order; `next` resolves undefined at EOF. */
export class SyncPipeReader {
  readonly #queue: SyncMessage[] = [];
  readonly #waiters: ((m: SyncMessage | undefined) => void)[] = [];
  #buffer = '';
  #ended = false;

  constructor(stream: NodeJS.ReadableStream) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.#push(chunk));
    stream.on('end', () => this.#end());
    stream.on('error', () => this.#end());
  }

  next(): Promise<SyncMessage | undefined> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #push(chunk: string): void {
    this.#buffer += chunk;
    let nl = this.#buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.#buffer.slice(0, nl).trim();
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line) this.#deliver(parseOrReport(line));
      nl = this.#buffer.indexOf('\n');
    }
  }

  #deliver(message: SyncMessage): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(message);
    else this.#queue.push(message);
  }

  #end(): void {
    this.#ended = true;
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }
}

// A malformed line must not throw inside a stream callback: report it as a failure the caller will see.
function parseOrReport(line: string): SyncMessage {
  try {
    return parseSyncMessage(line);
  } catch (err) {
    return { data: -1, message: (err as Error).message };
  }
}

export function parseSyncMessage(line: string): SyncMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (cause) {
    throw new InternalError(`malformed message from conmon: ${JSON.stringify(line)}`, { cause });
  }
  const v = value as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || typeof v.data !== 'number' || !Number.isInteger(v.data)) {
    throw new InternalError(`unexpected message from conmon: ${line}`);
  }
  return typeof v.message === 'string' ? { data: v.data, message: v.message } : { data: v.data };
}
