/** A named volume as the engine knows it: a directory under <root>/volumes/<name>/_data (docker's local driver). */
export interface VolumeRecord {
  name: string;
  driver: string; // always `local`
  mountpoint: string; // the data directory
  createdAt: number; // ms since the epoch
  labels: Record<string, string>;
  options: Record<string, string>;
}

/** Marks volumes made for a `-v /path` without a name: `rm -v` and `volume prune` remove them. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
