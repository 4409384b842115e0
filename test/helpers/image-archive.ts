import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { makeTar, type TarEntry } from './image-tar.ts';

/** Builds image archives in memory for tests; every document can be overridden to make it wrong. */
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (d: string) => d.slice('sha256:'.length);

export interface ArchiveSpec {
  layers: Buffer[]; // layer tarballs, uncompressed unless gzipLayers
  repoTags?: string[];
  config?: (config: Record<string, unknown>) => unknown;
  created?: string;
}

function configFor(spec: ArchiveSpec): { bytes: Buffer; diffIds: string[] } {
  const diffIds = spec.layers.map((l) => sha(l[0] === 0x1f ? zlib.gunzipSync(l) : l));
  let config: unknown = {
    architecture: 'amd64',
    os: 'linux',
    created: spec.created ?? '2024-01-02T03:04:05Z',
    config: { Cmd: ['sh'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
  if (spec.config) config = spec.config(config as Record<string, unknown>);
  return { bytes: Buffer.from(JSON.stringify(config)), diffIds };
}

/** Classic docker-archive: <config>.json, <n>/layer.tar, manifest.json, repositories. */
export async function dockerArchive(
  spec: ArchiveSpec & { manifest?: (m: unknown[]) => unknown; extra?: TarEntry[] },
): Promise<Buffer> {
  const { bytes } = configFor(spec);
  const configName = `${hex(sha(bytes))}.json`;
  const layerNames = spec.layers.map((_, i) => `layer${i}/layer.tar`);
  let manifest: unknown = [{ Config: configName, RepoTags: spec.repoTags ?? [], Layers: layerNames }];
  if (spec.manifest) manifest = spec.manifest(manifest as unknown[]);
  return makeTar([
    { name: configName, content: bytes },
    ...spec.layers.map((l, i) => ({ name: layerNames[i]!, content: l })),
    { name: 'manifest.json', content: JSON.stringify(manifest) },
    ...(spec.extra ?? []),
  ]);
}

/** OCI layout archive with one manifest per name (ref.name annotation = the full name, as skopeo writes it). */
export async function ociArchive(
  spec: ArchiveSpec & {
    manifest?: (m: Record<string, unknown>) => unknown;
    index?: (i: Record<string, unknown>) => unknown;
    annotations?: Record<string, string>[];
  },
): Promise<Buffer> {
  const { bytes } = configFor(spec);
  let manifest: unknown = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(bytes), size: bytes.length },
    layers: spec.layers.map((l) => ({
      mediaType:
        l[0] === 0x1f
          ? 'application/vnd.oci.image.layer.v1.tar+gzip'
          : 'application/vnd.oci.image.layer.v1.tar',
      digest: sha(l),
      size: l.length,
    })),
  };
  if (spec.manifest) manifest = spec.manifest(manifest as Record<string, unknown>);
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const descriptor = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: sha(manifestBytes),
    size: manifestBytes.length,
  };
  const annotations =
    spec.annotations ?? (spec.repoTags ?? []).map((t) => ({ 'org.opencontainers.image.ref.name': t }));
  let index: unknown = {
    schemaVersion: 2,
    manifests: annotations.length
      ? annotations.map((a) => ({ ...descriptor, annotations: a }))
      : [descriptor],
  };
  if (spec.index) index = spec.index(index as Record<string, unknown>);
  return makeTar([
    { name: 'oci-layout', content: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { name: 'index.json', content: JSON.stringify(index) },
    { name: 'blobs/', type: 'directory' },
    { name: 'blobs/sha256/', type: 'directory' },
    { name: `blobs/sha256/${hex(sha(bytes))}`, content: bytes },
    { name: `blobs/sha256/${hex(descriptor.digest)}`, content: manifestBytes },
    ...spec.layers.map((l) => ({ name: `blobs/sha256/${hex(sha(l))}`, content: l })),
  ]);
}

export { sha };
