import fs from 'node:fs';
import { type FileHandle, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { type BackwardWalk, lineWalk, localWalk } from './backward.ts';
import { jsonFileParser, parseJsonLine } from './json-file.ts';
import { k8sFileParser, parseK8sLine } from './k8s-file.ts';
import { localFileParser } from './local-file.ts';
import type { LogRecord, RecordParser } from './record.ts';

/** The on-disk formats that can be read back. */
export type LogFileFormat = 'json-file' | 'local' | 'k8s-file';

export interface FormatSpec {
  parser: RecordParser;
  backward: BackwardWalk;
}

export const FORMATS: Record<LogFileFormat, FormatSpec> = {
  'json-file': { parser: jsonFileParser, backward: lineWalk(parseJsonLine) },
  'k8s-file': { parser: k8sFileParser, backward: lineWalk(parseK8sLine) },
  local: { parser: localFileParser, backward: localWalk },
};

/** One file of a log, opened: reading it is immune to renames (rotation) from then on. */
export interface OpenedLogFile {
  name: string;
  handle: FileHandle;
  compressed: boolean;
  ino: number;
  size: number;
}

/**
 * The files of the log at `file`, oldest first: the rotated ones (`<file>.N` ... `<file>.1`, `.gz` when compressed,
 * the uncompressed copy preferred while a compression is under way) and then `<file>` itself; each opened now. A
 * file met twice (a rotation between two opens) is kept once. Missing: an empty list.
 */
export async function openLogFiles(file: string): Promise<OpenedLogFile[]> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const rotated = new Map<number, boolean>(); // index -> compressed only
  const re = new RegExp(`^${escapeRe(base)}\\.(\\d+)(\\.gz)?$`);
  for (const name of names) {
    const m = re.exec(name);
    if (!m) continue;
    const n = Number(m[1]);
    rotated.set(n, (rotated.get(n) ?? true) && m[2] !== undefined);
  }
  const out: OpenedLogFile[] = [];
  const seen = new Set<number>();
  const add = async (candidates: string[]) => {
    for (const candidate of candidates) {
      const f = await openOne(path.join(dir, candidate));
      if (!f) continue;
      if (seen.has(f.ino)) {
        await f.handle.close();
        return;
      }
      seen.add(f.ino);
      out.push(f);
      return;
    }
  };
  // Newest first, so that a rotation while we open shows up as a file met twice rather than one missed.
  await add([base]);
  for (const [n, gzOnly] of [...rotated].sort(([a], [b]) => a - b)) {
    await add(gzOnly ? [`${base}.${n}.gz`] : [`${base}.${n}`, `${base}.${n}.gz`]);
  }
  return out.reverse();
}

async function openOne(name: string): Promise<OpenedLogFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(name, 'r');
  } catch {
    return undefined;
  }
  const st = await handle.stat();
  return { name, handle, compressed: name.endsWith('.gz'), ino: st.ino, size: st.size };
}

export async function closeAll(files: OpenedLogFile[]): Promise<void> {
  await Promise.all(files.map((f) => f.handle.close().catch(() => {})));
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Reads whole records forward. `next` resolves undefined at the current end (a live file may grow later). */
export interface RecordCursor {
  next(): Promise<LogRecord[] | undefined>;
  /** Stops reading early (before the file is closed). */
  close(): void;
}

const READ_CHUNK = 256 * 1024;
/** A record that has not ended after this many bytes is not one (a corrupt file): dropped, memory stays bounded. */
const MAX_PENDING = 8 * 1024 * 1024;

/** An uncompressed file from `position`; following it, `next` picks up what was appended since. */
export class FileCursor implements RecordCursor {
  position: number;
  #pending: Buffer = Buffer.alloc(0);
  readonly #handle: FileHandle;
  readonly #parser: RecordParser;

  constructor(handle: FileHandle, parser: RecordParser, position = 0) {
    this.#handle = handle;
    this.#parser = parser;
    this.position = position;
  }

  async next(): Promise<LogRecord[] | undefined> {
    for (;;) {
      const chunk = Buffer.allocUnsafe(READ_CHUNK);
      const { bytesRead } = await this.#handle.read(chunk, 0, READ_CHUNK, this.position);
      if (bytesRead === 0) return undefined;
      this.position += bytesRead;
      const buf =
        this.#pending.length > 0
          ? Buffer.concat([this.#pending, chunk.subarray(0, bytesRead)])
          : chunk.subarray(0, bytesRead);
      const records: LogRecord[] = [];
      const used = this.#parser.parse(buf, records);
      this.#pending = buf.length - used > MAX_PENDING ? Buffer.alloc(0) : buf.subarray(used);
      if (records.length > 0) return records;
    }
  }

  close(): void {}
}

/** A compressed rotated file, decompressed as it is read; it never grows. */
export class GzipCursor implements RecordCursor {
  #pending: Buffer = Buffer.alloc(0);
  readonly #chunks: AsyncIterator<Buffer>;
  readonly #parser: RecordParser;
  readonly #streams: NodeJS.ReadableStream[];

  constructor(handle: FileHandle, parser: RecordParser) {
    this.#parser = parser;
    const raw = fs.createReadStream('', { fd: handle.fd, autoClose: false, start: 0 });
    const gunzip = createGunzip();
    // A read error (the file closed under an abandoned cursor) ends the data; it must not crash the process.
    raw.on('error', (err) => gunzip.destroy(err));
    this.#streams = [raw, gunzip];
    this.#chunks = raw.pipe(gunzip)[Symbol.asyncIterator]();
  }

  close(): void {
    for (const s of this.#streams) (s as fs.ReadStream).destroy();
  }

  async next(): Promise<LogRecord[] | undefined> {
    for (;;) {
      let step: IteratorResult<Buffer>;
      try {
        step = await this.#chunks.next();
      } catch {
        return undefined; // a truncated or corrupt archive: what it held up to there
      }
      if (step.done) return undefined;
      const buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, step.value]) : step.value;
      const records: LogRecord[] = [];
      const used = this.#parser.parse(buf, records);
      this.#pending = buf.length - used > MAX_PENDING ? Buffer.alloc(0) : buf.subarray(used);
      if (records.length > 0) return records;
    }
  }
}

export function cursorFor(f: OpenedLogFile, parser: RecordParser, position = 0): RecordCursor {
  return f.compressed ? new GzipCursor(f.handle, parser) : new FileCursor(f.handle, parser, position);
}
