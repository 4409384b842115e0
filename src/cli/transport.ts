import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { InvalidArgumentError, UnavailableError } from '../core/errors.ts';
import type { Layout } from '../core/paths.ts';

export type Transport = { kind: 'local' } | { kind: 'remote'; socketPath: string };

/** How long a probe of the default socket may take before we decide no daemon is there. */
const PROBE_TIMEOUT_MS = 500;

/**
 * Where the CLI's engine lives: the daemon named by --host or HYPERBOX_HOST (which must answer); else the daemon on
 * the default socket `<run root>/hyperbox.sock` when one answers there; else in-process. A stale socket file (no
 * daemon) means in-process, as after a daemon crash.
 */
export async function chooseTransport(opts: {
  host: string | undefined;
  env: NodeJS.ProcessEnv;
  layout: Layout;
}): Promise<Transport> {
  const named = opts.host ?? (opts.env.HYPERBOX_HOST || undefined);
  if (named !== undefined) {
    const socketPath = parseHost(named);
    if (!(await answers(socketPath)))
      throw new UnavailableError(
        `cannot connect to the hyperbox daemon at unix://${socketPath}: is it running?`,
      );
    return { kind: 'remote', socketPath };
  }
  const socketPath = opts.layout.daemonSocket;
  if (fs.existsSync(socketPath) && (await answers(socketPath))) return { kind: 'remote', socketPath };
  return { kind: 'local' };
}

/** `unix:///run/hyperbox/hyperbox.sock` (docker's form) or a plain absolute path. */
export function parseHost(host: string): string {
  const p = host.startsWith('unix://') ? host.slice('unix://'.length) : host;
  if (!path.isAbsolute(p))
    throw new InvalidArgumentError(
      `invalid host "${host}": want unix:///ABSOLUTE/PATH (TCP is not supported here)`,
    );
  return p;
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
