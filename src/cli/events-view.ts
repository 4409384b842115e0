import { InvalidArgumentError } from '../core/errors.ts';
import { parseGoDuration } from '../core/human.ts';
import type { Engine } from '../engine/api/engine.ts';
import type { EngineEvent, EventFilter } from '../engine/api/events.ts';
import { dockerEventMessage } from '../engine/events/views.ts';
import type { CliContext } from './context.ts';
import { renderTemplate } from './template.ts';

/** `events`: past events from --since, then live ones until --until (or forever, like docker). */
export async function streamEvents(
  ctx: CliContext,
  engine: Engine,
  flags: { since?: string; until?: string; filter: string[]; format?: string },
): Promise<void> {
  const filter: EventFilter = {};
  const now = BigInt(Date.now()) * 1_000_000n;
  if (flags.since) filter.since = toNano(flags.since, '--since');
  if (flags.until) filter.until = toNano(flags.until, '--until');
  for (const f of flags.filter) {
    const eq = f.indexOf('=');
    const key = f.slice(0, eq);
    const value = f.slice(eq + 1);
    if (eq <= 0) throw new InvalidArgumentError(`bad format of filter (expected name=value): ${f}`);
    if (key === 'type') filter.type = [...(filter.type ?? []), value];
    else if (key === 'event' || key === 'action') filter.action = [...(filter.action ?? []), value];
    else if (key === 'container') filter.container = [...(filter.container ?? []), value];
    else if (key === 'image') filter.image = [...(filter.image ?? []), value];
    else throw new InvalidArgumentError(`invalid filter '${key}'`);
  }
  // Without --since, only what happens from now on (docker's behaviour).
  const print = (e: EngineEvent) => ctx.stdout.write(`${formatEvent(e, flags.format)}\n`);
  const first = await engine.events.list(filter.since === undefined ? { ...filter, since: now } : filter);
  for (const e of first.events) print(e);
  let lastSeq = first.lastSeq;
  const until = filter.until;
  while (until === undefined || BigInt(Date.now()) * 1_000_000n <= until) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const next = await engine.events.list(filter, lastSeq);
    for (const e of next.events) print(e);
    lastSeq = next.lastSeq;
  }
}

function toNano(text: string, flag: string): bigint {
  const rel = parseGoDuration(text);
  if (rel !== undefined) return BigInt(Math.round(Date.now() - rel)) * 1_000_000n;
  if (/^\d+(\.\d+)?$/.test(text)) return BigInt(Math.round(Number(text) * 1000)) * 1_000_000n;
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`invalid value for ${flag}: "${text}"`);
  return BigInt(t) * 1_000_000n;
}

/** docker's line: `2026-11-26T16:13:32.123456789Z container create 3f2a… (image=busybox:1, name=web)` */
export function formatEvent(e: EngineEvent, format?: string): string {
  const json = dockerEventMessage(e);
  if (format === 'json') return JSON.stringify(json);
  if (format) return renderTemplate(format, json);
  const ms = Number(e.timeNano / 1_000_000n);
  const nanos = (e.timeNano % 1_000_000_000n).toString().padStart(9, '0');
  const time = `${new Date(ms).toISOString().slice(0, 19)}.${nanos}Z`;
  const attrs = Object.entries(e.attributes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `${time} ${e.type} ${e.action} ${e.actorId}${attrs ? ` (${attrs})` : ''}`;
}
