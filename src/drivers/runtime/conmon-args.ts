import path from 'node:path';

/** Where the programs are and where runc keeps its state; fixed for one runtime instance. */
export interface ConmonPaths {
  conmon: string;
  runc: string;
  runcRoot: string;
}

/**
 * conmon's argv for a container's monitor. --full-attach puts the attach socket at <bundle>/attach (conmon binds it
 * through /proc/self/fd, so long paths work) instead of behind a symlink in a shared socket directory.
 * The monitor's cwd must be the bundle: conmon writes the `oom` marker into its cwd.
 */
export function conmonCreateArgs(
  paths: ConmonPaths,
  opts: {
    id: string;
    name: string;
    bundle: string;
    logPath?: string;
    logSizeMax?: number;
    exitDir: string;
    terminal: boolean;
    stdin: boolean;
    leaveStdinOpen?: boolean;
    exitCommand?: string[];
  },
): string[] {
  // biome-ignore format: one flag and its value per line
  const args = [
    '--api-version', '1',
    '-c', opts.id,
    '-u', opts.id,
    '-n', opts.name,
    '-r', paths.runc,
    '-b', opts.bundle,
    '-p', path.join(opts.bundle, 'pidfile'),
    '-P', path.join(opts.bundle, 'conmon.pid'),
    '-l', opts.logPath === undefined ? 'none' : `k8s-file:${opts.logPath}`,
    '--exit-dir', opts.exitDir,
    '--full-attach',
    '--runtime-arg', '--root',
    '--runtime-arg', paths.runcRoot,
  ];
  if (opts.logSizeMax !== undefined) args.push('--log-size-max', String(opts.logSizeMax));
  // The log may be the log writer's FIFO, which cannot be fsync'ed (conmon would warn at every exit).
  args.push('--no-sync-log');
  if (opts.terminal) args.push('-t');
  if (opts.stdin) args.push('-i');
  if (opts.stdin && opts.leaveStdinOpen) args.push('--leave-stdin-open');
  const [command, ...commandArgs] = opts.exitCommand ?? [];
  if (command !== undefined) {
    args.push('--exit-command', command);
    for (const arg of commandArgs) args.push('--exit-command-arg', arg);
  }
  return args;
}

/**
 * conmon's argv for an exec session: `runc exec --detach` under its own monitor, in the session's own directory
 * (attach socket, ctl fifo, pidfile, exit file). With `attach`, conmon waits on the start pipe until the client has
 * connected to the attach socket, so no output is lost; it reports the exit status on the sync pipe.
 */
export function conmonExecArgs(
  paths: ConmonPaths,
  opts: { id: string; sessionId: string; dir: string; terminal: boolean; stdin: boolean; attach: boolean },
): string[] {
  // biome-ignore format: one flag and its value per line
  const args = [
    '--api-version', '1',
    '-c', opts.id,
    '-u', opts.sessionId,
    '-r', paths.runc,
    '-b', opts.dir,
    '-p', path.join(opts.dir, 'pidfile'),
    '-l', 'none',
    '--exit-dir', opts.dir,
    '--full-attach',
    '--exec',
    '--exec-process-spec', path.join(opts.dir, 'process.json'),
    '--runtime-arg', '--root',
    '--runtime-arg', paths.runcRoot,
  ];
  if (opts.attach) args.push('--exec-attach');
  if (opts.terminal) args.push('-t');
  if (opts.stdin) args.push('-i');
  return args;
}
