import fs from 'node:fs';
import os from 'node:os';
import { installRoot } from '../../wiring/self.ts';

/** The Engine API version advertised: docker CLI 28 negotiates down to it (it speaks up to 1.50). */
export const API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';

let cached: string | undefined;

/** hyperbox's own version (package.json). */
export function hyperboxVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(fs.readFileSync(`${installRoot()}/package.json`, 'utf8')) as {
        version?: unknown;
      };
      cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}

/** `Server: hyperbox/<ver> (linux)`: docker stats reads the OS from the parenthesis. */
export function serverHeader(): string {
  return `hyperbox/${hyperboxVersion()} (linux)`;
}

export function versionView(): Record<string, unknown> {
  const arch = os.arch() === 'x64' ? 'amd64' : os.arch();
  return {
    Platform: { Name: 'hyperbox' },
    Components: [
      {
        Name: 'Engine',
        Version: hyperboxVersion(),
        Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: arch },
      },
    ],
    Version: hyperboxVersion(),
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: `node ${process.version}`,
    Os: 'linux',
    Arch: arch,
    KernelVersion: os.release(),
    BuildTime: '',
  };
}
