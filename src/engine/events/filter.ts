import type { EngineEvent, EventFilter } from '../api/events.ts';

/**
 * docker's event filters: a time window, types and actions, containers by name or id prefix, images by name,
 * id prefix or bare hex digest (the image's own events name it in `name`).
 */
export function matchesEvent(e: EngineEvent, f: EventFilter): boolean {
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
