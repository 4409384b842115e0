import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { InternalError } from '../../core/errors.ts';

/**
 * Node can neither mknod(2) nor set extended attributes, so these spawn coreutils' `mknod` and attr's `setfattr`,
 * batched: one shell for many nodes, one `setfattr --restore` for many attributes.
 */
export interface NodeSpec {
  path: string;
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
}

export interface XattrSpec {
  path: string;
  name: string;
  value: Buffer;
}

const BATCH = 500;
const MKNOD_SCRIPT =
  'while [ $# -gt 0 ]; do if [ "$2" = p ]; then mknod -- "$1" p || exit 1; ' +
  'else mknod -- "$1" "$2" "$3" "$4" || exit 1; fi; shift 4; done';

export async function makeNodes(nodes: readonly NodeSpec[]): Promise<void> {
  for (let i = 0; i < nodes.length; i += BATCH) {
    const args = nodes.slice(i, i + BATCH).flatMap((n) => [n.path, n.type, String(n.major), String(n.minor)]);
    await run('sh', ['-c', MKNOD_SCRIPT, 'sh', ...args], 'mknod');
  }
}

/** Never dereferences: attributes land on the named entry itself. */
export async function setXattrs(items: readonly XattrSpec[], scratchDir: string): Promise<void> {
  if (items.length === 0) return;
  let dump = '';
  for (const x of items) dump += `# file: ${escapePath(x.path)}\n${x.name}=0x${x.value.toString('hex')}\n\n`;
  const file = path.join(scratchDir, `xattrs-${process.pid}-${Date.now()}`);
  await fs.writeFile(file, dump, { mode: 0o600 });
  try {
    await run('setfattr', ['-h', `--restore=${file}`], 'setfattr');
  } finally {
    await fs.rm(file, { force: true });
  }
}

/** getfattr's escaping: octal for bytes that are not printable ASCII, for "\\", and for the line breaks. */
export function escapePath(p: string): string {
  let out = '';
  for (const byte of Buffer.from(p, 'utf8')) {
    out +=
      byte < 0x21 || byte > 0x7e || byte === 0x5c
        ? `\\${byte.toString(8).padStart(3, '0')}`
        : String.fromCharCode(byte);
  }
  return out;
}

function run(cmd: string, args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.on('error', (err) =>
      reject(
        new InternalError(`${what}: cannot run ${cmd}: ${err.message} (is it installed?)`, { cause: err }),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new InternalError(`${what} failed (exit ${code}): ${stderr.trim()}`));
    });
  });
}
