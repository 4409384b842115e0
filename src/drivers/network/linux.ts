import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { InternalError } from '../../core/errors.ts';
import type { Subnet } from '../../core/network/ip.ts';
import { HOST_IF_RE, type NetPlan, type NetStep } from '../../core/network/plan.ts';
import type { PortRequest } from '../../core/network/ports.ts';
import { runCommand } from '../proc/run.ts';
import { Dnsmasq } from './dnsmasq.ts';
import type { DnsServers, NetworkDriver } from './network-driver.ts';

type Runner = (file: string, args: string[], opts?: { input?: string }) => Promise<{ stdout: string }>;

/**
 * The Linux network driver: iproute2 batches (`ip -batch -`, inside a sandbox through `unshare --net=FILE` when the
 * sandbox is new, else `nsenter --net=FILE`), one `iptables-restore --noflush` per run of rule steps, sysctls
 * written to /proc/sys directly. Consecutive steps of a kind share one process.
 */
export class LinuxNetworkDriver implements NetworkDriver {
  readonly hostNetns = `/proc/${process.pid}/ns/net`;
  readonly dns: DnsServers;
  readonly #run: Runner;
  /** Process spawns so far (for the benchmark and tests). */
  spawns = 0;

  constructor(opts: { dnsDir: string; run?: Runner; dnsmasq?: string }) {
    this.#run = opts.run ?? runCommand;
    this.dns = new Dnsmasq({ dir: opts.dnsDir, ...(opts.dnsmasq ? { binary: opts.dnsmasq } : {}) });
  }

