import type { EngineEvent, EventFilter } from '../events.ts';
import type { Awaitable } from './awaitable.ts';

export interface EventEngine {
  /** Events after sequence number `afterSeq` that match, oldest first, and the last sequence number read. */
  list(filter: EventFilter, afterSeq?: number): Awaitable<{ events: EngineEvent[]; lastSeq: number }>;
}
