import { stat } from 'node:fs/promises';
import { fixedTimeFromNanos, normalizeRecordTime } from '../../core/logs/timestamp.ts';
import { followFile } from '../io/follow.ts';
import {
  closeAll,
  cursorFor,
  FORMATS,
  type FormatSpec,
  type LogFileFormat,
  type OpenedLogFile,
  openLogFiles,
  type RecordCursor,
} from './log-files.ts';
import type { LogRecord } from './record.ts';

export interface ReadLogOptions {
  /** The last N lines only (0: none); undefined: all. */
  tail?: number;
  /** Fixed-form times (core/logs/timestamp.ts): records before `since` are skipped, reading stops after `until`. */
  since?: string;
  until?: string;
  /**
   * Keep reading what is appended, across rotations (the renamed file is read to its end, then the new one), until
   * `stopped()` says no more will come (checked when the log is quiet), or `signal` aborts.
   */
  follow?: { stopped: () => Promise<boolean>; signal?: AbortSignal };
}

/** A record's time in the fixed form, comparable as a string. */
export function recordTime(r: LogRecord): string {
  return typeof r.time === 'bigint' ? fixedTimeFromNanos(r.time) : (normalizeRecordTime(r.time) ?? '');
}

/**
 * A container's log, all its files, as batches of records in order. Memory stays bounded whatever the size: files
 * are read in chunks, `tail` walks back from the end. Batches hold views into read buffers: use them before asking
 * for the next (the consumer's pace is the reader's: backpressure for free).
 */
export async function* readLog(
  file: string,
  format: LogFileFormat,
  opts: ReadLogOptions = {},
): AsyncGenerator<LogRecord[]> {
  const spec = FORMATS[format];
  const files = await openLogFiles(file);
  const open = new Set(files);
  const { since, until } = opts;
  const keep = (batch: LogRecord[]): { records: LogRecord[]; done: boolean } => {
    if (since === undefined && until === undefined) return { records: batch, done: false };
    const out: LogRecord[] = [];
    for (const r of batch) {
      const t = recordTime(r);
      if (until !== undefined && t > until) return { records: out, done: true };
      if (since === undefined || t >= since) out.push(r);
    }
    return { records: out, done: false };
  };
  try {
    const start =
      opts.tail === undefined
        ? { index: 0, offset: 0, skipFinals: 0 }
        : await tailStart(files, spec, opts.tail);
    let following: { file: OpenedLogFile; cursor: RecordCursor } | undefined;
    for (let i = start.index; i < files.length; i++) {
      const f = files[i]!;
      if (since !== undefined && i < files.length - 1 && !f.compressed && (await endsBefore(f, spec, since)))
        continue;
      const cursor = cursorFor(f, spec.parser, i === start.index ? start.offset : 0);
      let skip = i === start.index ? start.skipFinals : 0;
      for (let batch = await cursor.next(); batch; batch = await cursor.next()) {
        if (skip > 0) ({ batch, skip } = skipFinals(batch, skip));
        const { records, done } = keep(batch);
        if (records.length > 0) yield records;
        if (done) return;
      }
      if (i === files.length - 1) following = { file: f, cursor };
      else cursor.close();
    }
    if (!opts.follow) return;
    const follow = opts.follow;
    for await (const batch of followLog(file, spec, following, follow, open)) {
      const { records, done } = keep(batch);
      if (records.length > 0) yield records;
      if (done) return;
    }
  } finally {
    await closeAll([...open]);
  }
}

interface TailStart {
  index: number;
  /** Bytes into an uncompressed file. */
  offset: number;
  /** Full records to skip first in a compressed file. */
  skipFinals: number;
}

/** Where the last `lines` lines begin, walking back from the newest file. */
async function tailStart(files: OpenedLogFile[], spec: FormatSpec, lines: number): Promise<TailStart> {
  let needed = lines;
  if (needed <= 0) {
    const last = files.length - 1;
    return { index: Math.max(last, 0), offset: last >= 0 ? files[last]!.size : 0, skipFinals: 0 };
  }
  for (let i = files.length - 1; i >= 0; i--) {
    const f = files[i]!;
    if (f.compressed) {
      const finals = await countFinals(f, spec);
      if (finals > needed) return { index: i, offset: 0, skipFinals: finals - needed };
      needed -= finals;
      continue;
    }
    let finals = 0;
    for await (const span of spec.backward(f.handle, f.size)) {
      if (!span.record.partial) {
        // The line before the last `needed` ones ends here: the tail starts after it.
        if (finals === needed) return { index: i, offset: span.end, skipFinals: 0 };
        finals++;
      }
    }
    needed -= finals;
  }
  return { index: 0, offset: 0, skipFinals: 0 };
}

