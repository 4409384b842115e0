import type { EngineEvent } from '../api/events.ts';

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
