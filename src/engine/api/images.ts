import type { Digest } from '../../core/image/digest.ts';
import type { PullOptions, PullResult } from '../images/pull.ts';
import type { PushOptions, PushResult } from '../images/push.ts';
import type {
  ArchiveFormat,
  DeleteItem,
  ImageInspect,
  ImageSummary,
  ImportOptions,
  ResolvedImage,
} from '../images/service.ts';

/** Images: the local store, archives and registries. */
export interface ImageEngine {
  list(opts?: { all?: boolean }): Promise<ImageSummary[]>;
  inspect(ref: string): Promise<ImageInspect>;
  /** NotFound when nothing local matches (run's pull policy asks this first). */
  resolve(ref: string): Promise<ResolvedImage>;
  importRootfs(source: string, ref: string | undefined, opts: ImportOptions): Promise<{ id: Digest }>;
  load(input: string | NodeJS.ReadableStream): Promise<string[]>;
  save(
    refs: string[],
    output: string | NodeJS.WritableStream,
    opts: { format: ArchiveFormat },
  ): Promise<void>;
  pull(ref: string, opts?: PullOptions): Promise<PullResult>;
  push(ref: string, opts?: PushOptions): Promise<PushResult>;
  tag(source: string, target: string): Promise<void>;
  remove(ref: string, opts: { force: boolean }): Promise<DeleteItem[]>;
  prune(opts: { all: boolean }): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }>;
}
