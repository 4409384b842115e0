import type { Volume } from '../volumes.ts';
import type { Awaitable } from './awaitable.ts';

export interface VolumeEngine {
  create(opts: {
    name?: string;
    driver?: string;
    labels?: Record<string, string>;
    options?: Record<string, string>;
  }): Awaitable<Volume>;
  inspect(name: string): Awaitable<Volume>;
  list(filters?: { dangling?: boolean; name?: string[]; label?: string[] }): Awaitable<Volume[]>;
  remove(name: string, opts?: { force?: boolean }): Awaitable<void>;
  prune(opts?: { all?: boolean }): Awaitable<{ deleted: string[]; spaceReclaimed: number }>;
}
