import { InvalidArgumentError } from '../core/errors.ts';
import { parseUnixTimestamp } from '../core/logs/timestamp.ts';
import { writeAll } from '../drivers/io/write-all.ts';
import type { LogChunk } from '../engine/api/containers.ts';
import { MULTIPLEXED_STREAM, RAW_STREAM, STREAM } from './docker/stream-frames.ts';
import type { Exchange } from './exchange.ts';

/**
 * A container's log to an HTTP client as docker sends it: framed (8-byte headers, stdout 1, stderr 2) or raw for a
 * tty. Written with backpressure: the next chunk is read from the files only once the client took the last one, so
 * memory stays flat at any log size and speed. The first chunk is awaited before the headers go out, so an error
 * known at once (a `none` driver) still gets its status; a later one ends the stream with a system-error frame
 * (stream 3), whose payload `encodeError` chooses. A client that goes away stops the reading.
 */
export async function streamLogs(
  ex: Exchange,
  open: (signal: AbortSignal) => AsyncIterable<LogChunk>,
  opts: { raw: boolean; stdout: boolean; stderr: boolean; encodeError: (err: unknown) => string },
): Promise<void> {
  const gone = new AbortController();
  const onClose = () => gone.abort(new Error('client went away'));
  ex.res.once('close', onClose);
  const it = open(gone.signal)[Symbol.asyncIterator]();
  try {
    let next = await it.next();
    const out = ex.startStream(opts.raw ? RAW_STREAM : MULTIPLEXED_STREAM);
    try {
      for (; !next.done && !gone.signal.aborted; next = await it.next()) {
        const { stream, data } = next.value;
        if (!(stream === 'stderr' ? opts.stderr : opts.stdout) || data.length === 0) continue;
        if (!opts.raw)
          await writeAll(out, header(stream === 'stderr' ? STREAM.stderr : STREAM.stdout, data.length));
        await writeAll(out, data);
      }
    } catch (err) {
      if (!gone.signal.aborted) {
        const payload = Buffer.from(opts.encodeError(err));
        if (!opts.raw) await writeAll(out, header(STREAM.systemErr, payload.length));
        await writeAll(out, payload);
      }
    }
    out.end();
  } finally {
    ex.res.off('close', onClose);
    await it.return?.();
  }
}

function header(stream: number, size: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(size, 4);
  return h;
}

/** docker's `since`/`until` query values: Unix timestamps with an optional fraction; `0` or empty is no bound. */
export function timeParam(q: URLSearchParams, name: 'since' | 'until'): string | undefined {
  const v = q.get(name);
  if (v === null || v === '' || v === '0') return undefined;
  try {
    parseUnixTimestamp(v);
  } catch (err) {
    throw new InvalidArgumentError(
      `invalid value for "${name}": invalid timestamp ${JSON.stringify(v)}: ${(err as Error).message}`,
    );
  }
  return v;
}
