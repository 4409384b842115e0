import { InvalidArgumentError } from '../errors.ts';
import { type Digest, hexOf, sha256 } from './digest.ts';
import { parseJson } from './json-check.ts';
import {
  ANNOTATION,
  type Descriptor,
  type ImageConfigFile,
  type ImageManifest,
  INDEX_MEDIA_TYPES,
  MEDIA_TYPE,
  type Platform,
} from './oci.ts';
import { matchesPlatform } from './platform.ts';
import { normalizeName, parseReference } from './reference.ts';
import {
  parseConfigFile,
  parseDockerArchiveManifest,
  parseIndex,
  parseManifest,
  parseOciLayout,
} from './validate.ts';

/**
 * Interprets an unpacked image archive, in either format, as a list of images to store. The archive's files come
 * through `ArchiveFiles` (already hashed), so this module only reads and checks documents:
 *
 * - docker-archive (`docker save`, `podman save`): manifest.json lists Config, RepoTags and Layers by member path.
 *   No manifest blob exists, so an OCI manifest is written for it.
 * - OCI layout (`oci-layout` + index.json + blobs/sha256/...), which is also what docker 25+ saves (next to a
 *   manifest.json). Names come from `io.containerd.image.name`, else from a full reference in
 *   `org.opencontainers.image.ref.name` (a bare tag there names no repository, so it is not used), else from
 *   manifest.json's RepoTags. A multi-platform index contributes the manifest for the host platform.
 */
export interface ArchiveFiles {
  has(name: string): boolean;
  stat(name: string): { digest: Digest; size: number } | undefined;
  read(name: string): Promise<Buffer>;
  head(name: string, bytes: number): Promise<Buffer>;
}

export interface ArchiveImage {
  names: string[]; // normalised
  manifest: ImageManifest;
  manifestBytes: Buffer;
  manifestDigest: Digest;
  config: ImageConfigFile;
  configMember: string;
  layers: Array<{ member: string; descriptor: Descriptor; diffId: Digest }>;
}

const MAX_INDEX_DEPTH = 4;

export async function interpretArchive(files: ArchiveFiles, platform: Platform): Promise<ArchiveImage[]> {
  if (files.has('index.json')) {
    if (!files.has('oci-layout')) {
      throw new InvalidArgumentError('invalid image archive: index.json without an oci-layout file');
    }
    parseOciLayout(parseJson(await files.read('oci-layout'), 'oci-layout'));
    const repoTags = files.has('manifest.json') ? await dockerRepoTags(files) : new Map<string, string[]>();
    return ociImages(files, platform, repoTags);
  }
  if (files.has('manifest.json')) return dockerImages(files);
  throw new InvalidArgumentError(
    'invalid image archive: neither manifest.json (docker-archive) nor index.json (OCI layout) found',
  );
}

async function dockerRepoTags(files: ArchiveFiles): Promise<Map<string, string[]>> {
  const entries = parseDockerArchiveManifest(parseJson(await files.read('manifest.json'), 'manifest.json'));
  const out = new Map<string, string[]>();
  for (const e of entries) {
    const config = files.stat(e.Config);
    if (config) out.set(config.digest, e.RepoTags);
  }
  return out;
}

function normalizeTags(tags: string[], what: string): string[] {
  return tags.map((t, i) => {
    try {
      const ref = parseReference(t);
      if (ref.digest !== undefined) throw new InvalidArgumentError(`${t} is a digest reference, not a tag`);
      return normalizeName(t);
    } catch (err) {
      throw new InvalidArgumentError(`${what}[${i}]: ${(err as Error).message}`, { cause: err });
    }
  });
}

async function readConfig(files: ArchiveFiles, member: string, what: string): Promise<ImageConfigFile> {
  if (!files.has(member))
    throw new InvalidArgumentError(`${what}: the archive has no ${JSON.stringify(member)}`);
  return parseConfigFile(parseJson(await files.read(member), what), what);
}

async function dockerImages(files: ArchiveFiles): Promise<ArchiveImage[]> {
  const entries = parseDockerArchiveManifest(parseJson(await files.read('manifest.json'), 'manifest.json'));
  const out: ArchiveImage[] = [];
  for (const [i, e] of entries.entries()) {
    const what = `manifest.json[${i}]`;
    const config = await readConfig(files, e.Config, `${what}.Config (${e.Config})`);
    const configStat = files.stat(e.Config)!;
    if (config.rootfs.diff_ids.length !== e.Layers.length) {
      throw new InvalidArgumentError(
        `${what}.Layers: lists ${e.Layers.length} layers but the config has ${config.rootfs.diff_ids.length} diff ids`,
      );
    }
    const layers: ArchiveImage['layers'] = [];
    for (const [j, member] of e.Layers.entries()) {
      const stat = files.stat(member);
      if (!stat)
        throw new InvalidArgumentError(`${what}.Layers[${j}]: the archive has no ${JSON.stringify(member)}`);
      const mediaType = layerMediaType(await files.head(member, 4));
      layers.push({ member, descriptor: { mediaType, ...stat }, diffId: config.rootfs.diff_ids[j]! });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociManifest,
      config: { mediaType: MEDIA_TYPE.ociConfig, ...configStat },
      layers: layers.map((l) => l.descriptor),
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    out.push({
      names: normalizeTags(e.RepoTags, `${what}.RepoTags`),
      manifest,
      manifestBytes,
      manifestDigest: sha256(manifestBytes),
      config,
      configMember: e.Config,
      layers,
    });
  }
  return out;
}

function layerMediaType(head: Uint8Array): string {
  if (head[0] === 0x1f && head[1] === 0x8b) return MEDIA_TYPE.ociLayerGzip;
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd)
    return MEDIA_TYPE.ociLayerZstd;
  return MEDIA_TYPE.ociLayer;
}

