import { InvalidArgumentError } from '../errors.ts';
import { parseGoDuration } from '../human.ts';

/**
 * Times of log records with nanoseconds, as docker keeps them. A `LogTime` is seconds since the epoch plus
 * nanoseconds; on the wire (docker's API `since`/`until`) it is `<seconds>[.<nanoseconds>]`; in a record and in
 * `logs -t` it is RFC 3339 in UTC with nine fraction digits and `Z` (docker's rfc3339NanoFixed), a form whose string
 * order is time order, so readers compare record times as strings.
 */
export interface LogTime {
  sec: number;
  nsec: number;
}

/**
 * docker's `timestamp.Parse` (what `docker logs --since/--until` accept): a Go duration before `now` ("10m",
 * "1h30m"), an RFC 3339 time with or without zone or fraction ("2013-01-02T13:23:37Z", "2013-01-02T13:23",
 * "2013-01-02"; no zone: local time), or a Unix timestamp with an optional fraction ("1700000000.5").
 */
export function parseTimeArg(value: string, nowMs: number): LogTime {
  if (value.trim() === '') {
    throw new InvalidArgumentError('failed to parse value as time or duration: value is empty');
  }
  const duration = value === '0' ? undefined : parseSignedDuration(value);
  if (duration !== undefined)
    return fromNanos(BigInt(nowMs) * 1_000_000n - BigInt(Math.round(duration * 1e6)));
  const t = parseRfc3339Like(value);
  if (t) return t;
  if (value.includes('-')) {
    throw new InvalidArgumentError(`parsing time ${JSON.stringify(value)}: not an RFC 3339 time`);
  }
  try {
    return parseUnixTimestamp(value);
  } catch (err) {
    throw new InvalidArgumentError(`failed to parse value as time or duration: ${(err as Error).message}`);
  }
}

function parseSignedDuration(value: string): number | undefined {
  const sign = value.startsWith('-') ? -1 : 1;
  const ms = parseGoDuration(value.replace(/^[+-]/, ''));
  return ms === undefined ? undefined : sign * ms;
}

/** docker's `ParseUnixTimestamp`: `<seconds>[.<digits>]`, the fraction padded or cut to nanoseconds. */
export function parseUnixTimestamp(value: string): LogTime {
  const dot = value.indexOf('.');
  const s = dot < 0 ? value : value.slice(0, dot);
  const n = dot < 0 ? '' : value.slice(dot + 1);
  if (!/^[+-]?\d+$/.test(s))
    throw new InvalidArgumentError(`invalid seconds ${JSON.stringify(s)}: invalid syntax`);
  if (n.length > 20)
    throw new InvalidArgumentError(`invalid nanoseconds: length ${n.length} exceeds maximum 20`);
  if (!/^\d*$/.test(n))
    throw new InvalidArgumentError(`invalid nanoseconds ${JSON.stringify(n)}: digits only`);
  return { sec: Number(s), nsec: Number(n.slice(0, 9).padEnd(9, '0')) };
}

/** The wire form `<seconds>.<nanoseconds>` (docker CLI's GetTimestamp). */
export function formatUnixTimestamp(t: LogTime): string {
  return `${t.sec}.${String(t.nsec).padStart(9, '0')}`;
}

/** RFC 3339 in UTC with nine fraction digits and `Z`: `2006-01-02T15:04:05.000000000Z`. */
export function fixedTime(t: LogTime): string {
  const base = new Date(t.sec * 1000).toISOString().slice(0, 19);
  return `${base}.${String(t.nsec).padStart(9, '0')}Z`;
}

/**
 * A record's time as written by a driver (`...Z` with 0-9 fraction digits, or conmon's `...+01:00`) in the fixed
 * form; undefined when it is not a time.
 */
export function normalizeRecordTime(text: string): string | undefined {
  // The common case: already UTC, only the fraction's length differs.
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(text);
  if (m) return `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z`;
  const t = parseRfc3339Like(text);
  return t ? fixedTime(t) : undefined;
}

/** Nanoseconds since the epoch (the `local` driver's records) in the fixed form. */
export function fixedTimeFromNanos(ns: bigint): string {
  return fixedTime(fromNanos(ns));
}

function fromNanos(ns: bigint): LogTime {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

// Go's layouts in docker's timestamp.Parse, by what the value contains.
const RFC3339_LIKE =
  /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d)(?::(\d\d)(?::(\d\d)(?:\.(\d+))?)?)?)?(Z|z|[+-]\d\d:\d\d)?$/;

function parseRfc3339Like(value: string): LogTime | undefined {
  const m = RFC3339_LIKE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  // Go wants seconds before a fraction and a full time before a zone other than a date's.
  if (frac !== undefined && s === undefined) return undefined;
  const fields = [
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h ?? 0),
    Number(mi ?? 0),
    Number(s ?? 0),
  ] as const;
  if (
    fields[1] > 11 ||
    fields[2] < 1 ||
    fields[2] > 31 ||
    fields[3] > 23 ||
    fields[4] > 59 ||
    fields[5] > 59
  ) {
    return undefined;
  }
  let ms: number;
  if (zone === undefined) {
    ms = new Date(...fields).getTime(); // no zone: the local time zone, as docker's ParseInLocation
  } else {
    ms = Date.UTC(...fields);
    if (zone !== 'Z' && zone !== 'z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      ms -= sign * (Number(zone.slice(1, 3)) * 3600 + Number(zone.slice(4, 6)) * 60) * 1000;
    }
  }
  if (Number.isNaN(ms)) return undefined;
  return { sec: Math.floor(ms / 1000), nsec: Number((frac ?? '').slice(0, 9).padEnd(9, '0')) };
}
