import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { SeqpacketSocket } from 'node-unix-socket';
import { UnavailableError } from '../../core/errors.ts';
import type { AttachSession } from './oci-runtime.ts';

/**
 * conmon's attach protocol (SOCK_SEQPACKET, one message per packet): every packet from conmon starts with one byte
 * naming the stream (2 = stdout, 3 = stderr; a tty's output is all stdout), followed by the data. Packets to conmon
 * are raw stdin bytes, at most 32767 per packet (conmon's receive buffer, anything longer would be cut).
 * Shutting down our write side makes conmon close the container's stdin (unless --leave-stdin-open) while it goes on
 * sending output; conmon closes the socket when the process has exited and its output was drained.
 */
const STDOUT = 2;
const STDERR = 3;
const MAX_PACKET = 32767;
/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

// Loaded on first use: a native addon that `run -d` and most commands never need.
let seqpacket: typeof import('node-unix-socket') | undefined;
function loadSeqpacket(): typeof import('node-unix-socket') {
  seqpacket ??= createRequire(import.meta.url)('node-unix-socket') as typeof import('node-unix-socket');
  return seqpacket;
}

export interface AttachOptions {
  stdin: boolean;
  /** Output streams end only after this settles (exec: the exit status is known before the streams end). */
  endAfter?: Promise<unknown>;
}

export async function attachSocket(socketPath: string, opts: AttachOptions): Promise<AttachSession> {
  const { SeqpacketSocket } = loadSeqpacket();
  const socket = new SeqpacketSocket();
  await connect(socket, socketPath);

  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let ended = false;
  const endOutput = () => {
    if (ended) return;
    ended = true;
    const finish = () => {
      stdout.end();
      stderr.end();
    };
    if (opts.endAfter) opts.endAfter.then(finish, finish);
    else finish();
  };
  socket.on('data', (packet: Buffer) => {
    if (packet.length < 1) return;
    const target = packet[0] === STDERR ? stderr : packet[0] === STDOUT ? stdout : undefined;
    target?.write(packet.subarray(1));
  });
  socket.on('end', endOutput);
  socket.on('close', endOutput);
  socket.on('error', (err: Error) => {
    stdout.destroy(err);
    stderr.destroy(err);
  });

  const stdin = opts.stdin ? stdinWriter(socket) : undefined;
  return {
    stdout,
    stderr,
    ...(stdin ? { stdin } : {}),
    close: () => {
      socket.destroy();
      endOutput();
    },
  };
}

function stdinWriter(socket: SeqpacketSocket): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      let offset = 0;
      const next = () => {
        if (offset >= chunk.length) return callback();
        const length = Math.min(MAX_PACKET, chunk.length - offset);
        const start = offset;
        offset += length;
        try {
          socket.write(chunk, start, length, next);
        } catch (err) {
          callback(err as Error);
        }
      };
      next();
    },
    final(callback) {
      try {
        socket.end(() => callback());
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}

/**
 * Connects, going through /proc/self/fd/N/<name> when the path is too long for sockaddr_un (bundles under a deep
 * --root are).
 */
async function connect(socket: SeqpacketSocket, socketPath: string): Promise<void> {
  let dirFd: number | undefined;
  let target = socketPath;
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    dirFd = openSync(path.dirname(socketPath), 'r');
    target = `/proc/self/fd/${dirFd}/${path.basename(socketPath)}`;
  }
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      try {
        socket.connect(target, () => {
          socket.off('error', reject);
          resolve();
        });
      } catch (err) {
        reject(err);
      }
    });
  } catch (cause) {
    socket.destroy();
    throw new UnavailableError(`cannot attach: no monitor listens on ${socketPath}`, { cause });
  } finally {
    if (dirFd !== undefined) closeSync(dirFd);
  }
}