function blobMember(d: Descriptor): string {
  return `blobs/sha256/${hexOf(d.digest)}`;
}

/** Reads a blob named by a descriptor, checking that the archive's bytes match digest and size. */
function checkBlob(files: ArchiveFiles, d: Descriptor, what: string): string {
  const member = blobMember(d);
  const stat = files.stat(member);
  if (!stat) throw new InvalidArgumentError(`${what}: blob ${d.digest} is missing from the archive`);
  if (stat.digest !== d.digest) {
    throw new InvalidArgumentError(
      `${what}: blob ${member} does not match its digest (content is ${stat.digest})`,
    );
  }
  if (stat.size !== d.size) {
    throw new InvalidArgumentError(
      `${what}: blob ${d.digest} is ${stat.size} bytes, the descriptor says ${d.size}`,
    );
  }
  return member;
}

function namesOf(d: Descriptor, what: string): string[] {
  const a = d.annotations ?? {};
  const full = a[ANNOTATION.containerdName];
  if (full) return normalizeTags([full], `${what}.annotations["${ANNOTATION.containerdName}"]`);
  const ref = a[ANNOTATION.refName];
  if (ref && /[:/]/.test(ref)) return normalizeTags([ref], `${what}.annotations["${ANNOTATION.refName}"]`);
  return [];
}

async function ociImages(
  files: ArchiveFiles,
  platform: Platform,
  repoTags: Map<string, string[]>,
): Promise<ArchiveImage[]> {
  const index = parseIndex(parseJson(await files.read('index.json'), 'index.json'), 'index.json');
  const byManifest = new Map<string, ArchiveImage>();
  for (const [i, d] of index.manifests.entries()) {
    const what = `index.json manifests[${i}]`;
    const found = await manifestFor(files, d, platform, what, 0);
    if (found === undefined) continue; // e.g. an attestation or another platform only
    const image = byManifest.get(found.manifestDigest) ?? (await ociImage(files, found, what));
    for (const n of namesOf(d, what)) if (!image.names.includes(n)) image.names.push(n);
    byManifest.set(found.manifestDigest, image);
  }
  if (byManifest.size === 0) {
    throw new InvalidArgumentError(
      `invalid image archive: index.json lists no image for ${platform.os}/${platform.architecture}`,
    );
  }
  for (const image of byManifest.values()) {
    if (image.names.length > 0) continue;
    const tags = repoTags.get(image.manifest.config.digest) ?? [];
    image.names.push(...normalizeTags(tags, 'manifest.json RepoTags'));
  }
  return [...byManifest.values()];
}

interface FoundManifest {
  manifest: ImageManifest;
  manifestBytes: Buffer;
  manifestDigest: Digest;
}

async function manifestFor(
  files: ArchiveFiles,
  d: Descriptor,
  platform: Platform,
  what: string,
  depth: number,
): Promise<FoundManifest | undefined> {
  const member = checkBlob(files, d, what);
  const bytes = await files.read(member);
  if (INDEX_MEDIA_TYPES.includes(d.mediaType)) {
    if (depth >= MAX_INDEX_DEPTH) throw new InvalidArgumentError(`${what}: indexes nested too deeply`);
    const index = parseIndex(parseJson(bytes, `index ${d.digest}`), `index ${d.digest}`);
    const candidates = index.manifests.filter((m) => !INDEX_MEDIA_TYPES.includes(m.mediaType));
    const chosen =
      candidates.find((m) => matchesPlatform(m.platform, platform)) ??
      (candidates.length === 1 && candidates[0]!.platform === undefined ? candidates[0] : undefined);
    if (chosen === undefined) {
      const nested = index.manifests.find((m) => INDEX_MEDIA_TYPES.includes(m.mediaType));
      return nested && manifestFor(files, nested, platform, `index ${d.digest}`, depth + 1);
    }
    return manifestFor(files, chosen, platform, `index ${d.digest}`, depth + 1);
  }
  // A top-level manifest is loaded whatever its platform: the archive's author chose it.
  const manifest = parseManifest(parseJson(bytes, `manifest ${d.digest}`), `manifest ${d.digest}`);
  return { manifest, manifestBytes: bytes, manifestDigest: d.digest };
}

async function ociImage(files: ArchiveFiles, found: FoundManifest, what: string): Promise<ArchiveImage> {
  const m = found.manifest;
  const w = `manifest ${found.manifestDigest}`;
  const configMember = checkBlob(files, m.config, `${w} config`);
  const config = await readConfig(files, configMember, `${what} config ${m.config.digest}`);
  if (config.rootfs.diff_ids.length !== m.layers.length) {
    throw new InvalidArgumentError(
      `${w}: lists ${m.layers.length} layers but its config has ${config.rootfs.diff_ids.length} diff ids`,
    );
  }
  const layers = m.layers.map((d, i) => ({
    member: checkBlob(files, d, `${w} layers[${i}]`),
    descriptor: d,
    diffId: config.rootfs.diff_ids[i]!,
  }));
  return { names: [], ...found, config, configMember, layers };
}
