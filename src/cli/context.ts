import type { Layout } from '../core/paths.ts';
import type { Engine } from '../engine/engine.ts';

/** What every command receives: where the state lives, the engine (built on first use), and the terminal. */
export interface CliContext {
  layout(): Layout;
  engine(): Promise<Engine>;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}
