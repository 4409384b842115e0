import type { EngineEvent } from './api/events.ts';
import type { EventLog } from './events/service.ts';

/**
 * How long a waiter sleeps at most when no event of this process wakes it: a change made by another process
 * sharing the store (a CLI's in-process engine, a monitor's exit command) is recorded there, unheard here.
 */
export const OTHER_PROCESS_RECHECK_MS = 1000;

export interface EventWakeupOptions {
  /** The events that concern the waiter. */
  accept: (event: EngineEvent) => boolean;
  /** The longest sleep without an event (see OTHER_PROCESS_RECHECK_MS). */
  fallbackMs: number;
}

/**
 * Lets a loop that looks at the store sleep until something it cares about happens: `next()` resolves at the next
 * accepted event recorded by this process, or after `fallbackMs`. It latches: an event recorded between two
 * `next()` calls (while the loop was looking) makes the following `next()` resolve at once, so create it before the
 * first look and nothing is missed. `close()` it on every path (it holds a subscription).
 */
export class EventWakeup {
  readonly #fallbackMs: number;
  readonly #unsubscribe: () => void;
  #pending = false;
  #wake: (() => void) | undefined;

  constructor(events: EventLog, opts: EventWakeupOptions) {
    this.#fallbackMs = opts.fallbackMs;
    this.#unsubscribe = events.subscribe((event) => {
      if (!opts.accept(event)) return;
      if (this.#wake) this.#wake();
      else this.#pending = true;
    });
  }

  /** Resolves at the next accepted event (or one already latched) or after the fallback; rejects on abort. */
  next(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const settle = (fn: () => void) => {
        this.#wake = undefined;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => settle(() => reject(signal!.reason));
      const timer = setTimeout(() => settle(resolve), this.#fallbackMs);
      this.#wake = () => settle(resolve);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Unsubscribes; a `next()` still pending resolves now (its timer goes with it). */
  close(): void {
    this.#unsubscribe();
    this.#wake?.();
    this.#pending = false;
  }
}