async function countFinals(f: OpenedLogFile, spec: FormatSpec): Promise<number> {
  const cursor = cursorFor(f, spec.parser);
  let n = 0;
  for (let batch = await cursor.next(); batch; batch = await cursor.next()) {
    for (const r of batch) if (!r.partial) n++;
  }
  return n;
}

function skipFinals(batch: LogRecord[], skip: number): { batch: LogRecord[]; skip: number } {
  let i = 0;
  while (i < batch.length && skip > 0) {
    if (!batch[i]!.partial) skip--;
    i++;
  }
  return { batch: batch.slice(i), skip };
}

/** Whether an uncompressed file's last record is older than `since`: then none of it is wanted. */
async function endsBefore(f: OpenedLogFile, spec: FormatSpec, since: string): Promise<boolean> {
  for await (const span of spec.backward(f.handle, f.size)) return recordTime(span.record) < since;
  return true;
}

const QUIET_POLL_MS = 250;

/**
 * What is appended to `file` from where `current` left off. On a rotation (the path names another file, or none
 * for a moment) the file we hold is read to its end, then the files that came after it, by inode, then the new one.
 */
async function* followLog(
  file: string,
  spec: FormatSpec,
  start: { file: OpenedLogFile; cursor: RecordCursor } | undefined,
  follow: NonNullable<ReadLogOptions['follow']>,
  open: Set<OpenedLogFile>,
): AsyncGenerator<LogRecord[]> {
  let current = start;
  let queue: OpenedLogFile[] = [];
  /** The next batch, across rotations; undefined when nothing new is written yet. */
  const read = async (): Promise<LogRecord[] | undefined> => {
    for (;;) {
      if (!current) {
        // No file yet (nothing logged), or the next file of a rotation.
        const next = queue.shift() ?? (await openNewest(file, open));
        if (!next) return undefined;
        current = { file: next, cursor: cursorFor(next, spec.parser) };
      }
      const batch = await current.cursor.next();
      if (batch) return batch;
      if (queue.length > 0 || (await rotatedAway(file, current.file))) {
        if (queue.length === 0) queue = await successors(file, current.file, open);
        if (queue.length > 0 || current.file.compressed) {
          // Done with it: a long follow across many rotations must not pile up open files.
          current.cursor.close();
          await current.file.handle.close().catch(() => {});
          open.delete(current.file);
          current = undefined;
          continue;
        }
      }
      return undefined;
    }
  };
  yield* followFile({
    file,
    read,
    stopped: follow.stopped,
    quietMs: QUIET_POLL_MS,
    ...(follow.signal ? { signal: follow.signal } : {}),
  });
}

async function rotatedAway(file: string, f: OpenedLogFile): Promise<boolean> {
  try {
    return (await stat(file)).ino !== f.ino;
  } catch {
    return true;
  }
}

async function openNewest(file: string, open: Set<OpenedLogFile>): Promise<OpenedLogFile | undefined> {
  const files = await openLogFiles(file);
  const newest = files.pop();
  for (const f of files) await f.handle.close().catch(() => {});
  if (newest?.name === file) {
    open.add(newest);
    return newest;
  }
  if (newest) await newest.handle.close().catch(() => {});
  return undefined;
}

/** The files written after `f`, oldest first (found by inode); when `f` is gone from the set, only the newest. */
async function successors(
  file: string,
  f: OpenedLogFile,
  open: Set<OpenedLogFile>,
): Promise<OpenedLogFile[]> {
  const files = await openLogFiles(file);
  const at = files.findIndex((x) => x.ino === f.ino);
  const after = at >= 0 ? files.slice(at + 1) : files.filter((x) => x.name === file);
  for (const x of files) {
    if (after.includes(x)) open.add(x);
    else await x.handle.close().catch(() => {});
  }
  return after;
}
