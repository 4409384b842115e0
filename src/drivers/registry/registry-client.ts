import type { Readable } from 'node:stream';
import {
  HyperboxError,
  InvalidArgumentError,
  NotFoundError,
  UnauthenticatedError,
} from '../../core/errors.ts';
import { type Digest, sha256 } from '../../core/image/digest.ts';
import * as j from '../../core/image/json-check.ts';
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MEDIA_TYPE } from '../../core/image/oci.ts';
import type { RegistryEndpoint } from '../../core/registry/endpoint.ts';
import type { BlobSource } from './blob-source.ts';
import { type Action, RegistrySession } from './registry-session.ts';
import { readBody, registryMessage } from './response.ts';
import type { RegistryAuth } from './token-auth.ts';
import type { HttpTransport } from './transport.ts';

export const MANIFEST_ACCEPT = [
  MEDIA_TYPE.ociIndex,
  MEDIA_TYPE.ociManifest,
  MEDIA_TYPE.dockerManifestList,
  MEDIA_TYPE.dockerManifest,
].join(', ');

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

/**
 * A client of one registry (OCI distribution spec / Docker Registry HTTP API v2).: its resources (manifests,
 * blobs, uploads, tags) over a RegistrySession, which finds the scheme, authorizes and maps errors. Documents are
 * returned as bytes plus digest, never trusted: the caller validates them.
 */
export class RegistryClient {
  readonly endpoint: RegistryEndpoint;
  readonly #session: RegistrySession;

  constructor(opts: { endpoint: RegistryEndpoint; transport: HttpTransport; auth: RegistryAuth }) {
    this.endpoint = opts.endpoint;
    this.#session = new RegistrySession(opts);
  }

  /**
   * Checks that the registry accepts us (login): /v2/ with our credentials, through the token flow when the
   * registry uses one. Throws UnauthenticatedError when it refuses.
   */
  async checkLogin(): Promise<void> {
    const { challenge } = await this.#session.ensureBase();
    if (challenge === undefined) return;
    if (!this.#session.hasCredentials) throw new UnauthenticatedError('unauthorized: no credentials');
    const res = await this.#session.send({ method: 'GET', path: '/v2/' }, []);
    res.body.resume();
  }

  async getManifest(repo: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const res = await this.#session.send(
      {
        method: 'GET',
        path: `/v2/${repo}/manifests/${reference}`,
        headers: { accept: MANIFEST_ACCEPT },
        signal,
      },
      [[repo, ['pull']]],
    );
    if (res.status === 404) {
      const body = await readBody(res.body, 64 * 1024);
      throw new NotFoundError(
        `manifest for ${this.endpoint.name}/${repo}${reference.startsWith('sha256:') ? '@' : ':'}${reference} not found: ${registryMessage(body) ?? 'manifest unknown'}`,
      );
    }
    await this.#session.expect(res, [200], `GET manifest ${repo}:${reference}`);
    const bytes = await readBody(res.body, MAX_MANIFEST_BYTES);
    const digest = sha256(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new InvalidArgumentError(
        `manifest ${reference}: content does not match its digest (got ${digest})`,
      );
    }
    const header = res.headers['docker-content-digest'];
    if (typeof header === 'string' && header.startsWith('sha256:') && header !== digest) {
      throw new InvalidArgumentError(
        `manifest ${repo}:${reference}: registry says digest ${header}, content is ${digest}`,
      );
    }
    return { bytes, mediaType: manifestMediaType(bytes, res.headers['content-type']), digest };
  }

