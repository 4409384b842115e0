import type { FileHandle } from 'node:fs/promises';
import { LOCAL_HEADER, LOCAL_TRAILER, localRecordAt } from './local-file.ts';
import type { LogRecord } from './record.ts';

/** A record and where it lies in its file: `[start, end)`. */
export interface RecordSpan {
  start: number;
  end: number;
  record: LogRecord;
}

/** Walks a file's records from its end towards its start (what `--tail` needs), reading it in chunks. */
export type BackwardWalk = (h: FileHandle, size: number) => AsyncGenerator<RecordSpan>;

const CHUNK = 64 * 1024;

/** A window of a file kept in memory while walking backwards. */
class Window {
  from = 0;
  buf = Buffer.alloc(0);
  readonly #h: FileHandle;

  constructor(h: FileHandle) {
    this.#h = h;
  }

  /** Loads the chunk that ends at `end`. */
  async load(end: number): Promise<void> {
    this.from = Math.max(0, end - CHUNK);
    this.buf = Buffer.allocUnsafe(end - this.from);
    await readFully(this.#h, this.buf, this.from);
  }

  /** The bytes `[start, end)`, from the window when it holds them. */
  async bytes(start: number, end: number): Promise<Buffer> {
    if (start >= this.from && end <= this.from + this.buf.length) {
      return this.buf.subarray(start - this.from, end - this.from);
    }
    const out = Buffer.allocUnsafe(end - start);
    await readFully(this.#h, out, start);
    return out;
  }
}

export async function readFully(h: FileHandle, buf: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await h.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/**
 * The line-per-record formats (json-file, k8s-file), from the last line feed backwards; bytes after it are a record
 * being written and not one yet. `parseLine(buf, start, end)` parses a line without its line feed.
 */
export function lineWalk(
  parseLine: (buf: Buffer, start: number, end: number) => LogRecord | undefined,
): BackwardWalk {
  return async function* (h, size) {
    const win = new Window(h);
    // The line feed ending the line being looked at, and where the search for the one before it starts.
    let lineEnd = -1;
    let searchEnd = size;
    for (;;) {
      if (searchEnd <= win.from || searchEnd > win.from + win.buf.length || win.buf.length === 0) {
        if (searchEnd <= 0) break;
        await win.load(searchEnd);
      }
      const idx = win.buf.lastIndexOf(0x0a, searchEnd - 1 - win.from);
      if (idx < 0) {
        if (win.from === 0) break;
        searchEnd = win.from;
        await win.load(searchEnd);
        continue;
      }
      const nl = win.from + idx;
      if (lineEnd >= 0) {
        const bytes = await win.bytes(nl + 1, lineEnd + 1);
        const record = parseLine(bytes, 0, bytes.length - 1);
        if (record) yield { start: nl + 1, end: lineEnd + 1, record };
      }
      lineEnd = nl;
      searchEnd = nl;
    }
    // The file's first line.
    if (lineEnd > 0) {
      const bytes = await win.bytes(0, lineEnd + 1);
      const record = parseLine(bytes, 0, bytes.length - 1);
      if (record) yield { start: 0, end: lineEnd + 1, record };
    }
  };
}

/** The `local` format: each record's trailing length leads to its start. A torn or corrupt record ends the walk. */
export const localWalk: BackwardWalk = async function* (h, size) {
  const win = new Window(h);
  let end = size;
  while (end >= LOCAL_HEADER + LOCAL_TRAILER) {
    if (end - LOCAL_TRAILER < win.from || end > win.from + win.buf.length || win.buf.length === 0) {
      await win.load(end);
    }
    const len = (await win.bytes(end - LOCAL_TRAILER, end)).readUInt32LE(0);
    const start = end - LOCAL_HEADER - len - LOCAL_TRAILER;
    if (start < 0) return;
    const bytes = await win.bytes(start, end);
    const record = localRecordAt(bytes, 0, len);
    if (!record) return;
    yield { start, end, record };
    end = start;
  }
};
