import type { LocalEngine } from '../../engine/local-engine.ts';
import type { NativeApi } from './operations.ts';
import * as s from './schemas.ts';
import { parseBody } from './validate.ts';

/** The event journal: a page of events after a sequence number; the client polls, as the in-process CLI does. */
export function nativeEventRoutes(api: NativeApi, engine: LocalEngine): void {
  api.add(
    {
      method: 'GET',
      path: '/hyperbox/v1/events',
      summary:
        'Events after sequence number `after` matching `filter` (JSON; times in nanoseconds as strings)',
      query: s.EventsQuery,
    },
    ({ query: q }, ex) => {
      const filter = parseBody(q.filter ?? '', s.EventFilter, 'query field "filter"');
      const { events, lastSeq } = engine.events.list(filter, q.after ?? 0);
      // JSON has no 64-bit integers: nanosecond times travel as decimal strings.
      ex.json200({ events: events.map((e) => ({ ...e, timeNano: e.timeNano.toString() })), lastSeq });
    },
  );
}
