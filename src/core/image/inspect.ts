import type { Digest } from './digest.ts';
import type { ImageConfig, ImageConfigFile } from './oci.ts';
import { familiarName } from './reference.ts';

/** `image inspect`, in the shape of docker's API (GET /images/{name}/json). */
export interface ImageInspect {
  Id: Digest;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: DockerContainerConfig;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: 'layers'; Layers: Digest[] };
  Metadata: { LastTagTime: string };
}

/** The container-config object docker shows for an image: the OCI fields plus docker's fixed extras. */
export interface DockerContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Image: string;
  Volumes: Record<string, Record<string, never>> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: null;
  Labels: Record<string, string> | null;
  StopSignal?: string;
}

export function dockerConfig(c: ImageConfig | undefined): DockerContainerConfig {
  const out: DockerContainerConfig = {
    Hostname: '',
    Domainname: '',
    User: c?.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: c?.Env ?? null,
    Cmd: c?.Cmd ?? null,
    Image: '',
    Volumes: c?.Volumes ?? null,
    WorkingDir: c?.WorkingDir ?? '',
    Entrypoint: c?.Entrypoint ?? null,
    OnBuild: null,
    Labels: c?.Labels ?? null,
  };
  if (c?.ExposedPorts) out.ExposedPorts = c.ExposedPorts;
  if (c?.StopSignal) out.StopSignal = c.StopSignal;
  return out;
}

export function inspectImage(opts: {
  id: Digest;
  names: string[];
  config: ImageConfigFile;
  size: number;
  lowerDirs: string[];
}): ImageInspect {
  const c = opts.config;
  const out: ImageInspect = {
    Id: opts.id,
    RepoTags: opts.names.map((n) => familiarName(n)),
    RepoDigests: [],
    Parent: '',
    // docker keeps `docker import --message` in a top-level field; an OCI config only has it in history.
    Comment: c.comment ?? c.history?.at(-1)?.comment ?? '',
    Created: c.created ?? '0001-01-01T00:00:00Z',
    DockerVersion: '',
    Author: c.author ?? '',
    Config: dockerConfig(c.config),
    Architecture: c.architecture,
    Os: c.os,
    Size: opts.size,
    GraphDriver: {
      Name: 'overlay',
      Data: opts.lowerDirs.length > 0 ? { LowerDir: opts.lowerDirs.join(':') } : null,
    },
    RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: '' },
  };
  if (c.variant) out.Variant = c.variant;
  return out;
}
