import fs from 'node:fs';
import { followFile } from '../../drivers/io/follow.ts';

/** The longest wait between two reads of a quiet log (QEMU's appends wake the follower sooner). */
const QUIET_POLL_MS = 250;
const CHUNK = 64 * 1024;

/**
 * The serial log QEMU's chardev writes, in chunks from the start. Following reads on as QEMU appends (it never
 * rewrites) and ends when the VM no longer runs, after yielding what was written last. A missing file (the VM never
 * ran) is an empty log.
 */
export async function* readSerialLog(o: {
  file: string;
  follow: boolean;
  running: () => boolean;
  /** Ends a follow whose reader went away (a daemon's client), even while the guest is quiet. */
  signal?: AbortSignal;
}): AsyncGenerator<Uint8Array> {
  let offset = 0;
  const read = (): Uint8Array | undefined => {
    let fd: number;
    try {
      fd = fs.openSync(o.file, 'r');
    } catch {
      return undefined;
    }
    try {
      const buf = Buffer.alloc(CHUNK);
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      if (n <= 0) return undefined;
      offset += n;
      return buf.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
  };
  for (let chunk = read(); chunk; chunk = read()) yield chunk;
  if (!o.follow) return;
  yield* followFile({
    file: o.file,
    read,
    stopped: () => !o.running(),
    quietMs: QUIET_POLL_MS,
    ...(o.signal ? { signal: o.signal } : {}),
  });
}
