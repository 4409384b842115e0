import type { LogRecord, RecordParser } from './record.ts';

/**
 * The `local` driver's files (written by native/log-writer: hyperbox's own compact format, as docker's is internal
 * to docker), little-endian:
 *
 *   u32 length | u8 stream (1 stdout, 2 stderr) | u8 flags (1: partial) | u16 0 | i64 time (ns since the epoch, UTC)
 *   | length bytes of output, raw (a full record's with its line feed) | u32 length
 *
 * Raw bytes, so the container's output comes back exactly as written; the trailing length lets `--tail` walk a file
 * backwards. A record whose lengths disagree (a torn write) ends the file for the reader.
 */
export const LOCAL_HEADER = 16;
export const LOCAL_TRAILER = 4;

export const localFileParser: RecordParser = {
  parse(buf, out) {
    let at = 0;
    while (buf.length - at >= LOCAL_HEADER + LOCAL_TRAILER) {
      const len = buf.readUInt32LE(at);
      const total = LOCAL_HEADER + len + LOCAL_TRAILER;
      if (buf.length - at < total) break;
      const rec = localRecordAt(buf, at, len);
      if (!rec) return buf.length; // corrupt: nothing after it can be trusted
      out.push(rec);
      at += total;
    }
    return at;
  },
};

/** The record at `at` whose header says `len`; undefined when its trailer or stream byte disagree. */
export function localRecordAt(buf: Buffer, at: number, len: number): LogRecord | undefined {
  const stream = buf[at + 4];
  if ((stream !== 1 && stream !== 2) || buf.readUInt32LE(at + LOCAL_HEADER + len) !== len) return undefined;
  return {
    stream: stream === 1 ? 'stdout' : 'stderr',
    partial: (buf[at + 5]! & 1) === 1,
    time: buf.readBigInt64LE(at + 8),
    line: buf.subarray(at + LOCAL_HEADER, at + LOCAL_HEADER + len),
  };
}
