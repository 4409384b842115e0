import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { HYPERBOX } from './cli.ts';

/**
 * A `hyperbox serve` of a test root on a socket of the test's own (not the root's default one, so that the test's
 * hyperbox commands stay in-process): for driving the docker CLI or the API beside the CLI. `stop` is SIGTERM to
 * its pid and a wait for its exit.
 */
export async function serveOn(root: string, socket: string): Promise<{ stop(): Promise<void> }> {
  const child: ChildProcess = spawn(HYPERBOX, ['--root', root, 'serve', '--socket', socket], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 200 && !fs.existsSync(socket) && child.exitCode === null; i++) await sleep(50);
  if (!fs.existsSync(socket)) throw new Error(`hyperbox serve did not come up on ${socket}`);
  return {
    stop: async () => {
      if (child.pid === undefined || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid, 'SIGTERM');
      await exited;
    },
  };
}
