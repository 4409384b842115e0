import type { ArchiveFormat } from '../../core/image/archive-save.ts';
import type { Digest } from '../../core/image/digest.ts';
import type { ImageConfig, Platform } from '../../core/image/oci.ts';
import type { ImageDetails, ImageSummary } from '../../core/image/records.ts';
import type { ProgressEvent } from '../../core/registry/progress.ts';

export type { ArchiveFormat, ImageDetails, ImageSummary, ProgressEvent };

/** Images: the local store, archives and registries. */
export interface ImageEngine {
  list(opts?: { all?: boolean }): Promise<ImageSummary[]>;
  /** The image's record; docker's inspect object is `imageInspectView` of it (core/image/views.ts). */
  inspect(ref: string): Promise<ImageDetails>;
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

export interface ResolvedImage {
  id: Digest;
  ref: string; // the normalised name it was found by, or the id
  config: ImageConfig;
  chainIds: Digest[]; // base layer first
  /** What the image's config says it is built for (os, architecture, variant). */
  platform: Platform;
}

/** One step of `rmi` / `image prune`, in docker's words: a name untagged or an image deleted. */
export type DeleteItem = { Untagged: string } | { Deleted: string };

export interface ImportOptions {
  changes: string[];
  message?: string;
  stdin?: NodeJS.ReadableStream;
}

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface PullOptions {
  platform?: string; // os/arch[/variant]; the host's by default
  allTags?: boolean;
  onProgress?: (e: ProgressEvent) => void;
  signal?: AbortSignal;
  /** For this pull only, instead of the stored ones (the docker API's X-Registry-Auth). */
  credentials?: RegistryCredentials;
  /** false: plain HTTP and unverified TLS for this pull (podman's `--tls-verify=false`). */
  tlsVerify?: boolean;
}

export interface PullResult {
  ref: string; // familiar: busybox:latest, host:5000/app@sha256:...
  digest: Digest; // what the registry named: the index's digest for a multi-platform image
  id: Digest;
}

export interface PushOptions {
  onProgress?: (e: ProgressEvent) => void;
  /** For this push only, instead of the stored ones (the docker API's X-Registry-Auth). */
  credentials?: RegistryCredentials;
  /** false: plain HTTP and unverified TLS for this push (podman's `--tls-verify=false`). */
  tlsVerify?: boolean;
}

export interface PushResult {
  digest: Digest; // of the manifest the registry now holds
  size: number; // its bytes
}
