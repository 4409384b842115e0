import { humanDuration } from '../human.ts';
import type { ContainerState } from './config.ts';

/** The STATUS column of `ps`, in docker's words: "Up 3 minutes", "Exited (0) 2 seconds ago", "Created". */
export function statusText(state: ContainerState, now: number): string {
  switch (state.status) {
    case 'created':
      return 'Created';
    case 'running':
      return `Up ${humanDuration(now - (state.startedAt ?? now))}`;
    case 'paused':
      return `Up ${humanDuration(now - (state.startedAt ?? now))} (Paused)`;
    case 'restarting':
      return `Restarting (${state.exitCode}) ${humanDuration(now - (state.finishedAt ?? now))} ago`;
    case 'exited':
      return state.finishedAt
        ? `Exited (${state.exitCode}) ${humanDuration(now - state.finishedAt)} ago`
        : 'Exited';
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
  }
}

/** "container web is not running (exited 3 seconds ago)": names the object and its state. */
export function stateClause(state: ContainerState, now: number): string {
  switch (state.status) {
    case 'exited':
      return state.finishedAt
        ? `exited ${humanDuration(now - state.finishedAt).toLowerCase()} ago`
        : 'exited';
    case 'running':
      return `running for ${humanDuration(now - (state.startedAt ?? now)).toLowerCase()}`;
    default:
      return state.status;
  }
}
