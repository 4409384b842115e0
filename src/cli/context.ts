import type { Layout } from '../core/paths.ts';
import type { Engine, LocalEngine } from '../engine/engine.ts';

/** What every command receives: where the state lives, the engine (built on first use), and the terminal. */
export interface CliContext {
  layout(): Layout;
  /** The daemon's when one answers (or --host / HYPERBOX_HOST names one), else in-process. */
  engine(): Promise<Engine>;
  /**
   * Always in-process: for the daemon itself, a monitor's exit command, and the commands the daemon's API does not
   * carry yet (vm, host, plan, system); these share the state root with a running daemon as separate CLI
   * processes always have.
   */
  localEngine(): Promise<LocalEngine>;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}
