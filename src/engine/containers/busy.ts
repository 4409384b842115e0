import type { ContainerState } from '../../core/container/config.ts';
import { identify, isAlive, pidRuns } from '../../drivers/proc/process.ts';

/**
 * The mark a hyperbox process leaves on a container it is changing (starting, recording an exit, removing), so
 * that reconcile and other processes leave it alone while it lives. It names the process by pid and start time: a
 * pid reused after a crash is not taken for the process that left the mark.
 */
export function busyMark(): Pick<ContainerState, 'busyPid' | 'busyStart'> {
  const me = identify(process.pid);
  return { busyPid: process.pid, ...(me ? { busyStart: me.startTime } : {}) };
}

/** No process is changing the container. */
export const NOT_BUSY: Pick<ContainerState, 'busyPid' | 'busyStart'> = {
  busyPid: undefined,
  busyStart: undefined,
};

/** Whether the process that marked the container busy still runs (this one included). */
export function busyAlive(state: Pick<ContainerState, 'busyPid' | 'busyStart'>): boolean {
  const pid = state.busyPid;
  if (!pid) return false;
  // A mark written before marks carried a start time: the pid alone is all there is to go by.
  if (state.busyStart === undefined) return pidRuns(pid);
  return isAlive({ pid, startTime: state.busyStart });
}
