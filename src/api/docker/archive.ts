import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { LocalEngine } from '../../engine/local-engine.ts';
import type { Exchange } from '../exchange.ts';
import type { Router } from '../router.ts';

/**
 * `docker cp`: HEAD (stat), GET (a tar of a path) and PUT (a tar unpacked into a directory) on /archive. The path
 * is always one inside the container, resolved there (engine/containers/archive.ts): the daemon reads and writes no
 * path of its own host for a copy, the client packs and unpacks its side, as docker's CLI does.
 */
export function archiveRoutes(r: Router, engine: LocalEngine): void {
  const statHeader = (stat: object) => Buffer.from(JSON.stringify(stat)).toString('base64');
  r.add('HEAD', '/containers/:id/archive', async (ex) => {
    const archive = await engine.containers.archive();
    const stat = await archive.stat(ex.params.id!, requiredPath(ex));
    ex.res.setHeader('X-Docker-Container-Path-Stat', statHeader(stat));
    ex.noContent(200);
  });
  r.add('GET', '/containers/:id/archive', async (ex) => {
    const archive = await engine.containers.archive();
    await archive.get(ex.params.id!, requiredPath(ex), async (stat, tar) => {
      ex.res.setHeader('X-Docker-Container-Path-Stat', statHeader(stat));
      ex.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      await pipeline(tar, ex.res);
    });
  });
  r.add('PUT', '/containers/:id/archive', async (ex) => {
    const dir = requiredPath(ex);
    const archive = await engine.containers.archive();
    await archive.put(ex.params.id!, dir, ex.bodyStream() as Readable, {
      noOverwriteDirNonDir: flag(ex, 'noOverwriteDirNonDir'),
      copyUIDGID: flag(ex, 'copyUIDGID'),
    });
    ex.noContent(200);
  });
}

function requiredPath(ex: Exchange): string {
  const p = ex.query.get('path');
  if (!p) throw new InvalidArgumentError('path must be given: the path inside the container');
  return p;
}

/** docker's boolean query values: 1/true/True, anything else (or absent) false. */
function flag(ex: Exchange, name: string): boolean {
  const v = ex.query.get(name);
  return v === '1' || v?.toLowerCase() === 'true';
}
