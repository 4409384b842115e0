import type { DiskFullContext } from '../../core/disk-full.ts';
import { apiError } from '../errors.ts';
import type { Exchange } from '../exchange.ts';

/**
 * Streams values as NDJSON (one JSON document a line). The first value is awaited before the headers go out, so
 * that an error known at once (no such container) still gets its status; a later error ends the stream with a
 * last line `{"error": {"message", "code"}}`, which the client turns back into the same error.
 */
export async function ndjson(
  ex: Exchange,
  values: AsyncIterable<unknown>,
  disk?: DiskFullContext,
): Promise<void> {
  const it = values[Symbol.asyncIterator]();
  let gone = false;
  const onClose = () => {
    gone = true;
    void it.return?.();
  };
  // A keep-alive socket serves many requests: the listener goes with this one, or they pile up on the socket.
  ex.req.socket.once('close', onClose);
  try {
    await pump(ex, it, () => gone, disk);
  } finally {
    ex.req.socket.off('close', onClose);
  }
}

async function pump(
  ex: Exchange,
  it: AsyncIterator<unknown>,
  gone: () => boolean,
  disk: DiskFullContext | undefined,
): Promise<void> {
  let next = await it.next();
  const out = ex.startStream('application/x-ndjson');
  try {
    while (!next.done && !gone()) {
      out.write(`${JSON.stringify(next.value)}\n`);
      next = await it.next();
    }
  } catch (err) {
    const e = apiError(err, disk);
    out.write(`${JSON.stringify({ error: { message: e.message, code: e.code } })}\n`);
  }
  out.end();
}
