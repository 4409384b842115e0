import fs from 'node:fs';

/** How often a followed log is read again (QEMU appends; there is no event to wait on across processes). */
const FOLLOW_POLL_MS = 100;
/** How often a follower asks whether the VM still runs. */
const RUNNING_CHECK_MS = 500;

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
  const drain = (): Uint8Array[] => {
    let fd: number;
    try {
      fd = fs.openSync(o.file, 'r');
    } catch {
      return [];
    }
    const out: Uint8Array[] = [];
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        out.push(Buffer.from(buf.subarray(0, n)));
        offset += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    return out;
  };
  yield* drain();
  if (!o.follow) return;
  let lastCheck = Date.now();
  while (!o.signal?.aborted) {
    await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    yield* drain();
    if (Date.now() - lastCheck > RUNNING_CHECK_MS) {
      lastCheck = Date.now();
      if (!o.running()) {
        yield* drain();
        return;
      }
    }
  }
}
