import fs from 'node:fs';
import path from 'node:path';

/**
 * Follows a file another process appends to (a container's log, a VM's serial console): yields what `read` finds;
 * when it finds nothing, asks `stopped()` whether the writer is gone (then reads one last time and ends), else
 * waits for a change in the file's directory or `quietMs` at the latest. Ends at once when `signal` aborts. The
 * one such loop in hyperbox: what to read (records, bytes, rotations) is the caller's, the waiting is here.
 */
export async function* followFile<T>(o: {
  file: string;
  /** The next piece, or undefined when nothing new is there yet. */
  read: () => Promise<T | undefined> | T | undefined;
  /** Whether no more will come (the writer is gone): asked only when the file is quiet. */
  stopped: () => Promise<boolean> | boolean;
  /** The longest wait between two reads of a quiet file (a change in the directory wakes it sooner). */
  quietMs: number;
  signal?: AbortSignal;
}): AsyncGenerator<T> {
  const wake = new Wakeup(path.dirname(o.file));
  try {
    for (;;) {
      if (o.signal?.aborted) return;
      const piece = await o.read();
      if (piece !== undefined) {
        yield piece;
        continue;
      }
      if (await o.stopped()) {
        // The writer is gone: whatever it wrote last is on disk now.
        for (let last = await o.read(); last !== undefined; last = await o.read()) yield last;
        return;
      }
      await wake.next(o.quietMs, o.signal);
    }
  } finally {
    wake.close();
  }
}

/** Resolves on a change in a directory, after `ms` at the latest, or when `signal` aborts. */
class Wakeup {
  #watcher: fs.FSWatcher | undefined;
  #resolve: (() => void) | undefined;

  constructor(dir: string) {
    try {
      this.#watcher = fs.watch(dir, () => this.#resolve?.());
      this.#watcher.on('error', () => {});
    } catch {
      // no directory yet: the timer alone
    }
  }

  next(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#resolve = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.#resolve = done;
    });
  }

  close(): void {
    this.#watcher?.close();
  }
}
