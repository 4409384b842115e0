import fs from 'node:fs/promises';
import os from 'node:os';

/** The machine as `hyperbox info` describes it. */
export interface HostSummary {
  kernelVersion: string;
  operatingSystem: string;
  architecture: string;
  cpus: number;
  memTotal: number; // bytes
}

export async function readHostSummary(): Promise<HostSummary> {
  const osRelease = await fs.readFile('/etc/os-release', 'utf8').catch(() => '');
  return {
    kernelVersion: os.release(),
    operatingSystem: prettyName(osRelease) ?? os.type(),
    architecture: os.machine(),
    cpus: os.availableParallelism(),
    memTotal: os.totalmem(),
  };
}

/** PRETTY_NAME from os-release(5), unquoted. */
export function prettyName(osRelease: string): string | undefined {
  const m = /^PRETTY_NAME=(.*)$/m.exec(osRelease);
  if (!m?.[1]) return undefined;
  return m[1].trim().replace(/^(["'])(.*)\1$/, '$2');
}
