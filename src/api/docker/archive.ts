import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError } from '../../core/errors.ts';
import type { LocalEngine } from '../../engine/engine.ts';
import type { Exchange } from '../exchange.ts';
import type { Router } from '../router.ts';

/** `docker cp`: HEAD (stat), GET (a tar of a path) and PUT (a tar unpacked into a directory) on /archive. */
export function archiveRoutes(r: Router, engine: LocalEngine): void {
  const statHeader = (stat: object) => Buffer.from(JSON.stringify(stat)).toString('base64');
  const get = (statOnly: boolean) => async (ex: Exchange) => {
    const file = requiredPath(ex);
    const { archiveFromContainer } = await import('../../engine/container-copy.ts');
    await archiveFromContainer(
      engine.containers,
      ex.params.id!,
      file,
      async (stat, tar) => {
        ex.res.setHeader('X-Docker-Container-Path-Stat', statHeader(stat));
        if (!tar) return ex.noContent(200);
        ex.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
        await pipeline(tar, ex.res);
      },
      { statOnly },
    );
  };
  r.add('HEAD', '/containers/:id/archive', get(true));
  r.add('GET', '/containers/:id/archive', get(false));
  r.add('PUT', '/containers/:id/archive', async (ex) => {
    const dir = requiredPath(ex);
    const { extractIntoContainer } = await import('../../engine/container-copy.ts');
    await extractIntoContainer(engine.containers, ex.params.id!, dir, ex.bodyStream());
    ex.noContent(200);
  });
}

function requiredPath(ex: Exchange): string {
  const p = ex.query.get('path');
  if (!p) throw new InvalidArgumentError('path must be given: the path inside the container');
  return p;
}
