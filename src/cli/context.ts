import type { Layout } from '../core/paths.ts';
import type { Engine } from '../engine/api/engine.ts';
import type { LocalEngine } from '../engine/local-engine.ts';
import type { LocalEngineOptions } from '../wiring/engine.ts';

/** What every command receives: where the state lives, the engine (built on first use), and the terminal. */
export interface CliContext {
  layout(): Layout;
  /** The daemon's when one answers (or --host / HYPERBOX_HOST names one), else in-process. */
  engine(): Promise<Engine>;
  /**
   * Always in-process: for the daemon itself and a monitor's exit command (`container cleanup`); built on first
   * use, with `opts` then (`serve` builds the daemon's). Reconciled first, unless `reconcile: false` (the daemon
   * reconciles behind its gate once it listens).
   */
  localEngine(opts?: LocalEngineOptions): Promise<LocalEngine>;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}
