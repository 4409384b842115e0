import type { DiskFullContext } from '../../core/disk-full.ts';
import type { ProgressEvent } from '../../engine/api/images.ts';
import type { LocalEngine } from '../../engine/local-engine.ts';
import { registryAuthFrom } from '../docker/registry-auth.ts';
import type { Exchange } from '../exchange.ts';
import type { NativeApi } from './operations.ts';
import * as s from './schemas.ts';
import { ndjson } from './stream.ts';
import { parseBody } from './validate.ts';

const P = '/hyperbox/v1/images';

/** Images in the engine's shapes; image names go in queries and bodies (they carry slashes and colons). */
export function nativeImageRoutes(api: NativeApi, engine: LocalEngine): void {
  const i = engine.images;
  api.add(
    { method: 'GET', path: P, summary: 'Image summaries', query: s.ImageListQuery },
    async ({ query }, ex) => ex.json200(await i.list({ all: query.all ?? false })),
  );
  api.add(
    {
      method: 'GET',
      path: `${P}/inspect`,
      summary: 'The record of one image: names, config, size, layers',
      query: s.ImageRefQuery,
    },
    async ({ query }, ex) => ex.json200(await i.inspect(query.ref)),
  );
  api.add(
    {
      method: 'GET',
      path: `${P}/resolve`,
      summary: 'The local image a reference names',
      query: s.ImageRefQuery,
    },
    async ({ query }, ex) => ex.json200(await i.resolve(query.ref)),
  );
  api.add(
    {
      method: 'POST',
      path: `${P}/import`,
      summary: "Import a root file system from a path on the daemon's host",
      body: s.ImageImport,
    },
    async ({ body: { source, ref, ...opts } }, ex) => {
      ex.json200(await i.importRootfs(source, ref, opts), 201);
    },
  );
  api.add(
    {
      method: 'POST',
      path: `${P}/import-stream`,
      summary: 'Import a root file system from a (gzip) tar: the request body',
      query: s.ImageImportStreamQuery,
      consumes: 'application/x-tar',
    },
    async ({ query: q }, ex) => {
      const changes = parseBody(q.changes ?? '[]', s.ImageChanges, 'query field "changes"');
      const opts = {
        changes,
        ...(q.message !== undefined ? { message: q.message } : {}),
        stdin: ex.bodyStream(),
      };
      ex.json200(await i.importRootfs('-', q.ref, opts), 201);
    },
  );
  api.add(
    {
      method: 'POST',
      path: `${P}/load`,
      summary: 'Load a docker or OCI archive (the body)',
      consumes: 'application/x-tar',
    },
    async (_req, ex) => ex.json200(await i.load(ex.bodyStream())),
  );
  api.add(
    {
      method: 'GET',
      path: `${P}/save`,
      summary: 'An archive of images (refs: comma-separated)',
      query: s.ImageSaveQuery,
      produces: 'application/x-tar',
    },
    async ({ query: q }, ex) => {
      // Resolve first: a missing image is a 404, not a broken archive.
      const refs = q.refs.split(',');
      for (const r of refs) await i.resolve(r);
      await i.save(refs, ex.startStream('application/x-tar'), { format: q.format });
    },
  );
  api.add(
    {
      method: 'POST',
      path: `${P}/pull`,
      summary: 'Pull: {"progress": ...} lines, then {"result": ...}',
      body: s.ImagePull,
      produces: 'application/x-ndjson',
    },
    async ({ body: { ref, ...opts } }, ex) => {
      const credentials = registryAuthFrom(ex.req.headers['x-registry-auth']);
      await transfer(ex, engine.containers.layout, (onProgress, signal) =>
        i.pull(ref, { ...opts, ...(credentials ? { credentials } : {}), onProgress, signal }),
      );
    },
  );
  api.add(
    {
      method: 'POST',
      path: `${P}/push`,
      summary: 'Push: {"progress": ...} lines, then {"result": ...}',
      body: s.ImagePush,
      produces: 'application/x-ndjson',
    },
    async ({ body: { ref, ...opts } }, ex) => {
      const credentials = registryAuthFrom(ex.req.headers['x-registry-auth']);
      await transfer(ex, engine.containers.layout, (onProgress) =>
        i.push(ref, { ...opts, ...(credentials ? { credentials } : {}), onProgress }),
      );
    },
  );
  api.add(
    { method: 'POST', path: `${P}/tag`, summary: 'Tag', body: s.ImageTag, produces: 'none' },
    async ({ body: { source, target } }, ex) => {
      await i.tag(source, target);
      ex.noContent();
    },
  );
  api.add(
    { method: 'POST', path: `${P}/remove`, summary: 'Untag or delete', body: s.ImageRemove },
    async ({ body: { ref, force } }, ex) => {
      ex.json200(await i.remove(ref, { force }));
    },
  );
  api.add(
    { method: 'POST', path: `${P}/prune`, summary: 'Remove unused images', body: s.ImagePrune },
    async ({ body }, ex) => ex.json200(await i.prune(body)),
  );
}

/** A pull or push with its progress as NDJSON; the client going away aborts a pull. */
async function transfer(
  ex: Exchange,
  disk: DiskFullContext,
  run: (onProgress: (e: ProgressEvent) => void, signal: AbortSignal) => Promise<unknown>,
): Promise<void> {
  const abort = new AbortController();
  const onClose = () => abort.abort(new Error('client went away'));
  // Removed when the transfer ends: a keep-alive socket would otherwise gather one listener per request.
  ex.req.socket.once('close', onClose);
  const queue: unknown[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  const push = (v: unknown) => {
    queue.push(v);
    wake?.();
  };
  const work = run((e) => push({ progress: e }), abort.signal).then(
    (result) => push({ result }),
    (err) => {
      throw err;
    },
  );
  work
    .finally(() => {
      finished = true;
      wake?.();
    })
    .catch(() => {});
  async function* lines(): AsyncGenerator<unknown> {
    for (;;) {
      while (queue.length) yield queue.shift();
      if (finished) {
        await work; // rethrows the transfer's error
        while (queue.length) yield queue.shift();
        return;
      }
      await new Promise<void>((r) => {
        wake = r;
      });
      wake = undefined;
    }
  }
  try {
    await ndjson(ex, lines(), disk);
  } finally {
    ex.req.socket.off('close', onClose);
  }
}
