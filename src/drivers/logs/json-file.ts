import { type LogRecord, lineParser, type RecordParser } from './record.ts';

/**
 * docker's json-file format: a JSON object a line, `{"log":"...","stream":"stdout","attrs":{...},"time":"..."}`, the
 * log text of a full record ending with "\n" (moby's jsonlog). The fields come in that order from moby and from
 * hyperbox's log writer, which the fast path relies on; any other valid line goes through JSON.parse. A line that is
 * not a record (a torn write) is skipped.
 */
export const jsonFileParser: RecordParser = lineParser((buf, start, end) => parseJsonLine(buf, start, end));

const LOG_PREFIX = Buffer.from('{"log":"');
const STREAM_STDOUT = Buffer.from('","stream":"stdout"');
const STREAM_STDERR = Buffer.from('","stream":"stderr"');
const TIME_FIELD = Buffer.from(',"time":"');
const ATTRS_FIELD = Buffer.from(',"attrs":');

/** One line `buf[start, end)`, without its line feed. */
export function parseJsonLine(buf: Buffer, start: number, end: number): LogRecord | undefined {
  if (at(buf, LOG_PREFIX, start, end)) {
    const fast = fastPath(buf, start, end);
    if (fast) return fast;
  }
  return slowPath(buf.toString('utf8', start, end));
}

function fastPath(buf: Buffer, start: number, end: number): LogRecord | undefined {
  const textStart = start + LOG_PREFIX.length;
  // The string ends at the first quote not escaped by an odd run of backslashes.
  let q = textStart;
  for (;;) {
    q = buf.indexOf(0x22, q);
    if (q < 0 || q >= end) return undefined;
    let bs = 0;
    for (let i = q - 1; i >= textStart && buf[i] === 0x5c; i--) bs++;
    if (bs % 2 === 0) break;
    q++;
  }
  const firstEscape = buf.indexOf(0x5c, textStart);
  const escaped = firstEscape >= 0 && firstEscape < q;
  let stream: 'stdout' | 'stderr';
  if (at(buf, STREAM_STDOUT, q, end)) stream = 'stdout';
  else if (at(buf, STREAM_STDERR, q, end)) stream = 'stderr';
  else return undefined;
  const after = q + STREAM_STDOUT.length;
  if (buf[end - 1] !== 0x7d || buf[end - 2] !== 0x22) return undefined;
  let timeAt = after;
  let attrs: string | undefined;
  if (!at(buf, TIME_FIELD, after, end)) {
    timeAt = buf.lastIndexOf(TIME_FIELD, end);
    if (timeAt <= after || !at(buf, ATTRS_FIELD, after, end)) return undefined;
    attrs = buf.toString('utf8', after + ATTRS_FIELD.length, timeAt);
  }
  const time = buf.toString('latin1', timeAt + TIME_FIELD.length, end - 2);
  const line = escaped ? unescapeJson(buf, textStart, q) : buf.subarray(textStart, q);
  if (!line) return undefined;
  const partial = line.length === 0 || line[line.length - 1] !== 0x0a;
  return attrs === undefined ? { stream, partial, time, line } : { stream, partial, time, line, attrs };
}

/** Whether `buf[pos, end)` starts with `word` (a loop: cheaper than Buffer.compare for these few bytes). */
function at(buf: Buffer, word: Buffer, pos: number, end: number): boolean {
  if (pos + word.length > end) return false;
  for (let i = 0; i < word.length; i++) if (buf[pos + i] !== word[i]) return false;
  return true;
}

function slowPath(text: string): LogRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const o = v as { log?: unknown; stream?: unknown; time?: unknown; attrs?: unknown };
  if (typeof o !== 'object' || o === null || typeof o.time !== 'string') return undefined;
  if (o.stream !== 'stdout' && o.stream !== 'stderr') return undefined;
  const log = typeof o.log === 'string' ? o.log : '';
  const line = Buffer.from(log, 'utf8');
  const rec: LogRecord = { stream: o.stream, partial: !log.endsWith('\n'), time: o.time, line };
  if (o.attrs && typeof o.attrs === 'object') rec.attrs = JSON.stringify(o.attrs);
  return rec;
}

const SIMPLE: Record<number, number> = {
  34: 0x22,
  92: 0x5c,
  47: 0x2f,
  98: 8,
  102: 12,
  110: 10,
  114: 13,
  116: 9,
};

/**
 * The bytes of a JSON string body `buf[from, to)`, decoded in place (what a string decodes to is never longer than
 * its escaped form, and the buffer is the reader's own); undefined when an escape is malformed.
 */
function unescapeJson(buf: Buffer, from: number, to: number): Buffer | undefined {
  const out = buf;
  let o = from;
  let i = from;
  while (i < to) {
    const bs = buf.indexOf(0x5c, i);
    const stop = bs < 0 || bs >= to ? to : bs;
    if (o !== i) buf.copyWithin(o, i, stop);
    o += stop - i;
    if (stop === to) break;
    const c = buf[stop + 1];
    if (c === undefined || stop + 1 >= to) return undefined;
    const simple = SIMPLE[c];
    if (simple !== undefined) {
      out[o++] = simple;
      i = stop + 2;
      continue;
    }
    if (c !== 0x75 || stop + 6 > to) return undefined;
    let cp = Number.parseInt(buf.toString('latin1', stop + 2, stop + 6), 16);
    if (Number.isNaN(cp)) return undefined;
    i = stop + 6;
    // A surrogate pair is one code point; a lone surrogate becomes U+FFFD, as Go decodes it.
    if (cp >= 0xd800 && cp <= 0xdbff && buf[i] === 0x5c && buf[i + 1] === 0x75 && i + 6 <= to) {
      const lo = Number.parseInt(buf.toString('latin1', i + 2, i + 6), 16);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i += 6;
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    o += out.write(String.fromCodePoint(cp), o, 'utf8');
  }
  return out.subarray(from, o);
}
