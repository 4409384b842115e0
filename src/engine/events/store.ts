import type { Database } from '../../drivers/store/database.ts';
import type { EngineEvent, EventType } from '../api/events.ts';

/** The `events` table (the journal, in order of `seq`): the only module with SQL for it. */
export class EventStore {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  append(e: EngineEvent): void {
    // Through a transaction: the store makes room for it first when the disk is full (the events of a removal).
    this.#db.transaction(() =>
      this.#db
        .prepare('INSERT INTO events (time_nano, type, action, actor_id, attributes) VALUES (?, ?, ?, ?, ?)')
        .run(e.timeNano, e.type, e.action, e.actorId, JSON.stringify(e.attributes)),
    );
  }

  /** The attributes of the last `action` event of this object; undefined when there is none. */
  lastAttributes(type: EventType, action: string, actorId: string): Record<string, string> | undefined {
    const row = this.#db
      .prepare(
        'SELECT attributes FROM events WHERE type = ? AND action = ? AND actor_id = ? ORDER BY seq DESC LIMIT 1',
      )
      .get(type, action, actorId) as { attributes: string } | undefined;
    return row ? (JSON.parse(row.attributes) as Record<string, string>) : undefined;
  }

  /** Every event after sequence number `afterSeq`, oldest first, each with its sequence number. */
  after(afterSeq: number): Array<{ seq: number; event: EngineEvent }> {
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
    return rows.map((r) => ({
      seq: Number(r.seq),
      event: {
        type: r.type,
        action: r.action,
        actorId: r.actor_id,
        attributes: JSON.parse(r.attributes) as Record<string, string>,
        timeNano: r.time_nano,
      },
    }));
  }
}
