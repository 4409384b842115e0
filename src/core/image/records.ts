import type { Digest } from './digest.ts';
import type { ImageConfigFile } from './oci.ts';

/** An image in a listing (`images`): what the engine says of each visible image. */
export interface ImageSummary {
  id: Digest;
  repoTags: string[]; // familiar
  repoDigests: string[];
  created: number; // unix seconds from the config, 0 when it has none
  size: number;
  containers: number;
}

/** One image in full (`image inspect`): its names, its config as stored, its size and its unpacked layers. */
export interface ImageDetails {
  id: Digest;
  names: string[]; // normalised tags, sorted
  repoDigests: string[]; // familiar `repository@sha256:...`
  config: ImageConfigFile;
  size: number;
  /** The overlay lower directories, topmost first. */
  lowerDirs: string[];
}
