import fs from 'node:fs';

/**
 * Reader for the monitor's log file in the "k8s-file" format: one record per line,
 * `<RFC3339Nano time> <stdout|stderr> <F|P> <text>`, where P marks a partial line continued by the next record.
 */
export interface LogRecord {
  time: string; // RFC3339Nano, as written by the monitor
  timeMs: number;
  stream: 'stdout' | 'stderr';
  text: string; // with a trailing "\n" for full (F) records
}

export function parseLogLine(line: string): LogRecord | undefined {
  const s1 = line.indexOf(' ');
  const s2 = line.indexOf(' ', s1 + 1);
  const s3 = line.indexOf(' ', s2 + 1);
  if (s1 < 0 || s2 < 0 || s3 < 0) return undefined;
  const stream = line.slice(s1 + 1, s2);
  const tag = line.slice(s2 + 1, s3);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const time = line.slice(0, s1);
  const text = line.slice(s3 + 1) + (tag.startsWith('F') ? '\n' : '');
  return { time, timeMs: Date.parse(time), stream, text };
}

export interface ReadLogOptions {
  tail?: number; // last N full lines; undefined = all
  sinceMs?: number;
  untilMs?: number;
}

/** Every record of the file now, filtered as asked. A missing file has no records. */
export function readLog(file: string, opts: ReadLogOptions = {}): { records: LogRecord[]; offset: number } {
  let content: Buffer;
  try {
    content = fs.readFileSync(file);
  } catch {
    return { records: [], offset: 0 };
  }
  // Only whole lines: the monitor may be writing the last one right now.
  const end = content.lastIndexOf(0x0a) + 1;
  const records = parseRecords(content.subarray(0, end).toString('utf8')).filter(
    (r) =>
      (opts.sinceMs === undefined || r.timeMs >= opts.sinceMs) &&
      (opts.untilMs === undefined || r.timeMs <= opts.untilMs),
  );
  return { records: opts.tail === undefined ? records : tailLines(records, opts.tail), offset: end };
}

export function parseRecords(text: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const rec = parseLogLine(line);
    if (rec) out.push(rec);
  }
  return out;
}

/** The records that make up the last `n` lines (a line may span several partial records). */
function tailLines(records: LogRecord[], n: number): LogRecord[] {
  if (n <= 0) return [];
  let lines = 0;
  let i = records.length;
  while (i > 0) {
    if (records[i - 1]!.text.endsWith('\n')) {
      if (lines === n) break;
      lines++;
    }
    i--;
  }
  return records.slice(i);
}

/**
 * Follows the file from `offset`: yields new records as the monitor appends them, until `stop()` resolves true
 * (checked whenever the file is quiet), then drains what is left.
 */
export async function* followLog(
  file: string,
  offset: number,
  stop: () => Promise<boolean>,
  signal?: AbortSignal,
): AsyncGenerator<LogRecord> {
  let position = offset;
  let pending = '';
  const readMore = (): LogRecord[] => {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return [];
    }
    try {
      const chunks: Buffer[] = [];
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, position);
        if (n <= 0) break;
        chunks.push(Buffer.from(buf.subarray(0, n)));
        position += n;
      }
      pending += Buffer.concat(chunks).toString('utf8');
      const end = pending.lastIndexOf('\n') + 1;
      const whole = pending.slice(0, end);
      pending = pending.slice(end);
      return parseRecords(whole);
    } finally {
      fs.closeSync(fd);
    }
  };
  for (;;) {
    if (signal?.aborted) return;
    const records = readMore();
    for (const r of records) yield r;
    if (records.length === 0) {
      if (await stop()) {
        for (const r of readMore()) yield r;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
