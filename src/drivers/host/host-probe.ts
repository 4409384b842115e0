import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { HostProbe } from '../../core/host/prerequisite-report.ts';

/** Searched after $PATH: root's tools (runc, ip, iptables) live in sbin, which a user's PATH often lacks. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** How long a version query may take before the command counts as not running. */
const OUTPUT_TIMEOUT_MS = 5000;

/** The real host, read through /proc, /sys, /lib/modules and short version queries. */
export class LocalHostProbe implements HostProbe {
  readonly #searchPath: string[];

  constructor(opts: { searchPath?: string } = {}) {
    const dirs = (opts.searchPath ?? process.env.PATH ?? '').split(':').filter((d) => d !== '');
    this.#searchPath = [...new Set([...dirs, ...SBIN_DIRS])];
  }

  async which(command: string): Promise<string | undefined> {
    if (command.includes('/')) return (await isExecutable(command)) ? command : undefined;
    for (const dir of this.#searchPath) {
      const candidate = path.join(dir, command);
      if (await isExecutable(candidate)) return candidate;
    }
    return undefined;
  }

  output(file: string, args: string[]): Promise<string | undefined> {
    return new Promise((resolve) => {
      execFile(
        file,
        args,
        {
          timeout: OUTPUT_TIMEOUT_MS,
          encoding: 'utf8',
          maxBuffer: 1 << 20,
          env: { ...process.env, LC_ALL: 'C' },
        },
        (err, stdout, stderr) => {
          // Some tools print their version on stderr, or exit non-zero after printing it (busybox --help).
          const text = `${stdout}${stderr}`;
          if (err && (typeof err.code !== 'number' || text.trim() === '')) resolve(undefined);
          else resolve(text);
        },
      );
    });
  }

  async readText(file: string): Promise<string | undefined> {
    try {
      return await fs.readFile(file, 'utf8');
    } catch {
      return undefined;
    }
  }

  async readHead(file: string, length: number): Promise<Uint8Array | undefined> {
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(file, 'r');
      const buf = new Uint8Array(length);
      const { bytesRead } = await handle.read(buf, 0, length, 0);
      return buf.subarray(0, bytesRead);
    } catch {
      return undefined;
    } finally {
      await handle?.close();
    }
  }

  async exists(file: string): Promise<boolean> {
    try {
      await fs.access(file, constants.F_OK);
      return true;
    } catch {
      return false;
    }
  }

  kernelRelease(): string {
    return os.release();
  }
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) return false;
    await fs.access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
