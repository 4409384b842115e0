import type { VolumeRecord } from '../../core/volume/record.ts';
import type { Awaitable } from './awaitable.ts';

export type { VolumeRecord };

export interface VolumeEngine {
  create(opts: {
    name?: string;
    driver?: string;
    labels?: Record<string, string>;
    options?: Record<string, string>;
  }): Awaitable<VolumeRecord>;
  inspect(name: string): Awaitable<VolumeRecord>;
  list(filters?: { dangling?: boolean; name?: string[]; label?: string[] }): Awaitable<VolumeRecord[]>;
  remove(name: string, opts?: { force?: boolean }): Awaitable<void>;
  prune(opts?: { all?: boolean }): Awaitable<{ deleted: string[]; spaceReclaimed: number }>;
}
