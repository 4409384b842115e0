import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { registerCopyCommand } from './container/cp.ts';
import { registerInspectCommands } from './container/inspect.ts';
import { registerExecAndAttach, registerLogsCommand } from './container/io.ts';
import {
  registerHousekeepingCommands,
  registerLifecycleCommands,
  registerWaitAndRename,
} from './container/lifecycle.ts';
import { registerListCommands, registerProcessCommands } from './container/list.ts';
import { registerRunCommands } from './container/run.ts';
import { registerEventsCommand } from './events.ts';

/** The container commands, by group (one file each in container/), registered in the order `--help` lists them. */
export function registerContainerCommands(program: Command, ctx: CliContext): void {
  registerRunCommands(program, ctx);
  registerLifecycleCommands(program, ctx);
  const container = registerListCommands(program, ctx);
  registerHousekeepingCommands(container, ctx);
  registerLogsCommand(program, ctx);
  registerWaitAndRename(program, ctx);
  registerInspectCommands(program, container, ctx);
  registerExecAndAttach(program, ctx);
  registerProcessCommands(program, ctx);
  registerCopyCommand(program, ctx);
  registerEventsCommand(program, ctx);
}
