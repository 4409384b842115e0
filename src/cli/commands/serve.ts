import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors.ts';
import { mark } from '../../core/trace.ts';
import type { CliContext } from '../context.ts';

interface ServeFlags {
  socket?: string;
  host: string[];
  tlsVerify: boolean;
  tlsCacert?: string;
  tlsCert?: string;
  tlsKey?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * `hyperbox serve`: the daemon. docker's Engine API on `<run root>/hyperbox.sock` (and on TCP only with mutual TLS).
 * Containers run under their own monitors and outlive it: stopping or killing the daemon touches none of them, and
 * a new daemon re-adopts them: it listens at once and reconciles in the background (engine/reconcile.ts).
 */
export function registerServeCommand(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('Run the hyperbox daemon: the docker-compatible Engine API on a unix socket')
    .option('--socket <path>', 'unix socket to listen on (default <run root>/hyperbox.sock)')
    .option('-H, --host <address>', 'also listen on tcp://HOST:PORT (needs --tls-verify)', collect, [])
    .option('--tls-verify', 'TCP: require client certificates signed by --tls-cacert (mutual TLS)', false)
    .option('--tls-cacert <file>', 'CA that signs client certificates')
    .option('--tls-cert <file>', "the server's certificate")
    .option('--tls-key <file>', "the server's key")
    .action(async (flags: ServeFlags) => {
      const tcp = tcpSettings(flags);
      const layout = ctx.layout();
      const socketPath = path.resolve(flags.socket ?? layout.daemonSocket);
      // As dockerd: no stored login is read; clients send theirs with each pull and push (X-Registry-Auth). The
      // daemon reconciles behind its gate once it listens.
      const engine = await ctx.localEngine({ storedLogins: false, reconcile: false });
      const { createApiServer, stopApiServer } = await import('../../api/server.ts');
      const { listenTcp, listenUnix, parseTcpAddress } = await import('../../api/listen.ts');
      const { watchExits, watchVms } = await import('../../engine/exit-watcher.ts');
      const { ReconcileGate } = await import('../../engine/reconcile-gate.ts');
      const { reconcileEngine } = await import('../../engine/reconcile.ts');
      // Listen first, reconcile behind the gate, and a request waits only for what it touches (after a crash,
      // reconciling everything first kept the socket silent for as long as it took).
      const gate = new ReconcileGate();
      const servers = [createApiServer({ engine, gate })];
      await listenUnix(servers[0]!, socketPath);
      mark('serve: listening');
      // No await between the listen and this: what needs reconciling is marked pending (synchronously) before the
      // first request is handled.
      void reconcileEngine(engine, gate).then(
        () => mark('serve: reconciled'),
        (err: unknown) =>
          ctx.stderr.write(
            `hyperbox: reconcile at start failed (the next one runs within 15 s): ${String(err)}\n`,
          ),
      );
      if (tcp) {
        for (const address of flags.host) {
          const server = createApiServer({ engine, tls: tcp, gate });
          servers.push(server);
          await listenTcp(server, parseTcpAddress(address));
        }
      }
      const stopWatchingExits = watchExits(engine.containers, layout.exits, gate);
      const stopWatchingVms = watchVms(engine.vms, gate);
      // One connection's failure must not take the daemon (and every client) down: log it and go on.
      process.on('uncaughtException', (err) => {
        ctx.stderr.write(`hyperbox: unexpected error (serving on): ${err.stack ?? String(err)}\n`);
      });
      ctx.stderr.write(
        `hyperbox: serving the Engine API on unix://${socketPath}${flags.host.map((h) => ` and ${h} (mutual TLS)`).join('')}\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      // Shut down the server only: containers keep running under their monitors (a reconcile still under way is cut
      // short like any other work: the next engine finishes it).
      stopWatchingExits();
      stopWatchingVms();
      await Promise.all(servers.map(stopApiServer));
      fs.rmSync(socketPath, { force: true });
      ctx.stderr.write('hyperbox: daemon stopped; containers keep running\n');
    });
}

function tcpSettings(flags: ServeFlags): { ca: Buffer; cert: Buffer; key: Buffer } | undefined {
  if (flags.host.length === 0) return undefined;
  if (!flags.tlsVerify || !flags.tlsCacert || !flags.tlsCert || !flags.tlsKey) {
    throw new InvalidArgumentError(
      `refusing to listen on ${flags.host[0]} without mutual TLS: give --tls-verify --tls-cacert --tls-cert --tls-key`,
    );
  }
  const read = (file: string, flag: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new InvalidArgumentError(
        `${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
  };
  return {
    ca: read(flags.tlsCacert, '--tls-cacert'),
    cert: read(flags.tlsCert, '--tls-cert'),
    key: read(flags.tlsKey, '--tls-key'),
  };
}
