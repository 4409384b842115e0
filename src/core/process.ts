/**
 * How a process is known to records that outlive it (a VM's QEMU, a monitor, a command busy with an object): a pid
 * alone can be recycled, so the process's start time goes with it. drivers/proc/process.ts reads both.
 */
export interface ProcessIdentity {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot. */
  readonly startTime: number;
}
