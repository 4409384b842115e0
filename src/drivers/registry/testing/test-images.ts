import zlib from 'node:zlib';
import { type Digest, sha256 } from '../../../core/image/digest.ts';
import { MEDIA_TYPE, type Platform } from '../../../core/image/oci.ts';

/** Images made in memory for tests: tars of a few files, compressed as asked, with their config and manifest. */
export interface TestImage {
  manifest: Buffer;
  manifestMediaType: string;
  config: Buffer;
  configDigest: Digest;
  layers: Array<{ blob: Buffer; digest: Digest; diffId: Digest }>;
  blobs: Buffer[]; // config and layers
  platform: Platform;
}

export type TestCompression = 'gzip' | 'zstd' | 'none';

/** A tar with regular files (path → content), built without tar-stream so tests need no extra plumbing. */
export function tarOf(files: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    const header = Buffer.alloc(512);
    header.write(name, 0, 100);
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write(
      `${Math.floor(Date.UTC(2024, 0, 1) / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
    );
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    parts.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function compress(tar: Buffer, c: TestCompression): Buffer {
  if (c === 'gzip') return zlib.gzipSync(tar);
  if (c === 'zstd') return zlib.zstdCompressSync(tar);
  return tar;
}

/** An image of the given layers, with OCI or docker schema 2 media types. */
export function buildImage(opts: {
  layers: Array<{ files: Record<string, string>; compression?: TestCompression }>;
  kind?: 'oci' | 'docker';
  platform?: Platform;
  cmd?: string[];
}): TestImage {
  const kind = opts.kind ?? 'oci';
  const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const layers = opts.layers.map((l) => {
    const tar = tarOf(l.files);
    const c = l.compression ?? 'gzip';
    const blob = compress(tar, c);
    return { blob, digest: sha256(blob), diffId: sha256(tar), compression: c };
  });
  const config = Buffer.from(
    JSON.stringify({
      created: '2024-01-01T00:00:00Z',
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: { Cmd: opts.cmd ?? ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'test' })),
    }),
  );
  const layerType = (c: TestCompression): string => {
    if (kind === 'docker') return c === 'none' ? MEDIA_TYPE.dockerLayer : MEDIA_TYPE.dockerLayerGzip;
    return c === 'gzip'
      ? MEDIA_TYPE.ociLayerGzip
      : c === 'zstd'
        ? MEDIA_TYPE.ociLayerZstd
        : MEDIA_TYPE.ociLayer;
  };
  const manifestMediaType = kind === 'oci' ? MEDIA_TYPE.ociManifest : MEDIA_TYPE.dockerManifest;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifestMediaType,
      config: {
        mediaType: kind === 'oci' ? MEDIA_TYPE.ociConfig : MEDIA_TYPE.dockerConfig,
        digest: sha256(config),
        size: config.length,
      },
      layers: layers.map((l) => ({
        mediaType: layerType(l.compression),
        digest: l.digest,
        size: l.blob.length,
      })),
    }),
  );
  return {
    manifest,
    manifestMediaType,
    config,
    configDigest: sha256(config),
    layers: layers.map(({ blob, digest, diffId }) => ({ blob, digest, diffId })),
    blobs: [config, ...layers.map((l) => l.blob)],
    platform,
  };
}
