import type { Duplex } from 'node:stream';
import { InvalidArgumentError } from '../core/errors.ts';

/**
 * `vm console`: the VM's serial port (QEMU's unix-socket chardev) on this terminal. On a TTY the terminal goes raw
 * and the detach sequence (docker's Ctrl-P Ctrl-Q by default) leaves the VM running; with stdin from a pipe, the
 * console ends when stdin does. QEMU serves one console client at a time.
 */
export function parseDetachKeys(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const k = part.trim().toLowerCase();
    const ctrl = /^ctrl-([a-z@[\\\]^_])$/.exec(k);
    if (ctrl) out.push(ctrl[1]!.charCodeAt(0) & 0x1f);
    else if (/^[a-z]$/.test(k)) out.push(k.charCodeAt(0));
    else
      throw new InvalidArgumentError(`invalid --detach-keys "${text}": use e.g. ctrl-p,ctrl-q or ctrl-a,d`);
  }
  if (out.length === 0) throw new InvalidArgumentError('--detach-keys is empty');
  return out;
}

/** Feeds bytes through, holding back a partial detach sequence; returns what to send and whether it completed. */
export class DetachMatcher {
  readonly #keys: readonly number[];
  #matched = 0;
  constructor(keys: readonly number[]) {
    this.#keys = keys;
  }
  feed(chunk: Uint8Array): { forward: Uint8Array; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.#keys[this.#matched]) {
        this.#matched++;
        if (this.#matched === this.#keys.length) return { forward: Uint8Array.from(out), detach: true };
        continue;
      }
      // Not the sequence after all: the held-back bytes go through, then this one is looked at afresh.
      out.push(...this.#keys.slice(0, this.#matched));
      this.#matched = 0;
      if (b === this.#keys[0]) this.#matched = 1;
      else out.push(b);
    }
    return { forward: Uint8Array.from(out), detach: false };
  }
}

/** Joins the terminal to a console connection (QEMU's socket in-process, a taken-over one through the daemon). */
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
