import { FailedPreconditionError } from '../errors.ts';
import type { ProcessIdentity } from '../process.ts';

/**
 * The life of a VM record. `created` until first started; `running` while its QEMU lives; `stopped` once QEMU is
 * gone, with the reason. `starting` and `stopping` are held only while a command works on the VM (with `busyPid`),
 * so that reconcile in another process leaves it alone.
 */
export type VmStatus = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface VmState {
  readonly status: VmStatus;
  readonly qemu?: ProcessIdentity;
  /** The waiter (a shell that records QEMU's exit status); its identity lets `rm` wait for it to finish. */
  readonly waiter?: ProcessIdentity;
  readonly accel?: 'kvm' | 'tcg';
  readonly accelReason?: string;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /** Why QEMU is gone: "powered off by the guest", "killed (SIGKILL)", "stopped by vm stop"... */
  readonly exitReason?: string;
  readonly exitStatus?: number;
  /** What the user asked for last, so an exit can be told apart from a crash. */
  readonly requested?: 'stop' | 'kill';
  readonly busyPid?: number;
  /** Set after the first start: the guest was told (hbx.mkfs=1) to format its empty disk then, and never again. */
  readonly diskInitialized?: boolean;
  /** The vCPU thread ids and the CPU each was pinned to, from the last start. */
  readonly vcpus?: readonly { readonly index: number; readonly threadId: number; readonly cpu: number }[];
}

const NEXT: Record<VmStatus, readonly VmStatus[]> = {
  created: ['starting'],
  starting: ['running', 'stopped'],
  running: ['stopping', 'stopped'],
  stopping: ['stopped', 'running'],
  stopped: ['starting'],
};

export function canMove(from: VmStatus, to: VmStatus): boolean {
  return NEXT[from].includes(to);
}

/** Throws a FailedPrecondition naming the VM and its state when `to` cannot follow its current status. */
export function requireMove(name: string, from: VmStatus, to: VmStatus): void {
  if (!canMove(from, to)) {
    const verb = to === 'starting' ? 'start' : to === 'stopping' ? 'stop' : to;
    throw new FailedPreconditionError(`cannot ${verb} VM ${name}: it is ${from}`);
  }
}

export function isVmActive(s: VmStatus): boolean {
  return s === 'starting' || s === 'running' || s === 'stopping';
}

/** The exit as a user reads it, from QEMU's exit status (as the waiter's shell reports it) and what was asked. */
export function exitReasonOf(a: {
  status: number | undefined;
  requested: 'stop' | 'kill' | undefined;
  qemuComplaint?: string | undefined;
}): string {
  if (a.status === undefined) return 'QEMU vanished and no exit status was recorded (its waiter died too)';
  if (a.requested === 'kill') return 'killed by vm kill';
  if (a.status > 128) {
    const sig = a.status - 128;
    const name = SIGNALS[sig] ?? `signal ${sig}`;
    return a.requested === 'stop' ? `stopped by vm stop (${name})` : `QEMU was killed by ${name}`;
  }
  if (a.status === 0) return a.requested === 'stop' ? 'stopped by vm stop' : 'the guest powered off';
  return `QEMU exited with status ${a.status}${a.qemuComplaint ? `: ${a.qemuComplaint}` : ''}`;
}

const SIGNALS: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  6: 'SIGABRT',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  15: 'SIGTERM',
};
