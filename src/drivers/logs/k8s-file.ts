import { type LogRecord, lineParser, type RecordParser } from './record.ts';

/**
 * conmon's "k8s-file" format (the `k8s-file` driver, and what the log writer reads from its FIFO): a line per
 * record, `<RFC3339Nano time with offset> <stdout|stderr> <F|P> <text>`, P marking a partial record.
 */
export const k8sFileParser: RecordParser = lineParser((buf, start, end) => parseK8sLine(buf, start, end));

/** One line `buf[start, nl)`, `nl` being its line feed. */
export function parseK8sLine(buf: Buffer, start: number, nl: number): LogRecord | undefined {
  const s1 = buf.indexOf(0x20, start);
  if (s1 < 0 || s1 + 9 > nl) return undefined;
  const stream = buf.toString('latin1', s1 + 1, s1 + 7);
  const tag = buf[s1 + 8];
  if (
    (stream !== 'stdout' && stream !== 'stderr') ||
    buf[s1 + 7] !== 0x20 ||
    (tag !== 0x46 && tag !== 0x50)
  ) {
    return undefined;
  }
  const textStart = Math.min(s1 + 10, nl);
  const partial = tag === 0x50;
  // A full record's text ends with the line feed that ends the file's line: the same bytes, no copy.
  const line = buf.subarray(textStart, partial ? nl : nl + 1);
  return { stream, partial, time: buf.toString('latin1', start, s1), line };
}
