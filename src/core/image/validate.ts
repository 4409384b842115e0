import type { Digest } from './digest.ts';
import * as j from './json-check.ts';
import {
  CONFIG_MEDIA_TYPES,
  type Descriptor,
  type DockerArchiveEntry,
  type HistoryEntry,
  type ImageConfig,
  type ImageConfigFile,
  type ImageIndex,
  type ImageManifest,
  INDEX_MEDIA_TYPES,
  LAYER_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  type Platform,
} from './oci.ts';

/** Strict parsers for the image documents that enter the store; `what` names the document in error messages. */

export function parseDescriptor(value: unknown, what: string): Descriptor {
  const o = j.object(value, what);
  const d: Descriptor = {
    mediaType: j.nonEmptyString(o.mediaType, `${what}.mediaType`),
    digest: j.digest(o.digest, `${what}.digest`),
    size: j.size(o.size, `${what}.size`),
  };
  const annotations = j.optionalStringMap(o.annotations, `${what}.annotations`);
  if (annotations) d.annotations = annotations;
  if (o.platform !== undefined) d.platform = parsePlatform(o.platform, `${what}.platform`);
  return d;
}

function parsePlatform(value: unknown, what: string): Platform {
  const o = j.object(value, what);
  const p: Platform = {
    architecture: j.string(o.architecture, `${what}.architecture`),
    os: j.string(o.os, `${what}.os`),
  };
  const variant = j.optionalString(o.variant, `${what}.variant`);
  if (variant) p.variant = variant;
  return p;
}

function schemaVersion2(o: Record<string, unknown>, what: string): 2 {
  if (o.schemaVersion !== 2) j.fail(`${what}.schemaVersion`, 'must be 2', o.schemaVersion);
  return 2;
}

export function parseManifest(value: unknown, what = 'manifest'): ImageManifest {
  const o = j.object(value, what);
  const m: ImageManifest = {
    schemaVersion: schemaVersion2(o, what),
    config: parseDescriptor(o.config, `${what}.config`),
    layers: j.array(o.layers, `${what}.layers`).map((l, i) => parseDescriptor(l, `${what}.layers[${i}]`)),
  };
  const mediaType = j.optionalString(o.mediaType, `${what}.mediaType`);
  if (mediaType !== undefined) {
    if (!MANIFEST_MEDIA_TYPES.includes(mediaType))
      j.fail(`${what}.mediaType`, 'is not an image manifest', mediaType);
    m.mediaType = mediaType;
  }
  if (!CONFIG_MEDIA_TYPES.includes(m.config.mediaType)) {
    j.fail(`${what}.config.mediaType`, 'is not an image config media type', m.config.mediaType);
  }
  m.layers.forEach((l, i) => {
    if (!LAYER_MEDIA_TYPES.includes(l.mediaType)) {
      j.fail(`${what}.layers[${i}].mediaType`, 'is not a supported layer media type', l.mediaType);
    }
  });
  const annotations = j.optionalStringMap(o.annotations, `${what}.annotations`);
  if (annotations) m.annotations = annotations;
  return m;
}

export function parseIndex(value: unknown, what = 'index'): ImageIndex {
  const o = j.object(value, what);
  const idx: ImageIndex = {
    schemaVersion: schemaVersion2(o, what),
    manifests: j
      .array(o.manifests, `${what}.manifests`)
      .map((d, i) => parseDescriptor(d, `${what}.manifests[${i}]`)),
  };
  const mediaType = j.optionalString(o.mediaType, `${what}.mediaType`);
  if (mediaType !== undefined) {
    if (!INDEX_MEDIA_TYPES.includes(mediaType))
      j.fail(`${what}.mediaType`, 'is not an image index', mediaType);
    idx.mediaType = mediaType;
  }
  const annotations = j.optionalStringMap(o.annotations, `${what}.annotations`);
  if (annotations) idx.annotations = annotations;
  return idx;
}

