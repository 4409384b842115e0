import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Digest, sha256 } from '../../../core/image/digest.ts';
import { MEDIA_TYPE } from '../../../core/image/oci.ts';
import { type FakeAuthOptions, FakeRegistryAuth } from './fake-auth.ts';
import { error, json, readAll } from './replies.ts';
import type { TestImage } from './test-images.ts';

/**
 * An in-process registry on 127.0.0.1 for tests: the Distribution API subset hyperbox speaks (manifests by tag and
 * digest, blobs with redirects, monolithic and chunked uploads, cross-repository mounts, tag lists), Basic or
 * Bearer auth with a token endpoint, and faults on demand (status codes with Retry-After, corrupt or short
 * blobs). Every request is logged so that tests can say what went over the wire. Not for production: everything
 * lives in memory.
 */
export interface FakeRegistryOptions {
  auth?: FakeAuthOptions;
  /** Blob GETs answer 307 to a second path, as registries backed by object storage do. */
  redirectBlobs?: boolean;
}

export interface LoggedRequest {
  method: string;
  path: string; // with query
  authorization?: string;
}

interface Fault {
  match: (method: string, path: string) => boolean;
  status: number;
  times: number;
  retryAfter?: string;
}

interface Repo {
  blobs: Set<Digest>;
  manifests: Map<string, { bytes: Buffer; mediaType: string }>; // by tag and by digest
}

export class FakeRegistry {
  readonly log: LoggedRequest[] = [];
  readonly #opts: FakeRegistryOptions;
  readonly #server: http.Server;
  readonly #blobs = new Map<Digest, Buffer>();
  readonly #repos = new Map<string, Repo>();
  readonly #uploads = new Map<string, { repo: string; chunks: Buffer[]; size: number }>();
  readonly #auth: FakeRegistryAuth;
  readonly #faults: Fault[] = [];
  readonly #served = new Map<Digest, Buffer>(); // what GET returns instead of the real bytes
  readonly #stalled = new Set<Digest>();

