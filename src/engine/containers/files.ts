import fs from 'node:fs';
import path from 'node:path';
import { STANDARD_HOSTS } from '../../core/network/names.ts';
import type { Layout } from '../../core/paths.ts';

/**
 * Where one container's files live. The container directory is also the OCI bundle (config.json) and holds the
 * monitor's files; the root file system is the overlay mount at `rootfs`.
 */
export interface ContainerPaths {
  dir: string;
  bundle: string;
  rootfs: string;
  upper: string;
  work: string;
  /** k8s-file (conmon writes it; also containers from before log drivers). */
  log: string;
  /** json-file's and local's current files (rotated ones beside them: `.1`, `.2.gz`...). */
  jsonLog: string;
  localLog: string;
  /** The FIFO from conmon to the log writer, the writer's pid file and where it reports errors. */
  logFifo: string;
  logWriterPid: string;
  logWriterErrors: string;
  hosts: string;
  hostname: string;
  resolvConf: string;
  exitFile: string;
}

export function containerPaths(layout: Layout, id: string): ContainerPaths {
  const dir = path.join(layout.containers, id);
  return {
    dir,
    bundle: dir,
    rootfs: path.join(dir, 'rootfs'),
    upper: path.join(dir, 'upper'),
    work: path.join(dir, 'work'),
    log: path.join(dir, 'container.log'),
    jsonLog: path.join(dir, 'container-json.log'),
    localLog: path.join(dir, 'container-local.log'),
    logFifo: path.join(dir, 'log.fifo'),
    logWriterPid: path.join(dir, 'log-writer.pid'),
    logWriterErrors: path.join(dir, 'log-writer.err'),
    hosts: path.join(dir, 'hosts'),
    hostname: path.join(dir, 'hostname'),
    resolvConf: path.join(dir, 'resolv.conf'),
    exitFile: path.join(layout.exits, id),
  };
}

/** The files docker generates for every container: /etc/hosts, /etc/hostname, /etc/resolv.conf. */
export function writeEtcFiles(p: ContainerPaths, opts: { hostname: string; networkMode: string }): void {
  const hosts = [...STANDARD_HOSTS];
  if (opts.networkMode !== 'host') hosts.push(`127.0.1.1\t${opts.hostname}`);
  fs.writeFileSync(p.hosts, `${hosts.join('\n')}\n`);
  fs.writeFileSync(p.hostname, `${opts.hostname}\n`);
  fs.writeFileSync(p.resolvConf, resolvConfFor(opts.networkMode));
}

/** The host's resolvers, minus loopback ones a container cannot reach (as docker filters them). */
function resolvConfFor(networkMode: string): string {
  let host = '';
  try {
    host = fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    // no resolver configured on the host
  }
  if (networkMode === 'host') return host;
  return `${host
    .split('\n')
    .filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l))
    .join('\n')
    .trim()}\n`;
}
