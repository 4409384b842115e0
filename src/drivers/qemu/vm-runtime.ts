import type { ProcessIdentity } from '../../core/process.ts';

/**
 * How the engine runs a VM: a thin adapter that carries out what the core planned (the QEMU argv of
 * core/vm/qemu-plan.ts) and answers questions about the process it started. It keeps no state of its own: the
 * engine records the identities it returns and asks again with them, from any later process.
 *
 * Vocabulary:
 * - a *machine* is one QEMU process, started by `launch` from an argv, detached from the caller (it outlives every
 *   hyperbox process) and paused when the argv asks for it (`-S`);
 * - its *waiter* is the process that stays QEMU's parent only to write QEMU's exit status into `exitFile` when it
 *   ends (a machine that died unasked still says how);
 * - an *identity* (pid + start time) names QEMU or its waiter: every question and every signal goes through one,
 *   so a recycled pid is never mistaken for the VM nor signalled;
 * - a *control* is a session on the machine's QMP socket: its vCPU threads, resume, the ACPI button, quit.
 *
 * Lifecycle: `launch` (returns once QMP accepts a session; throws with QEMU's own complaint when it exits first) ->
 * `control`: `vcpuThreads`, then `pin` each to its CPU, then `resume` -> running -> `powerDown` (the guest may or
 * may not obey), `quit`, or `kill` -> gone: `waitExit` resolves, `exitStatus` reads what the waiter wrote and
 * `complaint` the last error QEMU logged.
 */
export interface VmRuntime {
  launch(req: LaunchRequest): Promise<Launched>;
  /** A QMP session; Unavailable when nothing answers within `timeoutMs` (a hung or gone QEMU). */
  control(qmpSocket: string, opts?: { timeoutMs?: number }): Promise<VmControl>;
  /** Pins vCPU i to cpus[i % cpus.length]; returns what was done. */
  pin(vcpus: readonly VcpuThread[], cpus: readonly number[]): Promise<PinnedVcpu[]>;
  /** Whether this very process (not a later one with its pid) still runs. */
  isAlive(p: ProcessIdentity | undefined): boolean;
  /** SIGKILL, only while the identity names the process we mean; false when it is already gone. */
  kill(p: ProcessIdentity): boolean;
  /** Resolves true once the process is gone, false at the deadline. */
  waitExit(p: ProcessIdentity | undefined, timeoutMs: number): Promise<boolean>;
  /** The exit status the waiter recorded; undefined when it wrote none (yet, or it died too). */
  exitStatus(exitFile: string): number | undefined;
  /** The last error QEMU wrote to its log after `fromOffset` (a launch's `logOffset`), without its prefix. */
  complaint(logFile: string, fromOffset?: number): string | undefined;
}

export interface LaunchRequest {
  readonly qemu: string;
  readonly argv: readonly string[];
  /** QEMU's stdout and stderr, appended to. */
  readonly logFile: string;
  readonly exitFile: string;
  /** The -pidfile QEMU writes and the -qmp socket it serves: launch returns once both are there. */
  readonly pidFile: string;
  readonly qmpSocket: string;
  readonly timeoutMs?: number;
}

export interface Launched {
  readonly qemu: ProcessIdentity;
  readonly waiter: ProcessIdentity;
  /** Where this launch began writing the log: what QEMU complains of after it is about this start. */
  readonly logOffset: number;
}

export interface VcpuThread {
  readonly index: number;
  readonly threadId: number;
}

export interface PinnedVcpu extends VcpuThread {
  readonly cpu: number;
}

/** One QMP session. Commands fail with QEMU's error; `close` ends the session, never the machine. */
export interface VmControl {
  vcpuThreads(): Promise<VcpuThread[]>;
  /** Runs a machine launched paused. */
  resume(): Promise<void>;
  /** Presses the ACPI power button: a guest that listens powers off, QEMU then exits with status 0. */
  powerDown(): Promise<void>;
  /** Ends QEMU at once (status 0), the guest unasked. */
  quit(): Promise<void>;
  close(): void;
}
