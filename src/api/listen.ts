import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { FailedPreconditionError, InvalidArgumentError } from '../core/errors.ts';
import { socketAnswers } from '../drivers/io/socket-answers.ts';

/** The group whose members may use the socket (docker's `docker` group), when it exists. */
export const SOCKET_GROUP = 'hyperbox';

/**
 * Listens on a unix socket: a stale socket file (no daemon answers) is removed, a live one is refused; the socket
 * is created mode 0660 (the umask is tightened around bind, so it is never more open than that), owned by root and
 * group `hyperbox` when that group exists.
 */
export async function listenUnix(server: http.Server, socketPath: string): Promise<void> {
  fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o711 });
  if (fs.existsSync(socketPath)) {
    if (await socketAnswers(socketPath))
      throw new FailedPreconditionError(`another daemon is listening on ${socketPath}`);
    fs.rmSync(socketPath, { force: true });
  }
  const old = process.umask(0o117);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(old);
  }
  fs.chmodSync(socketPath, 0o660);
  const gid = groupId(SOCKET_GROUP);
  if (gid !== undefined) fs.chownSync(socketPath, 0, gid);
}

/** `tcp://host:port` (docker's -H form); plain TCP is refused by the caller unless mutual TLS is on. */
export function parseTcpAddress(address: string): { host: string; port: number } {
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(address);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
    throw new InvalidArgumentError(`invalid --host "${address}": want tcp://HOST:PORT`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export async function listenTcp(server: http.Server, addr: { host: string; port: number }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function groupId(name: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/etc/group', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}
