/**
 * One record of a container's output as a log driver stored it. Readers of every format (json-file.ts,
 * k8s-file.ts, local-file.ts) produce these, in file order, from whole records only.
 *
 * Vocabulary: a *record* is what the monitor read from the container in one go, up to a line feed; a *partial*
 * record is a piece of a longer line that the next record continues; a *line* is a run of partial records ended by
 * a full one. `--tail N` counts lines.
 */
export interface LogRecord {
  stream: 'stdout' | 'stderr';
  partial: boolean;
  /**
   * When the monitor read it, as the driver wrote it: an RFC 3339 text (json-file, k8s-file) or nanoseconds since
   * the epoch (local). `recordTime` gives the comparable fixed form.
   */
  time: string | bigint;
  /** The bytes the container wrote: a full record ends with its line feed. Often a view into the reader's buffer. */
  line: Buffer;
  /** json-file's `attrs` object as written (JSON), when the record has one. */
  attrs?: string;
}

/** A parser of one on-disk format: whole records out of a buffer of the file's bytes. */
export interface RecordParser {
  /**
   * Parses the whole records in `buf` into `out` and returns how many bytes they took; the rest (an unfinished
   * record, which a writer may be finishing right now) is left for the next call, with more bytes after it. A
   * record that cannot be parsed is skipped (a torn write, another program's line), never thrown.
   */
  parse(buf: Buffer, out: LogRecord[]): number;
}

/** The parser of a line-per-record format (json-file, k8s-file), from the parser of one line without its line feed. */
export function lineParser(
  parseLine: (buf: Buffer, start: number, end: number) => LogRecord | undefined,
): RecordParser {
  return {
    parse(buf, out) {
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, start);
        if (nl < 0) return start;
        const rec = parseLine(buf, start, nl);
        if (rec) out.push(rec);
        start = nl + 1;
      }
    },
  };
}
