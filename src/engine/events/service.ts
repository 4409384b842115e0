import type { Database } from '../../drivers/store/database.ts';
import type { EngineEvent, EventFilter, EventType } from '../api/events.ts';
import { matchesEvent } from './filter.ts';
import { EventStore } from './store.ts';

export type EventListener = (event: EngineEvent) => void;

/** The engine's event journal, kept in the metadata store so that events outlive the process that saw them. */
export class EventLog {
  readonly #store: EventStore;
  readonly #listeners = new Set<EventListener>();
  constructor(db: Database) {
    this.#store = new EventStore(db);
  }

  record(type: EventType, action: string, actorId: string, attributes: Record<string, string> = {}): void {
    const timeNano = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    const event: EngineEvent = { type, action, actorId, attributes, timeNano };
    this.#store.append(event);
    if (this.#listeners.size === 0) return;
    for (const listener of this.#listeners) {
      // A listener's failure is its own: the operation that recorded the event has already happened.
      try {
        listener(event);
      } catch {}
    }
  }

  /**
   * Calls `listener` after each event that this process records, once it is stored (a long-running engine's
   * waiters wake on it instead of polling). Events recorded by other processes sharing the store are not heard:
   * whoever must see those looks at the store again now and then. Returns the function that unsubscribes.
   */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** How many listeners are subscribed (for tests that check none is left behind). */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** The exit code in a container's last `die` event (by full id); undefined when it never died. */
  lastExitCode(containerId: string): number | undefined {
    const attributes = this.#store.lastAttributes('container', 'die', containerId);
    if (!attributes) return undefined;
    const code = Number(attributes.exitCode);
    return Number.isInteger(code) ? code : undefined;
  }

  /**
   * Events after `afterSeq` that match, oldest first, and the last sequence number read (matching or not), from
   * which a follower goes on.
   */
  list(filter: EventFilter, afterSeq = 0): { events: EngineEvent[]; lastSeq: number } {
    const rows = this.#store.after(afterSeq);
    const events = rows.map((r) => r.event).filter((e) => matchesEvent(e, filter));
    return { events, lastSeq: rows.length ? rows[rows.length - 1]!.seq : afterSeq };
  }
}
