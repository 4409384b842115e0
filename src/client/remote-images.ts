import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { NotImplementedError } from '../core/errors.ts';
import type { Digest } from '../core/image/digest.ts';
import { parseReference } from '../core/image/reference.ts';
import type {
  ArchiveFormat,
  DeleteItem,
  ImageDetails,
  ImageEngine,
  ImageSummary,
  ImportOptions,
  ProgressEvent,
  PullOptions,
  PullResult,
  PushOptions,
  PushResult,
  ResolvedImage,
} from '../engine/api/images.ts';
import { type ApiClient, ndjsonLines } from './http.ts';

const P = '/hyperbox/v1/images';

/** This user's stored login for a registry (`host:5000`, `docker.io`), if any. */
export type StoredLogins = (registry: string) => Promise<{ username: string; password: string } | undefined>;

/** Images over the native routes; archives travel as request and answer bodies, progress as NDJSON. */
export class RemoteImages implements ImageEngine {
  readonly #api: ApiClient;
  readonly #logins: StoredLogins | undefined;
  constructor(api: ApiClient, opts: { logins?: StoredLogins } = {}) {
    this.#api = api;
    this.#logins = opts.logins;
  }

  list(opts: { all?: boolean } = {}): Promise<ImageSummary[]> {
    return this.#api.json('GET', P, { query: { all: opts.all } });
  }
  inspect(ref: string): Promise<ImageDetails> {
    return this.#api.json('GET', `${P}/inspect`, { query: { ref } });
  }
  resolve(ref: string): Promise<ResolvedImage> {
    return this.#api.json('GET', `${P}/resolve`, { query: { ref } });
  }

  /** A path names a file on this host, which is the daemon's (unix socket); `-` sends our stdin as the body. */
  importRootfs(source: string, ref: string | undefined, opts: ImportOptions): Promise<{ id: Digest }> {
    if (source === '-') {
      if (!opts.stdin) throw new NotImplementedError('import from "-" needs a standard input');
      return this.#api.json('POST', `${P}/import-stream`, {
        query: { ref, changes: JSON.stringify(opts.changes), message: opts.message },
        body: opts.stdin,
      });
    }
    return this.#api.json('POST', `${P}/import`, {
      json: {
        source: path.resolve(source),
        ...(ref !== undefined ? { ref } : {}),
        changes: opts.changes,
        ...(opts.message !== undefined ? { message: opts.message } : {}),
      },
    });
  }

  load(input: string | NodeJS.ReadableStream): Promise<string[]> {
    const body = typeof input === 'string' ? fs.createReadStream(input) : input;
    return this.#api.json('POST', `${P}/load`, { body });
  }

  async save(
    refs: string[],
    output: string | NodeJS.WritableStream,
    opts: { format: ArchiveFormat },
  ): Promise<void> {
    const res = await this.#api.request('GET', `${P}/save`, {
      query: { refs: refs.join(','), format: opts.format },
    });
    const out = typeof output === 'string' ? fs.createWriteStream(output) : output;
    await pipeline(res, out, { end: typeof output === 'string' });
  }

  /**
   * The user's stored login for the registry of `ref`, as docker's X-Registry-Auth header (base64url JSON): the
   * daemon uses it for this transfer only and keeps none, as dockerd.
   */
  async #authHeader(ref: string): Promise<Record<string, string>> {
    const login = this.#logins ? await this.#logins(parseReference(ref).domain) : undefined;
    if (!login) return {};
    const auth = JSON.stringify({ username: login.username, password: login.password });
    return { 'X-Registry-Auth': Buffer.from(auth).toString('base64url') };
  }

  async pull(ref: string, opts: PullOptions = {}): Promise<PullResult> {
    const res = await this.#api.request('POST', `${P}/pull`, {
      headers: await this.#authHeader(ref),
      json: {
        ref,
        ...(opts.platform !== undefined ? { platform: opts.platform } : {}),
        ...(opts.allTags !== undefined ? { allTags: opts.allTags } : {}),
        ...(opts.tlsVerify !== undefined ? { tlsVerify: opts.tlsVerify } : {}),
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return transferResult<PullResult>(res, opts.onProgress);
  }

  async push(ref: string, opts: PushOptions = {}): Promise<PushResult> {
    const res = await this.#api.request('POST', `${P}/push`, {
      headers: await this.#authHeader(ref),
      json: { ref, ...(opts.tlsVerify !== undefined ? { tlsVerify: opts.tlsVerify } : {}) },
    });
    return transferResult<PushResult>(res, opts.onProgress);
  }

  async tag(source: string, target: string): Promise<void> {
    await this.#api.json('POST', `${P}/tag`, { json: { source, target } });
  }
  remove(ref: string, opts: { force: boolean }): Promise<DeleteItem[]> {
    return this.#api.json('POST', `${P}/remove`, { json: { ref, force: opts.force } });
  }
  prune(opts: { all: boolean }): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }> {
    return this.#api.json('POST', `${P}/prune`, { json: opts });
  }
}

async function transferResult<T>(
  res: Awaited<ReturnType<ApiClient['request']>>,
  onProgress: ((e: ProgressEvent) => void) | undefined,
): Promise<T> {
  for await (const line of ndjsonLines<{ progress?: ProgressEvent; result?: T }>(res)) {
    if (line.progress) onProgress?.(line.progress);
    if (line.result) return line.result;
  }
  throw new NotImplementedError('the daemon ended the transfer without a result');
}
