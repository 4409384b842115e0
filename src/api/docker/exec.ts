import { randomBytes } from 'node:crypto';
import type { ExecSession } from '../../core/container/process-io.ts';
import { NotFoundError } from '../../core/errors.ts';
import type { ExecRequest } from '../../engine/api/containers.ts';
import type { LocalEngine } from '../../engine/local-engine.ts';
import type { Router } from '../router.ts';
import { Body } from './body.ts';
import { MULTIPLEXED_STREAM, pumpOutput, RAW_STREAM } from './stream-frames.ts';

/**
 * docker's exec is two calls: create (remember the request) and start (run it, streaming). The daemon keeps the
 * requests and their outcome in memory, as dockerd does: an exec instance does not outlive the daemon.
 */
interface ExecInstance {
  id: string;
  containerId: string;
  req: ExecRequest;
  attach: { stdout: boolean; stderr: boolean };
  running: boolean;
  exitCode: number | null;
  pid: number;
  session?: ExecSession;
}

/** Instances are forgotten this long after they ended (the CLI reads the exit code right after the stream). */
const KEEP_ENDED_MS = 5 * 60_000;

export function execRoutes(r: Router, engine: LocalEngine): void {
  const execs = new Map<string, ExecInstance>();
  const find = (id: string): ExecInstance => {
    const e = execs.get(id);
    if (!e) throw new NotFoundError(`No such exec instance: ${id}`);
    return e;
  };

  r.add('POST', '/containers/:id/exec', async (ex) => {
    const b = new Body(await ex.json());
    const rec = engine.containers.requireRunning(ex.params.id!);
    const consoleSize = consoleSizeOf(b);
    const inst: ExecInstance = {
      id: randomBytes(32).toString('hex'),
      containerId: rec.id,
      req: {
        args: b.strings('Cmd') ?? [],
        env: b.strings('Env') ?? [],
        ...(b.str('WorkingDir') !== undefined ? { workdir: b.str('WorkingDir')! } : {}),
        ...(b.str('User') !== undefined ? { user: b.str('User')! } : {}),
        tty: b.bool('Tty'),
        stdin: b.bool('AttachStdin'),
        detach: false,
        privileged: b.bool('Privileged'),
        ...(consoleSize ? { consoleSize } : {}),
      },
      attach: { stdout: b.bool('AttachStdout'), stderr: b.bool('AttachStderr') },
      running: false,
      exitCode: null,
      pid: 0,
    };
    execs.set(inst.id, inst);
    ex.json200({ Id: inst.id }, 201);
  });

  r.add('POST', '/exec/:id/start', async (ex) => {
    const inst = find(ex.params.id!);
    const b = new Body(await ex.json());
    const detach = b.bool('Detach');
    const tty = inst.req.tty;
    if (detach) {
      const session = await engine.containers.exec(inst.containerId, {
        ...inst.req,
        stdin: false,
        detach: true,
      });
      inst.pid = session.pid;
      ex.noContent(200);
      return;
    }
    const session = await engine.containers.exec(inst.containerId, inst.req);
    inst.session = session;
    inst.pid = session.pid;
    inst.running = true;
    const { input, output } = ex.hijack(tty ? RAW_STREAM : MULTIPLEXED_STREAM);
    const sessionStdin = session.stdin;
    if (inst.req.stdin && sessionStdin) {
      (sessionStdin as NodeJS.EventEmitter).on('error', () => {});
      input.on('data', (chunk: Buffer) => sessionStdin.write(chunk));
      input.once('end', () => sessionStdin.end());
    } else {
      input.resume();
    }
    const done = pumpOutput(output, session, { tty, ...inst.attach });
    // The exit code is known before the output ends (the runtime's promise): the CLI inspects right after EOF.
    const code = await (session.exitCode ?? Promise.resolve(0));
    inst.exitCode = code;
    inst.running = false;
    await done;
    output.end();
    setTimeout(() => execs.delete(inst.id), KEEP_ENDED_MS).unref();
  });

  r.add('POST', '/exec/:id/resize', async (ex) => {
    const inst = find(ex.params.id!);
    const rows = Number(ex.query.get('h'));
    const cols = Number(ex.query.get('w'));
    if (inst.session && rows > 0 && cols > 0) await inst.session.resize({ rows, cols });
    ex.noContent(200);
  });

  r.add('GET', '/exec/:id/json', (ex) => {
    const inst = find(ex.params.id!);
    ex.json200({
      ID: inst.id,
      Running: inst.running,
      ExitCode: inst.exitCode,
      ProcessConfig: {
        tty: inst.req.tty,
        entrypoint: inst.req.args[0] ?? '',
        arguments: inst.req.args.slice(1),
        privileged: inst.req.privileged,
        user: inst.req.user ?? '',
      },
      OpenStdin: inst.req.stdin,
      OpenStdout: inst.attach.stdout,
      OpenStderr: inst.attach.stderr,
      CanRemove: false,
      ContainerID: inst.containerId,
      DetachKeys: '',
      Pid: inst.pid,
    });
  });
}

/** `ConsoleSize: [height, width]` (docker sends it with -t so the first prompt has the right size). */
function consoleSizeOf(b: Body): { rows: number; cols: number } | undefined {
  const [rows, cols] = b.numbers('ConsoleSize') ?? [];
  return rows && cols ? { rows, cols } : undefined;
}
