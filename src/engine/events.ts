import type { Database } from '../drivers/store/database.ts';

export type EventType = 'container' | 'image' | 'volume' | 'network' | 'vm';

export interface EngineEvent {
  type: EventType;
  action: string;
  actorId: string;
  attributes: Record<string, string>;
  timeNano: bigint;
}

export interface EventFilter {
  since?: bigint; // nanoseconds since epoch
  until?: bigint;
  type?: string[];
  action?: string[]; // docker calls it "event"
  container?: string[]; // ids or names
  image?: string[];
}

export type EventListener = (event: EngineEvent) => void;

/**
 * docker's event message (the Engine API's `/events` lines, `docker events --format json`). Container events also
 * carry the pre-1.22 fields `status`, `id` and `from`, which docker still sends.
 */
export function dockerEventMessage(e: EngineEvent): Record<string, unknown> {
  return {
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.actorId, Attributes: e.attributes },
    scope: 'local',
    time: Number(e.timeNano / 1_000_000_000n),
    timeNano: Number(e.timeNano),
    ...(e.type === 'container' ? { status: e.action, id: e.actorId, from: e.attributes.image ?? '' } : {}),
  };
}

/** The engine's event journal, kept in the metadata store so that events outlive the process that saw them. */
export class EventLog {
  readonly #db: Database;
  readonly #listeners = new Set<EventListener>();
  constructor(db: Database) {
    this.#db = db;
  }

  record(type: EventType, action: string, actorId: string, attributes: Record<string, string> = {}): void {
    const timeNano = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    // Through a transaction: the store makes room for it first when the disk is full (the events of a removal).
    this.#db.transaction(() =>
      this.#db
        .prepare('INSERT INTO events (time_nano, type, action, actor_id, attributes) VALUES (?, ?, ?, ?, ?)')
        .run(timeNano, type, action, actorId, JSON.stringify(attributes)),
    );
    if (this.#listeners.size === 0) return;
    const event: EngineEvent = { type, action, actorId, attributes, timeNano };
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
    const row = this.#db
      .prepare(
        "SELECT attributes FROM events WHERE type = 'container' AND action = 'die' AND actor_id = ? ORDER BY seq DESC LIMIT 1",
      )
      .get(containerId) as { attributes: string } | undefined;
    if (!row) return undefined;
    const code = Number((JSON.parse(row.attributes) as Record<string, string>).exitCode);
    return Number.isInteger(code) ? code : undefined;
  }

  /**
   * Events after `afterSeq` that match, oldest first, and the last sequence number read (matching or not), from
   * which a follower goes on.
   */
  list(filter: EventFilter, afterSeq = 0): { events: EngineEvent[]; lastSeq: number } {
    const stmt = this.#db.prepare(
      'SELECT seq, time_nano, type, action, actor_id, attributes FROM events WHERE seq > ? ORDER BY seq',
    );
    stmt.setReadBigInts(true);
    const rows = stmt.all(afterSeq) as Array<{
      seq: bigint;
      time_nano: bigint;
      type: EventType;
      action: string;
      actor_id: string;
      attributes: string;
    }>;
    const events = rows
      .map((r) => ({
        type: r.type,
        action: r.action,
        actorId: r.actor_id,
        attributes: JSON.parse(r.attributes) as Record<string, string>,
        timeNano: r.time_nano,
      }))
      .filter((e) => matches(e, filter));
    return { events, lastSeq: rows.length ? Number(rows[rows.length - 1]!.seq) : afterSeq };
  }
}

function matches(e: EngineEvent, f: EventFilter): boolean {
  if (f.since !== undefined && e.timeNano < f.since) return false;
  if (f.until !== undefined && e.timeNano > f.until) return false;
  if (f.type?.length && !f.type.includes(e.type)) return false;
  if (f.action?.length && !f.action.includes(e.action)) return false;
  const name = e.attributes.name ?? '';
  if (f.container?.length) {
    if (e.type !== 'container') return false;
    if (!f.container.some((c) => c === name || e.actorId.startsWith(c))) return false;
  }
  if (f.image?.length) {
    const image = e.attributes.image ?? (e.type === 'image' ? name : '');
    if (!f.image.some((i) => i === image || e.actorId.startsWith(i) || e.actorId === `sha256:${i}`))
      return false;
  }
  return true;
}