  private constructor(opts: FakeRegistryOptions) {
    this.#opts = opts;
    this.#auth = new FakeRegistryAuth(opts.auth, () => this.host);
    this.#server = http.createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  }

  static async start(opts: FakeRegistryOptions = {}): Promise<FakeRegistry> {
    const r = new FakeRegistry(opts);
    await new Promise<void>((resolve) => r.#server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  /** `127.0.0.1:<port>`: the registry part of references. */
  get host(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** How many times a client asked the token endpoint. */
  get tokenRequests(): number {
    return this.#auth.tokenRequests;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- test controls

  /** The next `times` requests matching answer `status` (with Retry-After when given). */
  fail(
    match: RegExp | ((method: string, path: string) => boolean),
    status: number,
    times = 1,
    retryAfter?: string,
  ): void {
    const m = match instanceof RegExp ? (method: string, p: string) => match.test(`${method} ${p}`) : match;
    this.#faults.push({ match: m, status, times, ...(retryAfter !== undefined ? { retryAfter } : {}) });
  }

  /** GET of this blob returns `bytes` instead (a corrupt or truncated blob). */
  serveInstead(digest: Digest, bytes: Buffer): void {
    this.#served.set(digest, bytes);
  }

  /** GET of this blob sends half of it and then hangs (to kill a client in the middle of a download). */
  stall(digest: Digest, on = true): void {
    if (on) this.#stalled.add(digest);
    else this.#stalled.delete(digest);
  }

  putBlob(repo: string, bytes: Buffer): Digest {
    const digest = sha256(bytes);
    this.#blobs.set(digest, bytes);
    this.#repo(repo).blobs.add(digest);
    return digest;
  }

  hasBlob(repo: string, digest: Digest): boolean {
    return this.#repos.get(repo)?.blobs.has(digest) ?? false;
  }

  blob(digest: Digest): Buffer | undefined {
    return this.#blobs.get(digest);
  }

  putManifest(repo: string, tag: string | undefined, bytes: Buffer, mediaType: string): Digest {
    const digest = sha256(bytes);
    const r = this.#repo(repo);
    r.manifests.set(digest, { bytes, mediaType });
    if (tag !== undefined) r.manifests.set(tag, { bytes, mediaType });
    return digest;
  }

  manifest(repo: string, reference: string): { bytes: Buffer; mediaType: string } | undefined {
    return this.#repos.get(repo)?.manifests.get(reference);
  }

  /** Stores an image built by `buildImage`; returns its manifest digest. */
  publish(repo: string, tag: string | undefined, image: TestImage): Digest {
    for (const b of image.blobs) this.putBlob(repo, b);
    return this.putManifest(repo, tag, image.manifest, image.manifestMediaType);
  }

  /** Stores several images under one index (OCI) or manifest list (docker); returns the index digest. */
  publishIndex(repo: string, tag: string, images: TestImage[], kind: 'oci' | 'docker' = 'oci'): Digest {
    const manifests = images.map((img) => {
      const digest = this.publish(repo, undefined, img);
      return { mediaType: img.manifestMediaType, digest, size: img.manifest.length, platform: img.platform };
    });
    const mediaType = kind === 'oci' ? MEDIA_TYPE.ociIndex : MEDIA_TYPE.dockerManifestList;
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests }));
    return this.putManifest(repo, tag, index, mediaType);
  }

  // ---------------------------------------------------------------- HTTP

  #repo(name: string): Repo {
    let r = this.#repos.get(name);
    if (!r) {
      r = { blobs: new Set(), manifests: new Map() };
      this.#repos.set(name, r);
    }
    return r;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<undefined> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    const body = await readAll(req);
    this.log.push({
      method,
      path: `${url.pathname}${url.search}`,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    res.setHeader('docker-distribution-api-version', 'registry/2.0');
    const fault = this.#faults.find((f) => f.times > 0 && f.match(method, `${url.pathname}${url.search}`));
    if (fault) {
      fault.times--;
      if (fault.retryAfter !== undefined) res.setHeader('retry-after', fault.retryAfter);
      return error(res, fault.status, 'UNAVAILABLE', 'injected fault');
    }
    if (url.pathname === '/token') return this.#auth.token(req, url, res);
    if (url.pathname.startsWith('/_data/'))
      return this.#sendBlob(res, method, url.pathname.slice(7) as Digest);
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      if (!this.#auth.authorized(req, res, undefined, 'pull')) return;
      return json(res, 200, {});
    }
    const m = /^\/v2\/(.+?)\/(manifests|blobs|tags)\/(.*)$/.exec(url.pathname);
    if (!m) return error(res, 404, 'NOT_FOUND', 'no such route');
    const [, repo, kind, rest] = m as unknown as [string, string, string, string];
    const action = method === 'GET' || method === 'HEAD' ? 'pull' : 'push';
    if (!this.#auth.authorized(req, res, repo, action)) return;
    if (kind === 'tags') {
      const r = this.#repos.get(repo);
      if (!r) return error(res, 404, 'NAME_UNKNOWN', 'repository name not known to registry');
      const tags = [...r.manifests.keys()].filter((k) => !k.startsWith('sha256:')).sort();
      return json(res, 200, { name: repo, tags });
    }
    if (kind === 'manifests') return this.#manifests(method, repo, rest, body, req, res);
    if (rest.startsWith('uploads'))
      return this.#uploadsRoute(
        method,
        repo,
        rest.slice('uploads'.length).replace(/^\//, ''),
        url,
        body,
        req,
        res,
      );
    const digest = rest as Digest;
    if (!this.#repos.get(repo)?.blobs.has(digest))
      return error(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
    if (method === 'GET' && this.#opts.redirectBlobs) {
      res.writeHead(307, { location: `/_data/${digest}` });
      return void res.end();
    }
    return this.#sendBlob(res, method, digest);
  }

  #sendBlob(res: http.ServerResponse, method: string, digest: Digest): undefined {
    const bytes = this.#blobs.get(digest);
    if (!bytes) return error(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
    const served = method === 'GET' ? (this.#served.get(digest) ?? bytes) : bytes;
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(method === 'HEAD' ? bytes.length : served.length),
      'docker-content-digest': digest,
    });
    if (method === 'GET' && this.#stalled.has(digest)) {
      res.write(served.subarray(0, served.length >> 1));
      return;
    }
    res.end(method === 'HEAD' ? undefined : served);
  }

  #manifests(
    method: string,
    repo: string,
    ref: string,
    body: Buffer,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): undefined {
    if (method === 'PUT') {
      const mediaType = String(req.headers['content-type'] ?? '');
      let doc: {
        layers?: Array<{ digest: Digest }>;
        config?: { digest: Digest };
        manifests?: Array<{ digest: Digest }>;
      };
      try {
        doc = JSON.parse(body.toString('utf8'));
      } catch {
        return error(res, 400, 'MANIFEST_INVALID', 'manifest invalid');
      }
      const r = this.#repo(repo);
      const needed = [...(doc.layers ?? []), ...(doc.config ? [doc.config] : [])].map((d) => d.digest);
      const missing = needed.find((d) => !r.blobs.has(d));
      if (missing) return error(res, 400, 'MANIFEST_BLOB_UNKNOWN', `blob unknown to registry: ${missing}`);
      const digest = this.putManifest(repo, ref.startsWith('sha256:') ? undefined : ref, body, mediaType);
      res.writeHead(201, { location: `/v2/${repo}/manifests/${digest}`, 'docker-content-digest': digest });
      return void res.end();
    }
    const found = this.#repos.get(repo)?.manifests.get(ref);
    if (!found) return error(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
    res.writeHead(200, {
      'content-type': found.mediaType,
      'content-length': String(found.bytes.length),
      'docker-content-digest': sha256(found.bytes),
    });
    res.end(method === 'HEAD' ? undefined : found.bytes);
  }

  #uploadsRoute(
    method: string,
    repo: string,
    id: string,
    url: URL,
    body: Buffer,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): undefined {
    if (method === 'POST' && id === '') {
      const mount = url.searchParams.get('mount') as Digest | null;
      const from = url.searchParams.get('from');
      if (mount && from && this.#repos.get(from)?.blobs.has(mount)) {
        this.#repo(repo).blobs.add(mount);
        res.writeHead(201, { location: `/v2/${repo}/blobs/${mount}`, 'docker-content-digest': mount });
        return void res.end();
      }
      const uuid = randomUUID();
      this.#uploads.set(uuid, { repo, chunks: [], size: 0 });
      res.writeHead(202, {
        location: `/v2/${repo}/blobs/uploads/${uuid}?_state=s`,
        range: '0-0',
        'docker-upload-uuid': uuid,
      });
      return void res.end();
    }
    const upload = this.#uploads.get(id);
    if (!upload || upload.repo !== repo) return error(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown');
    if (url.searchParams.get('_state') !== 's') return error(res, 400, 'BLOB_UPLOAD_INVALID', 'state lost');
    if (method === 'DELETE') {
      this.#uploads.delete(id);
      return void res.writeHead(204).end();
    }
    if (method === 'PATCH') {
      const range = /^(\d+)-(\d+)$/.exec(String(req.headers['content-range'] ?? ''));
      if (
        range &&
        (Number(range[1]) !== upload.size || Number(range[2]) - Number(range[1]) + 1 !== body.length)
      ) {
        return error(res, 416, 'BLOB_UPLOAD_INVALID', 'range mismatch');
      }
      upload.chunks.push(body);
      upload.size += body.length;
      res.writeHead(202, {
        location: `/v2/${repo}/blobs/uploads/${id}?_state=s`,
        range: `0-${upload.size - 1}`,
      });
      return void res.end();
    }
    if (method === 'PUT') {
      upload.chunks.push(body);
      const bytes = Buffer.concat(upload.chunks);
      const digest = url.searchParams.get('digest');
      if (sha256(bytes) !== digest)
        return error(res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content');
      this.#uploads.delete(id);
      this.putBlob(repo, bytes);
      res.writeHead(201, { location: `/v2/${repo}/blobs/${digest}`, 'docker-content-digest': digest });
      return void res.end();
    }
    return error(res, 405, 'UNSUPPORTED', 'method not allowed');
  }
}
