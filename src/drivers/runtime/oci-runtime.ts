import type { Duplex } from 'node:stream';

/**
 * The OCI runtime seen through its monitor: runc does the work, conmon (one per container) owns the container's
 * stdio, log file and exit code, and outlives every hyperbox process. A thin adapter: no policy, no state machine
 * (that lives in core/container/state.ts); it runs what it is told on the bundle it is given.
 *
 * Vocabulary: `id` is the 64-hex container id (also runc's container id). The `bundle` directory holds config.json
 * (written by the caller), and the monitor's own files: the attach socket, the `ctl` fifo, the `oom` marker.
 * The exit file `<exitDir>/<id>` appears when the container's init process has exited, holding its exit status.
 */
export interface OciRuntime {
  /**
   * Starts a monitor and has it run `runc create`: afterwards the container exists with its init process waiting
   * for `start`. Resolves once runc create finished; rejects (with the runtime's own message, classified as
   * CommandNotFound / CannotExecute / Internal) when it failed, leaving no monitor process behind.
   */
  create(opts: CreateOptions): Promise<{ pid: number; monitorPid: number }>;
  start(id: string): Promise<void>;
  kill(id: string, signal: string, opts?: { all?: boolean }): Promise<void>;
  /** Removes runc's state for the container; `force` kills it first. Succeeds when the container is already gone. */
  delete(id: string, opts?: { force?: boolean }): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** runc's view: undefined when runc does not know the id. */
  state(id: string): Promise<RuntimeState | undefined>;
  /** The host pids of every process in the container (runc ps). */
  pids(id: string): Promise<number[]>;
  /** Updates cgroup limits of a running container. */
  /**
   * Runs a process in a running container. Non-detached sessions stream stdio through the returned session and
   * resolve `exitCode` once the process is gone (recorded before the stream closes).
   */
  exec(id: string, opts: ExecOptions): Promise<ExecSession>;
  /**
   * Connects to the monitor's attach socket: output from that moment on (call before `start` to miss nothing),
   * and, when the container was created with stdin, input.
   */
  attach(bundle: string, opts: { stdin: boolean }): Promise<AttachSession>;
  /** Resizes the container's pty through the monitor's control fifo. */
  resize(bundle: string, size: { rows: number; cols: number }): Promise<void>;
  /** The exit record written by the monitor, or undefined while the container is still running. */
  readExit(opts: { id: string; exitDir: string; bundle: string }): Promise<ExitRecord | undefined>;
}

export interface CreateOptions {
  id: string;
  name: string;
  bundle: string; // holds config.json
  logPath: string; // k8s-file format: "<RFC3339Nano> stdout|stderr F|P <text>"
  exitDir: string;
  socketDir: string; // parent of the attach socket directory
  terminal: boolean;
  stdin: boolean;
  /** Run when the container exits, by the monitor, even if no hyperbox process is alive (restart, --rm). */
  exitCommand?: string[];
}

export interface RuntimeState {
  status: 'created' | 'running' | 'paused' | 'stopped' | 'creating';
  pid: number;
}

export interface ExitRecord {
  exitCode: number;
  finishedAt: number; // ms since epoch (the exit file's mtime)
  oomKilled: boolean;
}

export interface ExecOptions {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  tty: boolean;
  stdin: boolean;
  detach: boolean;
  consoleSize?: { rows: number; cols: number };
  capabilities?: string[];
  noNewPrivileges?: boolean;
}

export interface ExecSession {
  /** stdin to the process (when opts.stdin), stdout and stderr from it (merged into stdout with a tty). */
  stdin?: NodeJS.WritableStream;
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  resize(size: { rows: number; cols: number }): Promise<void>;
  exitCode: Promise<number>;
}

export interface AttachSession {
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  /** Present when attached with stdin: ending it closes the container's stdin (unless the monitor keeps it). */
  stdin?: NodeJS.WritableStream;
  close(): void;
}

export type { Duplex };
