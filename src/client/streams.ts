import type net from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { errorFromAnswer } from './errors.ts';

/** docker's multiplexed stream ids (api/docker/stream-frames.ts writes them). */
const STDOUT = 1;
const STDERR = 2;
const SYSTEM_ERR = 3;

/** Output and input of a taken-over connection (attach, exec start) as the engine's session streams. */
export interface SocketStreams {
  stdout: PassThrough;
  /** With a tty (one raw stream): the same object as stdout (attach), or an empty stream (exec), as in-process. */
  stderr: PassThrough;
  stdin?: NodeJS.WritableStream;
  close(): void;
}

/**
 * Splits a taken-over connection: output is raw with a tty, else docker's 8-byte frames (stream id, 3 zero bytes,
 * big-endian length); input goes to the socket, and ending it half-closes the socket so the output goes on.
 */
export function socketStreams(
  socket: net.Socket,
  opts: { multiplexed: boolean; stdin: boolean; ttyStderr: 'same' | 'empty' },
): SocketStreams {
  const stdout = new PassThrough();
  const stderr = opts.multiplexed || opts.ttyStderr === 'empty' ? new PassThrough() : stdout;
  if (!opts.multiplexed && stderr !== stdout) stderr.end();
  const end = () => {
    stdout.end();
    if (stderr !== stdout) stderr.end();
  };
  socket.on('error', end);
  socket.once('end', end);
  socket.once('close', end);
  if (opts.multiplexed) {
    const frames = new FrameSplitter();
    socket.on('data', (chunk: Buffer) => {
      for (const { id, payload } of frames.push(chunk)) {
        if (id === STDOUT) stdout.write(payload);
        else if (id === STDERR || id === SYSTEM_ERR) stderr.write(payload);
      }
    });
  } else {
    socket.on('data', (chunk: Buffer) => stdout.write(chunk));
  }
  const stdin = opts.stdin
    ? new Writable({
        write(chunk: Buffer, _enc, done) {
          socket.write(chunk, () => done());
        },
        final(done) {
          socket.end();
          done();
        },
      })
    : undefined;
  if (!opts.stdin) socket.end(); // nothing to send: half-close at once, output still flows
  return { stdout, stderr, ...(stdin ? { stdin } : {}), close: () => socket.destroy() };
}

/** docker's 8-byte frames out of a byte stream that may cut them anywhere. */
export class FrameSplitter {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { id: number; payload: Buffer }[] {
    let pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const out: { id: number; payload: Buffer }[] = [];
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      out.push({ id: pending[0]!, payload: pending.subarray(8, 8 + size) });
      pending = pending.subarray(8 + size);
    }
    this.#pending = pending;
    return out;
  }
}

/**
 * A container's log from the daemon (docker's frames, api/log-stream.ts): output chunks, read from the socket only
 * as fast as they are consumed (backpressure through TCP); a system-error frame is the engine's error, rebuilt.
 */
export async function* logChunks(
  res: AsyncIterable<Buffer>,
): AsyncGenerator<{ stream: 'stdout' | 'stderr'; data: Buffer }> {
  const frames = new FrameSplitter();
  for await (const chunk of res) {
    for (const { id, payload } of frames.push(chunk)) {
      if (id === STDOUT) yield { stream: 'stdout', data: payload };
      else if (id === STDERR) yield { stream: 'stderr', data: payload };
      else if (id === SYSTEM_ERR) throw errorFromAnswer(500, payload.toString());
    }
  }
}
