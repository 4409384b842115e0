import fs from 'node:fs';

/**
 * `vm logs [-f]`: the serial log QEMU's chardev writes. Following polls the file (QEMU appends, never rewrites) and
 * ends when the VM is no longer running, after printing what was written last.
 */
export async function followSerialLog(o: {
  file: string;
  out: NodeJS.WritableStream;
  follow: boolean;
  running: () => boolean;
}): Promise<void> {
  let offset = 0;
  const drain = (): void => {
    let fd: number;
    try {
      fd = fs.openSync(o.file, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        o.out.write(Buffer.from(buf.subarray(0, n)));
        offset += n;
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  drain();
  if (!o.follow) return;
  let stopped = false;
  process.once('SIGINT', () => {
    stopped = true;
  });
  let lastCheck = Date.now();
  while (!stopped) {
    await new Promise((r) => setTimeout(r, 100));
    drain();
    if (Date.now() - lastCheck > 500) {
      lastCheck = Date.now();
      if (!o.running()) {
        drain();
        return;
      }
    }
  }
}