  /** The blob's bytes as they arrive; the caller verifies digest and size while it stores them. */
  async getBlob(
    repo: string,
    digest: Digest,
    signal?: AbortSignal,
  ): Promise<{ body: Readable; length?: number }> {
    const res = await this.#session.send({ method: 'GET', path: `/v2/${repo}/blobs/${digest}`, signal }, [
      [repo, ['pull']],
    ]);
    if (res.status === 404) {
      res.body.resume();
      throw new NotFoundError(`blob ${digest} not found in ${this.endpoint.name}/${repo}`);
    }
    await this.#session.expect(res, [200], `GET blob ${digest}`);
    const length = res.headers['content-length'];
    return { body: res.body, ...(length !== undefined ? { length: Number(length) } : {}) };
  }

  /** The size of a blob the repository has, undefined when it has none. */
  async blobSize(repo: string, digest: Digest, actions: Action[] = ['pull']): Promise<number | undefined> {
    const res = await this.#session.send({ method: 'HEAD', path: `/v2/${repo}/blobs/${digest}` }, [
      [repo, actions],
    ]);
    res.body.resume();
    if (res.status === 404) return undefined;
    await this.#session.expect(res, [200], `HEAD blob ${digest}`);
    const length = Number(res.headers['content-length']);
    return Number.isSafeInteger(length) ? length : 0;
  }

  /**
   * Asks the registry to link a blob from another repository (cross-repository mount). True when it did; false
   * when it declined (it then opened an upload, which we cancel).
   */
  async mountBlob(repo: string, digest: Digest, from: string): Promise<boolean> {
    const q = new URLSearchParams({ mount: digest, from });
    const res = await this.#session.send({ method: 'POST', path: `/v2/${repo}/blobs/uploads/?${q}` }, [
      [repo, ['pull', 'push']],
      [from, ['pull']],
    ]);
    res.body.resume();
    if (res.status === 201) return true;
    await this.#session.expect(res, [202], `mount blob ${digest}`);
    const location = res.headers.location;
    if (location) {
      const cancel = await this.#session.send(
        { method: 'DELETE', url: await this.#session.resolve(location) },
        [[repo, ['push']]],
      );
      cancel.body.resume();
    }
    return false;
  }

  /**
   * Uploads a blob: one PUT after the POST when it is at most `chunkSize` bytes, else PATCHes of `chunkSize`
   * with Content-Range, then the closing PUT with the digest. `onProgress` gets the bytes acknowledged so far.
   */
  async uploadBlob(
    repo: string,
    blob: BlobSource,
    opts: { chunkSize: number; onProgress?: (sent: number) => void },
  ): Promise<void> {
    const scopes: Array<[string, Action[]]> = [[repo, ['pull', 'push']]];
    const start = await this.#session.send({ method: 'POST', path: `/v2/${repo}/blobs/uploads/` }, scopes);
    start.body.resume();
    await this.#session.expect(start, [202], `start upload of ${blob.digest}`);
    let location = await this.#session.location(start);
    if (blob.size > opts.chunkSize) {
      for (let offset = 0; offset < blob.size; offset += opts.chunkSize) {
        const end = Math.min(offset + opts.chunkSize, blob.size);
        const res = await this.#session.send(
          {
            method: 'PATCH',
            url: location,
            headers: {
              'content-type': 'application/octet-stream',
              'content-range': `${offset}-${end - 1}`,
              'content-length': String(end - offset),
            },
            body: () => blob.open(offset, end),
          },
          scopes,
        );
        res.body.resume();
        await this.#session.expect(res, [202], `upload chunk ${offset}-${end - 1} of ${blob.digest}`);
        location = await this.#session.location(res);
        opts.onProgress?.(end);
      }
      const put = withQuery(location, { digest: blob.digest });
      const res = await this.#session.send(
        { method: 'PUT', url: put, headers: { 'content-length': '0' } },
        scopes,
      );
      res.body.resume();
      await this.#session.expect(res, [201], `finish upload of ${blob.digest}`);
      return;
    }
    const res = await this.#session.send(
      {
        method: 'PUT',
        url: withQuery(location, { digest: blob.digest }),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
        body: () => blob.open(0, blob.size),
      },
      scopes,
    );
    res.body.resume();
    await this.#session.expect(res, [201], `upload of ${blob.digest}`);
    opts.onProgress?.(blob.size);
  }

  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    const res = await this.#session.send(
      {
        method: 'PUT',
        path: `/v2/${repo}/manifests/${reference}`,
        headers: { 'content-type': mediaType },
        body: bytes,
      },
      [[repo, ['pull', 'push']]],
    );
    res.body.resume();
    await this.#session.expect(res, [201], `PUT manifest ${repo}:${reference}`);
    return sha256(bytes);
  }

  /** Every tag of a repository, following `Link: <...>; rel="next"` pages. */
  async listTags(repo: string): Promise<string[]> {
    const tags: string[] = [];
    let next: URL | undefined = await this.#session.resolve(`/v2/${repo}/tags/list`);
    for (let page = 0; next !== undefined && page < 1000; page++) {
      const res = await this.#session.send({ method: 'GET', url: next }, [[repo, ['pull']]]);
      if (res.status === 404) {
        res.body.resume();
        throw new NotFoundError(`repository ${this.endpoint.name}/${repo} not found`);
      }
      await this.#session.expect(res, [200], `list tags of ${repo}`);
      const o = j.object(j.parseJson(await readBody(res.body, 16 * 1024 * 1024), 'tags list'), 'tags list');
      tags.push(...(j.optionalStringArray(o.tags, 'tags list.tags') ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(String(res.headers.link ?? ''));
      next = link ? await this.#session.resolve(link[1]!) : undefined;
    }
    return tags;
  }
}

function withQuery(url: URL, params: Record<string, string>): URL {
  const out = new URL(url);
  for (const [k, v] of Object.entries(params)) out.searchParams.set(k, v);
  return out;
}

/** The document's own mediaType wins over Content-Type (some registries send text/plain or a charset). */
function manifestMediaType(bytes: Buffer, contentType: string | undefined): string {
  let declared: string | undefined;
  try {
    const m = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
    if (typeof m === 'string') declared = m;
  } catch (err) {
    throw new InvalidArgumentError(`manifest: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const type = declared ?? contentType?.split(';')[0]?.trim() ?? '';
  if (![...INDEX_MEDIA_TYPES, ...MANIFEST_MEDIA_TYPES].includes(type)) {
    if (type.includes('v1+') || type.includes('prettyjws')) {
      throw new InvalidArgumentError(`manifest media type ${type} (Docker schema 1) is not supported`);
    }
    // An OCI document without mediaType: decide by its shape.
    const o = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    if (Array.isArray(o.manifests)) return MEDIA_TYPE.ociIndex;
    if (o.config !== undefined) return MEDIA_TYPE.ociManifest;
    throw new InvalidArgumentError(`unsupported manifest media type ${JSON.stringify(type)}`);
  }
  return type;
}

export function isUnauthenticated(err: unknown): boolean {
  return err instanceof HyperboxError && err.code === 'Unauthenticated';
}
