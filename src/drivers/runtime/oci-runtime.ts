import type {
  AttachSession,
  ExecSession,
  ExitRecord,
  TerminalSize,
} from '../../core/container/process-io.ts';

export type { AttachSession, ExecSession, ExitRecord, TerminalSize };

/**
 * The OCI runtime seen through its monitor: runc does the work, conmon (one per container) owns the container's
 * stdio, log file and exit code, and outlives every hyperbox process. A thin adapter: no policy, no state machine
 * (that lives in core/container/state.ts); it runs what it is told on the bundle it is given.
 *
 * Vocabulary: `id` is the 64-hex container id (also runc's container id). The `bundle` directory holds config.json
 * (written by the caller) and the monitor's own files: `attach` (the attach socket, SOCK_SEQPACKET), `ctl` (the
 * control fifo), `oom` (created when the kernel's OOM killer hit the container), `pidfile` and `conmon.pid`.
 * The exit file `<exitDir>/<id>` appears when the container's init process has exited, holding its exit status
 * (128+n when killed by signal n); its mtime is the time of exit.
 *
 * Life cycle: create -> (attach) -> start -> [exec | kill | pause/resume | state | pids]* -> exit -> delete.
 * `delete` is the only call that removes runc's state; nothing here removes the bundle, which the caller owns.
 *
 * Implementations: ConmonRuncRuntime (conmon-runc.ts) and, for unit tests, FakeOciRuntime
 * (testing/fake-oci-runtime.ts); both pass the one contract suite, testing/oci-runtime.suite.ts.
 */
export interface OciRuntime {
  /**
   * Starts a monitor and has it run `runc create`: afterwards the container exists with its init process waiting
   * for `start`. Resolves once runc create finished; rejects (with the runtime's own message, classified as
   * CommandNotFound / CannotExecute / Internal) when it failed, leaving no monitor and no runc state behind.
   */
  create(opts: CreateOptions): Promise<{ pid: number; monitorPid: number }>;
  start(id: string): Promise<void>;
  /** Sends a signal ("SIGTERM", "KILL", "9") to the init process, or with `all` to every process of the container. */
  kill(id: string, signal: string, opts?: { all?: boolean }): Promise<void>;
  /**
   * Removes runc's state (and the container's cgroup) and any exec session files; `force` kills the container
   * first. Succeeds when the container is already gone.
   */
  delete(id: string, opts?: { force?: boolean }): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Moves a running container to other CPUs (`runc update --cpuset-cpus`): its cgroup's cpuset changes live. */
  updateCpuset(id: string, cpus: string): Promise<void>;
  /** runc's view: undefined when runc does not know the id. */
  state(id: string): Promise<RuntimeState | undefined>;
  /** The host pids of every process in the container (runc ps). */
  pids(id: string): Promise<number[]>;
  /**
   * Runs a process in a running container under its own monitor, so that it survives the caller. Detached
   * sessions resolve once the process started (its output goes nowhere, its exit code is not kept). Attached
   * sessions stream stdio through the returned session; `exitCode` resolves before the output streams end.
   */
  exec(id: string, opts: ExecOptions): Promise<ExecSession>;
  /**
   * Connects to the monitor's attach socket: output from that moment on (call before `start` to miss nothing),
   * and, when the container was created with stdin, input. Ending `stdin` closes the container's stdin while
   * output keeps flowing.
   */
  attach(bundle: string, opts: { stdin: boolean }): Promise<AttachSession>;
  /** Resizes the container's pty through the monitor's control fifo. */
  resize(bundle: string, size: TerminalSize): Promise<void>;
  /** The exit record written by the monitor, or undefined while the container is still running. */
  readExit(opts: ExitLocation): Promise<ExitRecord | undefined>;
  /** Waits for the exit record: resolves at once when it exists, else when the monitor writes it. */
  waitExit(opts: ExitLocation & { signal?: AbortSignal }): Promise<ExitRecord>;
}

export interface CreateOptions {
  id: string;
  name: string;
  bundle: string; // holds config.json; the monitor's files go here too
  /**
   * Where the monitor writes the container's output in the k8s-file format ("<RFC3339Nano> stdout|stderr F|P
   * <text>"): a file, or the log writer's FIFO. Absent: nowhere (conmon's `none` driver).
   */
  logPath?: string;
  /** Truncate the file when it would grow past this (conmon's --log-size-max: the old content is lost). */
  logSizeMax?: number;
  exitDir: string;
  terminal: boolean; // must match config.json's process.terminal
  stdin: boolean; // keep a pipe to the container's stdin, fed from attach sessions
  /** With stdin: leave the container's stdin open when an attached client ends its input. */
  leaveStdinOpen?: boolean;
  /** Run when the container exits, by the monitor, even if no hyperbox process is alive (restart, --rm). */
  exitCommand?: string[];
}

export interface ExitLocation {
  id: string;
  exitDir: string;
  bundle: string;
}

export interface RuntimeState {
  status: 'created' | 'running' | 'paused' | 'stopped' | 'creating';
  pid: number;
}

export interface ExecOptions {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  tty: boolean;
  stdin: boolean;
  detach: boolean;
  consoleSize?: TerminalSize;
  capabilities?: string[];
  noNewPrivileges?: boolean;
}
