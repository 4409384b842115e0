/**
 * What a container's processes look like to whoever drives them: the streams of an attach or exec session and the
 * record of an exit. The runtime driver produces them, the engine hands them to its callers (in-process or over the
 * daemon's socket), so they belong to neither: both speak these words.
 */

export interface TerminalSize {
  rows: number;
  cols: number;
}

export interface ExitRecord {
  exitCode: number;
  finishedAt: number; // ms since epoch (the exit file's mtime)
  oomKilled: boolean;
}

export interface ExecSession {
  /** The process's host pid. */
  pid: number;
  /** stdin to the process (when opts.stdin and not detached). */
  stdin?: NodeJS.WritableStream;
  /** Output (merged into stdout with a tty); empty streams for a detached session. */
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  resize(size: TerminalSize): Promise<void>;
  /** The exit status (128+n for signal n); absent for a detached session, whose exit status is not kept. */
  exitCode?: Promise<number>;
}

export interface AttachSession {
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  /** Present when attached with stdin: ending it closes the container's stdin (unless the monitor keeps it). */
  stdin?: NodeJS.WritableStream;
  /** Disconnects without affecting the container. */
  close(): void;
}
