import { type Digest, hexOf, sha256 } from './digest.ts';
import { ANNOTATION, type Descriptor, type ImageManifest, MEDIA_TYPE } from './oci.ts';
import { familiarName, familiarRepository, parseReference } from './reference.ts';

/**
 * What `save` writes, as a list of archive members (pure: the engine supplies blob files, the writer streams them).
 * Both formats are an OCI image layout (oci-layout, index.json, blobs/sha256/...), with OCI media types so that
 * every OCI reader accepts them. `docker-archive` adds manifest.json and repositories, the way docker 25+ saves:
 * older docker, podman and skopeo read those, and its layers are uncompressed as docker-archive readers expect.
 */
export type ArchiveFormat = 'docker-archive' | 'oci-archive';

export interface SaveLayer {
  descriptor: Descriptor; // as the archive will carry it (uncompressed for docker-archive)
  file: string; // where its bytes are
}

export interface SaveImage {
  id: Digest; // the config digest
  names: string[]; // normalised, tags only
  configFile: string;
  configSize: number;
  layers: SaveLayer[];
}

export type ArchiveMember =
  | { name: string; kind: 'dir' }
  | { name: string; kind: 'bytes'; bytes: Buffer }
  | { name: string; kind: 'file'; file: string; size: number };

const LAYER_TYPES_OCI: Record<string, string> = {
  [MEDIA_TYPE.dockerLayer]: MEDIA_TYPE.ociLayer,
  [MEDIA_TYPE.dockerLayerGzip]: MEDIA_TYPE.ociLayerGzip,
};

/** The same layer descriptor with an OCI media type (docker's v2 types have exact OCI twins). */
export function ociLayerDescriptor(d: Descriptor): Descriptor {
  return { mediaType: LAYER_TYPES_OCI[d.mediaType] ?? d.mediaType, digest: d.digest, size: d.size };
}

export function planArchive(images: readonly SaveImage[], format: ArchiveFormat): ArchiveMember[] {
  const blobs = new Map<string, ArchiveMember>();
  const indexEntries: Descriptor[] = [];
  const dockerManifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const repositories: Record<string, Record<string, string>> = {};
  const blobName = (d: Digest) => `blobs/sha256/${hexOf(d)}`;

  for (const image of images) {
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociManifest,
      config: { mediaType: MEDIA_TYPE.ociConfig, digest: image.id, size: image.configSize },
      layers: image.layers.map((l) => l.descriptor),
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = sha256(manifestBytes);
    blobs.set(blobName(manifestDigest), {
      name: blobName(manifestDigest),
      kind: 'bytes',
      bytes: manifestBytes,
    });
    blobs.set(blobName(image.id), {
      name: blobName(image.id),
      kind: 'file',
      file: image.configFile,
      size: image.configSize,
    });
    for (const l of image.layers) {
      const name = blobName(l.descriptor.digest);
      blobs.set(name, { name, kind: 'file', file: l.file, size: l.descriptor.size });
    }
    const descriptor: Descriptor = {
      mediaType: MEDIA_TYPE.ociManifest,
      digest: manifestDigest,
      size: manifestBytes.length,
    };
    if (image.names.length === 0) indexEntries.push(descriptor);
    for (const name of image.names) {
      const ref = parseReference(name);
      indexEntries.push({
        ...descriptor,
        annotations: { [ANNOTATION.containerdName]: name, [ANNOTATION.refName]: ref.tag ?? 'latest' },
      });
      const top = image.layers.at(-1);
      if (top !== undefined && ref.tag !== undefined) {
        const repo = familiarRepository(ref);
        repositories[repo] = { ...repositories[repo], [ref.tag]: hexOf(top.descriptor.digest) };
      }
    }
    dockerManifest.push({
      Config: blobName(image.id),
      RepoTags: image.names.length > 0 ? image.names.map((n) => familiarName(n)) : null,
      Layers: image.layers.map((l) => blobName(l.descriptor.digest)),
    });
  }

  const json = (name: string, value: unknown): ArchiveMember => ({
    name,
    kind: 'bytes',
    bytes: Buffer.from(JSON.stringify(value)),
  });
  const members: ArchiveMember[] = [
    { name: 'blobs', kind: 'dir' },
    { name: 'blobs/sha256', kind: 'dir' },
    ...[...blobs.values()].sort((a, b) => a.name.localeCompare(b.name)),
    json('index.json', { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: indexEntries }),
    json('oci-layout', { imageLayoutVersion: '1.0.0' }),
  ];
  if (format === 'docker-archive') {
    members.push(json('manifest.json', dockerManifest));
    members.push(json('repositories', repositories));
  }
  return members;
}
