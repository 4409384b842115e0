import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { VmFacts } from '../core/vm/views.ts';
import type {
  QemuSnapshot,
  VmCreateRequest,
  VmEngine,
  VmImageEngine,
  VmImageRecord,
  VmRecord,
} from '../engine/api/vms.ts';
import type { ApiClient } from './http.ts';

const V = '/hyperbox/v1/vms';
const enc = encodeURIComponent;

/** VMs over the native routes; the serial log is a byte stream, the console a taken-over connection. */
export class RemoteVms implements VmEngine {
  readonly #api: ApiClient;
  readonly images: VmImageEngine;

  constructor(api: ApiClient) {
    this.#api = api;
    this.images = {
      // The file is read by the daemon, on this same host (unix socket): it travels as an absolute path.
      import: (file, name) =>
        api.json<VmImageRecord>('POST', `${V}/images`, { json: { file: path.resolve(file), name } }),
      list: () => api.json<VmImageRecord[]>('GET', `${V}/images`),
      remove: async (name) => {
        await api.json('DELETE', `${V}/images/${enc(name)}`);
      },
    };
  }

  describeAll(): Promise<VmFacts[]> {
    return this.#api.json('GET', V);
  }
  describe(ref: string): Promise<VmFacts> {
    return this.#api.json('GET', `${V}/${enc(ref)}`);
  }
  create(req: VmCreateRequest): Promise<VmRecord> {
    return this.#api.json('POST', V, { json: req });
  }
  start(ref: string): Promise<VmRecord> {
    return this.#api.json('POST', `${V}/${enc(ref)}/start`);
  }
  stop(ref: string, opts: { timeSeconds?: number } = {}): Promise<VmRecord> {
    return this.#api.json('POST', `${V}/${enc(ref)}/stop`, { json: opts });
  }
  kill(ref: string): Promise<VmRecord> {
    return this.#api.json('POST', `${V}/${enc(ref)}/kill`);
  }
  restart(ref: string, opts: { timeSeconds?: number } = {}): Promise<VmRecord> {
    return this.#api.json('POST', `${V}/${enc(ref)}/restart`, { json: opts });
  }
  async remove(ref: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.#api.json('DELETE', `${V}/${enc(ref)}`, { query: { force: opts.force } });
  }
  resizeDisk(ref: string, bytes: number): Promise<VmRecord> {
    return this.#api.json('POST', `${V}/${enc(ref)}/disk/resize`, { json: { bytes } });
  }
  snapshots(ref: string): Promise<QemuSnapshot[]> {
    return this.#api.json('GET', `${V}/${enc(ref)}/snapshots`);
  }
  async snapshot(ref: string, action: 'create' | 'restore' | 'rm', name: string): Promise<void> {
    const base = `${V}/${enc(ref)}/snapshots`;
    if (action === 'create') await this.#api.json('POST', base, { json: { name } });
    else if (action === 'restore') await this.#api.json('POST', `${base}/${enc(name)}/restore`);
    else await this.#api.json('DELETE', `${base}/${enc(name)}`);
  }

  async *serialLog(ref: string, opts: { follow: boolean; signal?: AbortSignal }): AsyncGenerator<Uint8Array> {
    const res = await this.#api.request('GET', `${V}/${enc(ref)}/logs`, {
      query: { follow: opts.follow },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    for await (const chunk of res as AsyncIterable<Buffer>) yield chunk;
  }

  async console(ref: string): Promise<Duplex> {
    return (await this.#api.upgrade(`${V}/${enc(ref)}/console`)).socket;
  }
}
