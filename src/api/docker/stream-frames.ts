/** docker's multiplexed stream (non-tty attach, logs, exec): `[stream, 0, 0, 0, size uint32 BE]` then the payload. */
export const STREAM = { stdin: 0, stdout: 1, stderr: 2, systemErr: 3 } as const;

export const RAW_STREAM = 'application/vnd.docker.raw-stream';
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';

export function frame(stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/**
 * Copies a process's output to a client: raw with a tty, framed otherwise. Resolves when both streams ended
 * (the monitor closes them once the process exited and its output was drained).
 */
export function pumpOutput(
  out: NodeJS.WritableStream,
  streams: { stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream },
  opts: { tty: boolean; stdout: boolean; stderr: boolean },
): Promise<void> {
  const pump = (s: NodeJS.ReadableStream, id: number, wanted: boolean) =>
    new Promise<void>((resolve) => {
      s.on('data', (chunk: Buffer) => {
        if (!wanted || chunk.length === 0) return;
        out.write(opts.tty ? chunk : frame(id, chunk));
      });
      s.once('end', resolve);
      s.once('close', resolve);
      s.once('error', resolve);
    });
  const same = streams.stderr === streams.stdout;
  return Promise.all([
    pump(streams.stdout, STREAM.stdout, opts.stdout),
    same ? Promise.resolve() : pump(streams.stderr, STREAM.stderr, opts.stderr),
  ]).then(() => {});
}