  async #exec(file: string, args: string[], input?: string): Promise<string> {
    this.spawns++;
    const r = await this.#run(file, args, input === undefined ? {} : { input });
    return r.stdout;
  }

  async apply(plan: NetPlan, opts: { loose?: boolean } = {}): Promise<void> {
    const loose = opts.loose ?? false;
    const steps = plan.steps;
    let sandboxMade = false;
    for (let i = 0; i < steps.length; ) {
      const s = steps[i]!;
      let j = i + 1;
      while (j < steps.length && sameGroup(s, steps[j]!)) j++;
      const group = steps.slice(i, j);
      i = j;
      try {
        if (s.op === 'ip') {
          const batch = `${group.map((g) => (g as { line: string }).line).join('\n')}\n`;
          const flags = loose ? ['-force', '-batch', '-'] : ['-batch', '-'];
          if (s.ns === 'host') await this.#exec('ip', flags, batch);
          else {
            const sb = plan.sandbox;
            if (!sb) throw new InternalError('plan has sandbox steps but no sandbox');
            if (sb.create && !sandboxMade) {
              fs.mkdirSync(path.dirname(sb.path), { recursive: true, mode: 0o711 });
              fs.writeFileSync(sb.path, '');
              sandboxMade = true;
              await this.#exec('unshare', [`--net=${sb.path}`, 'ip', ...flags], batch);
            } else await this.#exec('nsenter', [`--net=${sb.path}`, 'ip', ...flags], batch);
          }
        } else if (s.op === 'rule') await this.#rules(group as Extract<NetStep, { op: 'rule' }>[], loose);
        else if (s.op === 'sysctl') for (const g of group) sysctl(g as Extract<NetStep, { op: 'sysctl' }>);
        else for (const g of group) await this.#removeSandbox((g as { path: string }).path);
      } catch (err) {
        if (!loose) throw err;
      }
    }
  }

  async #rules(steps: Extract<NetStep, { op: 'rule' }>[], loose: boolean): Promise<void> {
    const text = restoreText(steps);
    try {
      await this.#exec('iptables-restore', ['--noflush', '-w'], text);
    } catch (err) {
      if (!loose) throw err;
      // One rule already gone fails the whole restore: go one by one, ignoring what is missing.
      for (const s of steps) {
        await this.#exec('iptables', ['-w', '-t', s.table, ...s.line.split(' ')]).catch(() => undefined);
      }
    }
  }

  async #removeSandbox(file: string): Promise<void> {
    if (!fs.existsSync(file)) return;
    await this.#exec('umount', [file]).catch(() => undefined);
    fs.rmSync(file, { force: true });
  }

  linkExists(name: string): boolean {
    return fs.existsSync(`/sys/class/net/${name}`);
  }

  hostRoutes(): Subnet[] {
    const out: Subnet[] = [];
    let text = '';
    try {
      text = fs.readFileSync('/proc/net/route', 'utf8');
    } catch {
      return out;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 8) continue;
      const dest = le32(f[1]!);
      const mask = le32(f[7]!);
      out.push({ network: (dest & mask) >>> 0, prefix: popcount(mask) });
    }
    return out;
  }

  async presentChains(): Promise<Set<string>> {
    const out = new Set<string>();
    let table = '';
    for (const line of (await this.#exec('iptables-save', [])).split('\n')) {
      if (line.startsWith('*')) table = line.slice(1);
      const m = /^:(HBX-[A-Z-]+) /.exec(line);
      if (m) out.add(`${table}:${m[1]}`);
    }
    return out;
  }

  hostInterfaces(): string[] {
    try {
      return fs.readdirSync('/sys/class/net').filter((n) => HOST_IF_RE.test(n));
    } catch {
      return [];
    }
  }

  masterOf(name: string): string | undefined {
    try {
      return path.basename(fs.readlinkSync(`/sys/class/net/${name}/master`));
    } catch {
      return undefined;
    }
  }

  async taggedRules(): Promise<{ table: 'nat' | 'filter'; line: string }[]> {
    const out: { table: 'nat' | 'filter'; line: string }[] = [];
    let table = '';
    for (const line of (await this.#exec('iptables-save', [])).split('\n')) {
      if (line.startsWith('*')) table = line.slice(1);
      if (
        (table === 'nat' || table === 'filter') &&
        line.startsWith('-A ') &&
        /--comment "?hbx-(net|ep):/.test(line)
      ) {
        out.push({ table, line: line.replaceAll('"', '') });
      }
    }
    return out;
  }

  portFree(p: PortRequest): Promise<boolean> {
    return new Promise((resolve) => {
      if (p.proto === 'udp') {
        const s = dgram.createSocket('udp4');
        s.once('error', () => resolve(false));
        s.bind({ address: p.hostIp, port: p.hostPort, exclusive: true }, () => s.close(() => resolve(true)));
      } else {
        const s = net.createServer();
        s.once('error', () => resolve(false));
        s.listen({ host: p.hostIp, port: p.hostPort, exclusive: true }, () => s.close(() => resolve(true)));
      }
    });
  }

  hostResolvConf(): string {
    try {
      return fs.readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      return '';
    }
  }
}

function sameGroup(a: NetStep, b: NetStep): boolean {
  if (a.op !== b.op) return false;
  if (a.op === 'ip' && b.op === 'ip') return a.ns === b.ns;
  return true;
}

function restoreText(steps: Extract<NetStep, { op: 'rule' }>[]): string {
  const out: string[] = [];
  let table = '';
  for (const s of steps) {
    if (s.table !== table) {
      if (table) out.push('COMMIT');
      out.push(`*${s.table}`);
      table = s.table;
    }
    out.push(s.line);
  }
  out.push('COMMIT', '');
  return out.join('\n');
}

function sysctl(s: Extract<NetStep, { op: 'sysctl' }>): void {
  const file = `/proc/sys/${s.key}`;
  if (s.raiseOnly && fs.readFileSync(file, 'utf8').trim() !== '0') return;
  fs.writeFileSync(file, s.value);
}

function le32(hex: string): number {
  const v = Number.parseInt(hex, 16);
  return (((v & 255) << 24) | (((v >>> 8) & 255) << 16) | (((v >>> 16) & 255) << 8) | (v >>> 24)) >>> 0;
}

function popcount(v: number): number {
  let n = 0;
  for (let x = v >>> 0; x; x = (x & (x - 1)) >>> 0) n++;
  return n;
}
