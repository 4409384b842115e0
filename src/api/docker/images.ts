import type http from 'node:http';
import type { DiskFullContext } from '../../core/disk-full.ts';
import { InvalidArgumentError, NotFoundError } from '../../core/errors.ts';
import { parseImageFilters } from '../../core/image/list-filter.ts';
import { formatReference, normalizeReference } from '../../core/image/reference.ts';
import { imageInspectView, imageSummaryView } from '../../core/image/views.ts';
import type { ProgressEvent } from '../../engine/api/images.ts';
import type { LocalEngine } from '../../engine/local-engine.ts';
import { apiError } from '../errors.ts';
import type { Router } from '../router.ts';
import { asFlags, boolParam, parseFilters } from './filters.ts';
import { registryAuthFrom } from './registry-auth.ts';

/** Images: list, inspect, tag, remove, pull (`create`), push, save (`get`), load. */
export function imageRoutes(r: Router, engine: LocalEngine): void {
  const images = engine.images;

  r.add('GET', '/images/json', async (ex) => {
    const filters = parseImageFilters(asFlags(parseFilters(ex.query.get('filters'))));
    const list = await images.list({ all: boolParam(ex.query, 'all'), filters });
    ex.json200(list.map(imageSummaryView));
  });

  r.add('POST', '/images/create', async (ex) => {
    const from = ex.query.get('fromImage');
    if (!from)
      throw new InvalidArgumentError('fromImage must be given (importing with fromSrc is not supported)');
    const tag = ex.query.get('tag') ?? '';
    const ref = tag === '' ? from : tag.startsWith('sha256:') ? `${from}@${tag}` : `${from}:${tag}`;
    const platform = ex.query.get('platform') || undefined;
    const credentials = registryAuthFrom(ex.req.headers['x-registry-auth']);
    const target = normalizeReference(ref);
    const before = await images.resolve(ref).then(
      (i) => i.id,
      () => undefined,
    );
    const out = ex.startStream('application/json');
    const send = (o: Record<string, unknown>) => out.write(`${JSON.stringify(o)}\n`);
    send({ status: `Pulling from ${target.path}`, id: target.digest ?? target.tag });
    const abort = new AbortController();
    ex.res.once('close', () => abort.abort(new Error('client went away')));
    try {
      const result = await images.pull(ref, {
        ...(platform ? { platform } : {}),
        ...(credentials ? { credentials } : {}),
        onProgress: (e) => send(progressLine(e)),
        signal: abort.signal,
      });
      send({ status: `Digest: ${result.digest}` });
      send({
        status:
          before === result.id
            ? `Status: Image is up to date for ${formatReference(target)}`
            : `Status: Downloaded newer image for ${formatReference(target)}`,
      });
    } catch (err) {
      inBandError(send, err, engine.containers.layout);
    }
    out.end();
  });

  r.add('POST', '/images/load', async (ex) => {
    const names = await images.load(ex.bodyStream());
    const quiet = boolParam(ex.query, 'quiet');
    const out = ex.startStream('application/json');
    for (const n of names) {
      const line = n.startsWith('sha256:') ? `Loaded image ID: ${n}` : `Loaded image: ${n}`;
      out.write(`${JSON.stringify(quiet ? { stream: `${line}\n` } : { stream: `${line}\n` })}\n`);
    }
    out.end();
  });

  r.add('GET', '/images/get', async (ex) => save(ex.res, engine, ex.query.getAll('names')));
  r.add('GET', '/images/*name/get', async (ex) => save(ex.res, engine, [ex.params.name!]));

  r.add('GET', '/images/*name/json', async (ex) => {
    const view = imageInspectView(await images.inspect(ex.params.name!));
    // Go's clients parse these as times: an empty string fails them, the zero time is what dockerd sends.
    const lastTag = view.Metadata?.LastTagTime || '0001-01-01T00:00:00Z';
    ex.json200({
      ...view,
      Created: view.Created || '0001-01-01T00:00:00Z',
      Metadata: { LastTagTime: lastTag },
    });
  });

  r.add('POST', '/images/*name/tag', async (ex) => {
    const repo = ex.query.get('repo');
    if (!repo) throw new InvalidArgumentError('repo must be given: the name to tag the image with');
    const tag = ex.query.get('tag');
    await images.tag(ex.params.name!, tag ? `${repo}:${tag}` : repo);
    ex.noContent(201);
  });

  r.add('POST', '/images/*name/push', async (ex) => {
    const tag = ex.query.get('tag');
    const ref = tag ? `${ex.params.name}:${tag}` : ex.params.name!;
    const target = normalizeReference(ref);
    const credentials = registryAuthFrom(ex.req.headers['x-registry-auth']);
    const out = ex.startStream('application/json');
    const send = (o: Record<string, unknown>) => out.write(`${JSON.stringify(o)}\n`);
    send({ status: `The push refers to repository [${target.domain}/${target.path}]` });
    try {
      const result = await images.push(ref, {
        onProgress: (e) => send(progressLine(e)),
        ...(credentials ? { credentials } : {}),
      });
      send({ status: `${target.tag ?? target.digest}: digest: ${result.digest} size: ${result.size}` });
      // docker's clients read the result from an `aux` message (and print none of it).
      send({ progressDetail: {}, aux: { Tag: target.tag ?? '', Digest: result.digest, Size: result.size } });
    } catch (err) {
      inBandError(send, err, engine.containers.layout);
    }
    out.end();
  });

  r.add('DELETE', '/images/*name', async (ex) => {
    ex.json200(await images.remove(ex.params.name!, { force: boolParam(ex.query, 'force') }));
  });

  r.add('POST', '/images/prune', async (ex) => {
    const filters = parseFilters(ex.query.get('filters'));
    const all = filters.get('dangling')?.includes('false') ?? false;
    const { deleted, spaceReclaimed } = await images.prune({ all });
    ex.json200({ ImagesDeleted: deleted, SpaceReclaimed: spaceReclaimed });
  });
}

/** docker's progress message: `{status, id, progressDetail: {current, total}}`. */
function progressLine(e: ProgressEvent): Record<string, unknown> {
  return {
    status: e.status,
    id: e.id,
    ...(e.current !== undefined ? { progressDetail: { current: e.current, total: e.total ?? 0 } } : {}),
  };
}

/** Once the stream began the status is gone: docker's CLI fails on an in-band `errorDetail`. */
function inBandError(send: (o: Record<string, unknown>) => void, err: unknown, disk: DiskFullContext): void {
  const { message } = apiError(err, disk);
  send({ errorDetail: { message }, error: message });
}

async function save(res: http.ServerResponse, engine: LocalEngine, names: string[]): Promise<void> {
  if (names.length === 0) throw new InvalidArgumentError('names must name at least one image');
  // Resolve first, so a missing image is a 404, not a broken archive.
  for (const n of names)
    await engine.images.resolve(n).catch((err) => {
      throw err instanceof NotFoundError ? err : new NotFoundError(`No such image: ${n}`, { cause: err });
    });
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  await engine.images.save(names, res, { format: 'docker-archive' });
  res.end();
}