export function parseImageConfig(value: unknown, what: string): ImageConfig {
  const o = j.object(value, what);
  const c: ImageConfig = {};
  const user = j.optionalString(o.User, `${what}.User`);
  if (user !== undefined) c.User = user;
  const ports = j.optionalSet(o.ExposedPorts, `${what}.ExposedPorts`);
  if (ports) c.ExposedPorts = ports;
  const env = j.optionalStringArray(o.Env, `${what}.Env`);
  if (env) {
    env.forEach((e, i) => {
      if (!e.includes('=') || e.startsWith('=')) j.fail(`${what}.Env[${i}]`, 'must look like KEY=VALUE', e);
    });
    c.Env = env;
  }
  if (o.Entrypoint !== undefined)
    c.Entrypoint = j.optionalStringArray(o.Entrypoint, `${what}.Entrypoint`) ?? null;
  if (o.Cmd !== undefined) c.Cmd = j.optionalStringArray(o.Cmd, `${what}.Cmd`) ?? null;
  const volumes = j.optionalSet(o.Volumes, `${what}.Volumes`);
  if (volumes) c.Volumes = volumes;
  const workdir = j.optionalString(o.WorkingDir, `${what}.WorkingDir`);
  if (workdir) c.WorkingDir = workdir;
  const labels = j.optionalStringMap(o.Labels, `${what}.Labels`);
  if (labels) c.Labels = labels;
  const stop = j.optionalString(o.StopSignal, `${what}.StopSignal`);
  if (stop) c.StopSignal = stop;
  return c;
}

function parseHistory(value: unknown, what: string): HistoryEntry {
  const o = j.object(value, what);
  const h: HistoryEntry = {};
  for (const key of ['created', 'created_by', 'author', 'comment'] as const) {
    const v = j.optionalString(o[key], `${what}.${key}`);
    if (v !== undefined) h[key] = v;
  }
  if (o.empty_layer !== undefined) {
    if (typeof o.empty_layer !== 'boolean') j.fail(`${what}.empty_layer`, 'must be a boolean', o.empty_layer);
    h.empty_layer = o.empty_layer;
  }
  return h;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseConfigFile(value: unknown, what = 'image config'): ImageConfigFile {
  const o = j.object(value, what);
  const rootfs = j.object(o.rootfs, `${what}.rootfs`);
  if (rootfs.type !== 'layers') j.fail(`${what}.rootfs.type`, 'must be "layers"', rootfs.type);
  const diffIds: Digest[] = j
    .array(rootfs.diff_ids, `${what}.rootfs.diff_ids`)
    .map((d, i) => j.digest(d, `${what}.rootfs.diff_ids[${i}]`));
  const c: ImageConfigFile = {
    architecture: j.string(o.architecture, `${what}.architecture`),
    os: j.string(o.os, `${what}.os`),
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
  const created = j.optionalString(o.created, `${what}.created`);
  if (created !== undefined) {
    if (!RFC3339.test(created) || Number.isNaN(Date.parse(created))) {
      j.fail(`${what}.created`, 'must be an RFC 3339 date-time', created);
    }
    c.created = created;
  }
  for (const key of ['author', 'variant', 'comment'] as const) {
    const v = j.optionalString(o[key], `${what}.${key}`);
    if (v !== undefined) c[key] = v;
  }
  if (o.config !== undefined && o.config !== null) c.config = parseImageConfig(o.config, `${what}.config`);
  if (o.history !== undefined && o.history !== null) {
    c.history = j.array(o.history, `${what}.history`).map((h, i) => parseHistory(h, `${what}.history[${i}]`));
  }
  return c;
}

/** A docker-archive's manifest.json. */
export function parseDockerArchiveManifest(value: unknown, what = 'manifest.json'): DockerArchiveEntry[] {
  const entries = j.array(value, what);
  if (entries.length === 0) j.fail(what, 'must list at least one image', value);
  return entries.map((e, i) => {
    const w = `${what}[${i}]`;
    const o = j.object(e, w);
    return {
      Config: j.nonEmptyString(o.Config, `${w}.Config`),
      RepoTags: j.optionalStringArray(o.RepoTags, `${w}.RepoTags`) ?? [],
      Layers: j.stringArray(o.Layers, `${w}.Layers`),
    };
  });
}

/** The `oci-layout` marker file. */
export function parseOciLayout(value: unknown, what = 'oci-layout'): void {
  const o = j.object(value, what);
  const v = j.string(o.imageLayoutVersion, `${what}.imageLayoutVersion`);
  if (!/^1\.\d+\.\d+$/.test(v)) j.fail(`${what}.imageLayoutVersion`, 'must be a 1.x version', v);
}
