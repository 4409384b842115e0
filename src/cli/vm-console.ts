import type { Duplex } from 'node:stream';
import { DetachMatcher } from './detach-keys.ts';

/**
 * `vm console`: the VM's serial port (QEMU's unix-socket chardev) on this terminal. On a TTY the terminal goes raw
 * and the detach sequence (docker's Ctrl-P Ctrl-Q by default) leaves the VM running; with stdin from a pipe, the
 * console ends when stdin does. QEMU serves one console client at a time. The connection is QEMU's socket
 * in-process, a taken-over one through the daemon.
 */
export async function attachConsole(o: {
  connection: Duplex;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WritableStream;
  detachKeys: number[];
}): Promise<void> {
  const sock = o.connection;
  const tty = o.stdin.isTTY === true;
  if (tty) o.stdin.setRawMode(true);
  const matcher = new DetachMatcher(o.detachKeys);
  await new Promise<void>((resolve) => {
    const done = (): void => {
      o.stdin.off('data', onInput);
      o.stdin.pause();
      if (tty) o.stdin.setRawMode(false);
      sock.destroy();
      resolve();
    };
    const onInput = (chunk: Buffer): void => {
      const { forward, detach } = tty ? matcher.feed(chunk) : { forward: chunk, detach: false };
      if (forward.length) sock.write(forward);
      if (detach) done();
    };
    sock.on('data', (d) => o.stdout.write(d));
    sock.on('close', done);
    sock.on('error', done);
    o.stdin.on('data', onInput);
    o.stdin.on('end', () => sock.end());
    o.stdin.resume();
  });
}
