import type { VolumeRecord } from './record.ts';

/** docker's Volume object (`volume inspect`, `volume ls`, `GET /volumes`). */
export interface VolumeView {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string>;
}

/** The docker view of a volume record: shared by the CLI and the docker-compatible API. */
export function volumeView(v: VolumeRecord): VolumeView {
  return {
    Name: v.name,
    Driver: v.driver,
    Mountpoint: v.mountpoint,
    // dockerd gives seconds: no fraction.
    CreatedAt: new Date(v.createdAt).toISOString().replace(/\.\d+Z$/, 'Z'),
    Labels: v.labels,
    Scope: 'local',
    Options: v.options,
  };
}
