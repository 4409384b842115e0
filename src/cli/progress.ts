import { humanSize } from '../core/human.ts';
import type { ProgressEvent } from '../core/registry/progress.ts';

/**
 * Pull and push progress as docker draws it. On a terminal, one line per layer (`<id>: <status> [bar] cur/total
 * speed`), each redrawn in place with ANSI cursor movement; elsewhere one plain line per change of a layer's
 * status, no bars; with quiet, nothing. Notes (`1: Pulling from library/busybox`) are lines of their own.
 *
 * Byte-count updates are coalesced (one redraw per REDRAW_MS at most); status changes are drawn at once.
 */
export interface ProgressView {
  note(line: string): void;
  event(e: ProgressEvent): void;
  /** Draws what is pending and stops the timer; later output goes below the layer lines. */
  done(): void;
}

export interface ProgressOptions {
  quiet?: boolean;
  /** Whether to draw bars; defaults to the stream's isTTY. */
  tty?: boolean;
  now?: () => number;
}

type Out = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export function progressView(out: Out, opts: ProgressOptions = {}): ProgressView {
  if (opts.quiet) return { note() {}, event() {}, done() {} };
  if (opts.tty ?? out.isTTY === true) return new TerminalView(out, opts.now ?? Date.now);
  return new PlainView(out);
}

const REDRAW_MS = 100;
const BAR_WIDTH = 50;

/** One line per status change of an id. */
class PlainView implements ProgressView {
  readonly #out: Out;
  readonly #last = new Map<string, string>();

  constructor(out: Out) {
    this.#out = out;
  }

  note(line: string): void {
    this.#out.write(`${line}\n`);
  }

  event(e: ProgressEvent): void {
    if (this.#last.get(e.id) === e.status) return;
    this.#last.set(e.id, e.status);
    this.#out.write(`${e.id}: ${e.status}\n`);
  }

  done(): void {}
}

interface Line {
  id: string | undefined; // undefined for notes
  event?: ProgressEvent;
  /** When the first byte count of the current status arrived, and the count then: the speed's base. */
  since?: { at: number; bytes: number; status: string };
  text: string;
  dirty: boolean;
}

class TerminalView implements ProgressView {
  readonly #out: Out;
  readonly #now: () => number;
  readonly #lines: Line[] = [];
  readonly #byId = new Map<string, Line>();
  #timer: NodeJS.Timeout | undefined;

  constructor(out: Out, now: () => number) {
    this.#out = out;
    this.#now = now;
  }

  note(line: string): void {
    this.#append({ id: undefined, text: line, dirty: false });
  }

  event(e: ProgressEvent): void {
    const line = this.#byId.get(e.id);
    if (!line) {
      const fresh: Line = { id: e.id, event: e, text: '', dirty: false };
      this.#track(fresh, e);
      fresh.text = this.#format(fresh);
      this.#byId.set(e.id, fresh);
      this.#append(fresh);
      return;
    }
    const statusChanged = line.event?.status !== e.status;
    line.event = e;
    this.#track(line, e);
    line.dirty = true;
    if (statusChanged) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), REDRAW_MS);
  }

  done(): void {
    this.#flush();
  }

  #track(line: Line, e: ProgressEvent): void {
    if (e.current === undefined) {
      line.since = undefined;
    } else if (line.since === undefined || line.since.status !== e.status) {
      line.since = { at: this.#now(), bytes: e.current, status: e.status };
    }
  }

  #append(line: Line): void {
    this.#lines.push(line);
    this.#out.write(`${this.#fit(line.text)}\n`);
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    let s = '';
    const n = this.#lines.length;
    this.#lines.forEach((line, i) => {
      if (!line.dirty) return;
      line.dirty = false;
      line.text = this.#format(line);
      const up = n - i;
      // Up to the line, clear it, write it, back down to where new lines go.
      s += `\x1b[${up}A\r\x1b[2K${this.#fit(line.text)}\x1b[${up}B\r`;
    });
    if (s) this.#out.write(s);
  }

  /** A line that wraps would break the cursor arithmetic: cut it to the terminal's width. */
  #fit(text: string): string {
    const columns = this.#out.columns;
    return columns && text.length >= columns ? text.slice(0, columns - 1) : text;
  }

  #format(line: Line): string {
    const e = line.event!;
    let text = `${e.id}: ${e.status}`;
    if (e.current !== undefined && e.total !== undefined && e.total > 0) {
      text += ` ${bar(e.current, e.total)} ${humanSize(e.current).padStart(7)}/${humanSize(e.total)}`;
    } else if (e.current !== undefined) {
      text += ` ${humanSize(e.current)}`;
    }
    const since = line.since;
    if (e.current !== undefined && since !== undefined) {
      const seconds = (this.#now() - since.at) / 1000;
      if (seconds >= 0.2) text += `  ${humanSize((e.current - since.bytes) / seconds)}/s`;
    }
    return text;
  }
}

/** `[=========>        ]`, docker's 50-column bar. */
export function bar(current: number, total: number): string {
  const fraction = Math.min(1, Math.max(0, current / total));
  const filled = Math.floor(fraction * BAR_WIDTH);
  if (filled >= BAR_WIDTH) return `[${'='.repeat(BAR_WIDTH)}]`;
  return `[${'='.repeat(filled)}>${' '.repeat(BAR_WIDTH - filled - 1)}]`;
}
