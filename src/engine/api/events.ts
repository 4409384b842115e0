import type { Awaitable } from './awaitable.ts';

export type EventType = 'container' | 'image' | 'volume' | 'network' | 'vm';

/** One entry of the engine's journal: what happened to which object, when (nanoseconds since the epoch). */
export interface EngineEvent {
  type: EventType;
  action: string;
  actorId: string;
  attributes: Record<string, string>;
  timeNano: bigint;
}

/** Which events to show: all of the fields given must match; a list matches when any of its values does. */
export interface EventFilter {
  since?: bigint; // nanoseconds since epoch
  until?: bigint;
  type?: string[];
  action?: string[]; // docker calls it "event"
  container?: string[]; // ids or names
  image?: string[];
}

export interface EventEngine {
  /** Events after sequence number `afterSeq` that match, oldest first, and the last sequence number read. */
  list(filter: EventFilter, afterSeq?: number): Awaitable<{ events: EngineEvent[]; lastSeq: number }>;
}
