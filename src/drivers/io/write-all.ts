/**
 * Writes and resolves once the stream has taken it: at once when its buffer has room, else at 'drain' (or when it
 * closed or failed, so that a reader who went away never leaves the writer waiting). The one way hyperbox pushes a
 * large output (a log) into a pipe, a terminal or an HTTP response without piling it up in memory.
 */
export function writeAll(out: NodeJS.WritableStream, data: Buffer): Promise<void> {
  if (out.write(data)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
    out.on('error', done);
  });
}
