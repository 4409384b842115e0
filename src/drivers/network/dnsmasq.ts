import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { UnavailableError } from '../../core/errors.ts';
import type { DnsServers } from './network-driver.ts';

/**
 * dnsmasq per network: `<dir>/<network id>/{hosts,dnsmasq.pid}`. Names come from the hosts file (rewritten, then
 * SIGHUP); other names go to the host's resolvers. Stopped by the pid in the pid file, checked against
 * /proc/<pid>/cmdline so a recycled pid is never signalled.
 */
export class Dnsmasq implements DnsServers {
  readonly #dir: string;
  readonly #binary: string;

  constructor(opts: { dir: string; binary?: string }) {
    this.#dir = opts.dir;
    this.#binary = opts.binary ?? '/usr/sbin/dnsmasq';
  }

  #files(id: string): { dir: string; hosts: string; pid: string } {
    const dir = path.join(this.#dir, id);
    return { dir, hosts: path.join(dir, 'hosts'), pid: path.join(dir, 'dnsmasq.pid') };
  }

  /** The live pid of a network's server, if it runs. */
  pid(id: string): number | undefined {
    const f = this.#files(id);
    let pid: number;
    try {
      pid = Number(fs.readFileSync(f.pid, 'utf8').trim());
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes(f.pid)) return undefined;
    } catch {
      return undefined;
    }
    return pid;
  }

  async update(
    net: { id: string; gateway: string },
    hosts: string,
    upstream: readonly string[],
  ): Promise<void> {
    const f = this.#files(net.id);
    fs.mkdirSync(f.dir, { recursive: true, mode: 0o755 });
    const tmp = `${f.hosts}.${process.pid}.tmp`; // several processes may rewrite it at once
    fs.writeFileSync(tmp, hosts, { mode: 0o644 });
    fs.renameSync(tmp, f.hosts);
    const pid = this.pid(net.id);
    if (pid !== undefined) {
      process.kill(pid, 'SIGHUP');
      return;
    }
    const args = [
      '--conf-file=/dev/null',
      `--pid-file=${f.pid}`,
      `--listen-address=${net.gateway}`,
      '--bind-interfaces',
      '--except-interface=lo',
      '--no-hosts',
      `--addn-hosts=${f.hosts}`,
      '--no-resolv',
      '--no-poll',
      '--domain-needed',
      '--user=root',
      '--group=root',
      ...upstream.map((s) => `--server=${s}`),
    ];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(this.#binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      child.on('error', (e) =>
        reject(new UnavailableError(`cannot start dnsmasq: ${e.message}`, { cause: e })),
      );
      // dnsmasq daemonizes: the parent exits once the server is bound and the pid file written.
      child.on('exit', (code) =>
        code === 0
          ? resolve()
          : reject(new UnavailableError(`dnsmasq for ${net.gateway} failed (exit ${code}): ${err.trim()}`)),
      );
    });
  }

  stop(id: string): void {
    const f = this.#files(id);
    const pid = this.pid(id);
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    fs.rmSync(f.dir, { recursive: true, force: true });
  }

  known(): string[] {
    try {
      return fs.readdirSync(this.#dir);
    } catch {
      return [];
    }
  }
}
