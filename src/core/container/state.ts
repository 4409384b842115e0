import { ConflictError } from '../errors.ts';
import type { ContainerState, ContainerStatus } from './config.ts';

/**
 * The container life cycle as one table: which status may follow which. Every change of status in the engine goes
 * through `transition`, so an impossible move (start a paused container, remove a running one) fails the same way
 * everywhere with a message naming the container and its state.
 */
const ALLOWED: Record<ContainerStatus, readonly ContainerStatus[]> = {
  created: ['running', 'exited', 'removing', 'dead'],
  running: ['paused', 'exited', 'restarting', 'dead', 'removing'],
  paused: ['running', 'exited', 'dead', 'removing'],
  restarting: ['running', 'exited', 'dead', 'removing'],
  exited: ['running', 'restarting', 'removing', 'dead', 'exited'],
  dead: ['removing'],
  removing: ['removing'],
};

export function canTransition(from: ContainerStatus, to: ContainerStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function transition(
  name: string,
  state: ContainerState,
  to: ContainerStatus,
  changes: Partial<ContainerState> = {},
): ContainerState {
  if (!canTransition(state.status, to)) {
    throw new ConflictError(`container ${name} cannot go from ${state.status} to ${to}`);
  }
  return { ...state, ...changes, status: to };
}

export function initialState(): ContainerState {
  return {
    status: 'created',
    pid: 0,
    monitorPid: 0,
    exitCode: 0,
    oomKilled: false,
    error: '',
    restartCount: 0,
    stoppedByUser: false,
  };
}

/** True while the container has processes (running or frozen). */
export function isActive(status: ContainerStatus): boolean {
  return status === 'running' || status === 'paused' || status === 'restarting';
}
