import type { AttachSession } from '../../core/container/process-io.ts';
import { ConflictError, InvalidArgumentError } from '../../core/errors.ts';
import type { LocalEngine } from '../../engine/local-engine.ts';
import { streamLogs, timeParam } from '../log-stream.ts';
import type { Router } from '../router.ts';
import type { AttachBroker } from './attach-broker.ts';
import { boolParam } from './filters.ts';
import { frame, MULTIPLEXED_STREAM, pumpOutput, RAW_STREAM, STREAM } from './stream-frames.ts';
import { parseWaitCondition } from './wait.ts';

/** start, attach, wait, logs: the calls whose order `docker run` depends on. */
export function containerIoRoutes(r: Router, engine: LocalEngine, broker: AttachBroker): void {
  r.add('POST', '/containers/:id/start', async (ex) => {
    const rec = engine.containers.get(ex.params.id!);
    if (rec.state.status === 'running') return ex.noContent(304);
    const waiting = broker.take(rec.id);
    const stdin = waiting.some((w) => w.stdin) && rec.config.openStdin;
    let session: AttachSession | undefined;
    try {
      const consoleSize = broker.takeConsoleSize(rec.id);
      ({ session } = await engine.containers.start(rec.id, {
        ...(waiting.length ? { attach: { stdin } } : {}),
        ...(consoleSize ? { consoleSize } : {}),
        // The daemon records exits itself (engine/exit-watcher.ts), at once: a monitor's exit command would cost a
        // CLI start per exit, and the monitor lingers until it is done. An exit while no daemon runs is caught up
        // by the next daemon's (or any command's) reconcile, --rm included.
        detached: false,
      }));
    } catch (err) {
      // The engine removed it already when it was an --rm container (as dockerd): its waiters then see it gone.
      for (const w of waiting) w.fail(err);
      throw err;
    }
    if (!session) return ex.noContent();
    const [first, ...others] = waiting;
    first!.deliver(session);
    for (const w of others) {
      engine.containers.attach(rec.id, { stdin: false }).then(({ session: s }) => w.deliver(s), w.fail);
    }
    ex.noContent();
  });

  r.add('POST', '/containers/:id/attach', async (ex) => {
    const rec = engine.containers.get(ex.params.id!);
    if (rec.state.status === 'paused')
      throw new ConflictError(`container ${rec.name} is paused, unpause the container before attach`);
    const q = ex.query;
    const want = {
      stdin: boolParam(q, 'stdin'),
      stdout: boolParam(q, 'stdout'),
      stderr: boolParam(q, 'stderr'),
    };
    const tty = rec.config.tty;
    const { input, output } = ex.hijack(tty ? RAW_STREAM : MULTIPLEXED_STREAM);
    const gone = new AbortController();
    (output as NodeJS.EventEmitter).once('close', () => gone.abort(new Error('client went away')));
    let session: AttachSession;
    try {
      session =
        rec.state.status === 'running'
          ? (await engine.containers.attach(rec.id, { stdin: want.stdin })).session
          : await broker.waitForStart(rec.id, { stdin: want.stdin, signal: gone.signal });
    } catch (err) {
      if (!gone.signal.aborted && !tty) output.write(frame(STREAM.systemErr, Buffer.from(String(err))));
      output.end();
      return;
    }
    (output as NodeJS.EventEmitter).once('close', () => session.close());
    const sessionStdin = session.stdin;
    if (want.stdin && sessionStdin) {
      // The monitor may close its end first (the process exited): what the client still sends goes nowhere.
      (sessionStdin as NodeJS.EventEmitter).on('error', () => {});
      input.on('data', (chunk: Buffer) => sessionStdin.write(chunk));
      // The client half-closed: the container's stdin ends, its output goes on.
      input.once('end', () => sessionStdin.end());
    } else {
      input.resume();
    }
    await pumpOutput(output, session, { tty, ...want });
    output.end();
    session.close();
  });

  r.add('POST', '/containers/:id/wait', async (ex) => {
    const condition = parseWaitCondition(ex.query.get('condition'));
    const removedCode = engine.containers.exitCodeOfRemoved(ex.params.id!);
    if (removedCode !== undefined) return ex.json200({ StatusCode: removedCode, Error: null });
    const rec = engine.containers.get(ex.params.id!);
    // Headers now: docker run sends start only once it has them.
    const out = ex.startStream('application/json');
    const gone = new AbortController();
    ex.res.once('close', () => gone.abort(new Error('client went away')));
    try {
      const code = await engine.containers.wait(rec.id, condition, { signal: gone.signal });
      out.end(`${JSON.stringify({ StatusCode: code, Error: null })}\n`);
    } catch (err) {
      if (!gone.signal.aborted)
        out.end(`${JSON.stringify({ StatusCode: -1, Error: { Message: (err as Error).message } })}\n`);
    }
  });

  r.add('GET', '/containers/:id/logs', async (ex) => {
    const rec = engine.containers.get(ex.params.id!);
    const q = ex.query;
    const want = { stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr') };
    if (!want.stdout && !want.stderr) throw new InvalidArgumentError('You must choose at least one stream');
    // docker's Atoi: anything but a number is "all".
    const tailText = q.get('tail') ?? '';
    const since = timeParam(q, 'since');
    const until = timeParam(q, 'until');
    await streamLogs(
      ex,
      (signal) =>
        engine.containers.logs(rec.id, {
          follow: boolParam(q, 'follow'),
          ...(/^\d+$/.test(tailText) ? { tail: Number(tailText) } : {}),
          ...(since !== undefined ? { since } : {}),
          ...(until !== undefined ? { until } : {}),
          timestamps: boolParam(q, 'timestamps'),
          details: boolParam(q, 'details'),
          signal,
        }),
      {
        raw: rec.config.tty,
        ...want,
        encodeError: (err) => `Error grabbing logs: ${(err as Error).message ?? String(err)}\n`,
      },
    );
  });
}
