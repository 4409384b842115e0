interface Pending {
  stdin: boolean;
  deliver(session: AttachSession): void;
  fail(err: unknown): void;
}

/**
 * docker attaches before it starts (`run`: create, attach, wait, start). The monitor's attach socket exists only once
 * the container is created in the runtime, which is what start does; so an attach to a container that does not run
 * yet waits here, and start, asked to attach before the process runs, hands it the session: no byte is missed.
 * It also carries a tty's first size from create to start (docker sends it at create).
 */
export class AttachBroker {
  readonly #pending = new Map<string, Pending[]>();
  readonly #consoleSizes = new Map<string, { rows: number; cols: number }>();

  /** docker's HostConfig.ConsoleSize at create: the tty's size from the first byte, given to the next start. */
  setConsoleSize(id: string, size: { rows: number; cols: number }): void {
    this.#consoleSizes.set(id, size);
  }

  takeConsoleSize(id: string): { rows: number; cols: number } | undefined {
    const size = this.#consoleSizes.get(id);
    this.#consoleSizes.delete(id);
    return size;
  }

  /** Waits for the next start of container `id`; `signal` gives up (the client went away). */
  waitForStart(id: string, opts: { stdin: boolean; signal: AbortSignal }): Promise<AttachSession> {
    return new Promise((resolve, reject) => {
      const entry: Pending = {
        stdin: opts.stdin,
        deliver: resolve,
        fail: reject,
      };
      const list = this.#pending.get(id) ?? [];
      list.push(entry);
      this.#pending.set(id, list);
      opts.signal.addEventListener('abort', () => {
        const rest = (this.#pending.get(id) ?? []).filter((p) => p !== entry);
        if (rest.length) this.#pending.set(id, rest);
        else this.#pending.delete(id);
        reject(opts.signal.reason);
      });
    });
  }

  /** The attaches waiting for this start (removed from the broker: start serves them or fails them). */
  take(id: string): Pending[] {
    const list = this.#pending.get(id) ?? [];
    this.#pending.delete(id);
    return list;
  }
}

import type { AttachSession } from '../../core/container/process-io.ts';
