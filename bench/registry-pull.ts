import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { pack } from 'tar-stream';
import { Registry } from '../test/helpers/registry.ts';
import { type BenchContext, HYPERBOX, haveCommand, median, must, timed } from './lib/harness.ts';

export const description =
  'pull + unpack of a ~100 MB, 5-layer image from a local docker-registry: hyperbox vs skopeo (vs podman)';

/** hyperbox must pull at least 1.5x faster than podman: its time over podman's at most 1 / 1.5. */
const TARGET_VS_PODMAN = 0.67;
const LAYERS = 5;
const LAYER_BYTES = 20 * 1000 * 1000;
const MAX_RUNS = 3;

export async function run(ctx: BenchContext): Promise<void> {
  for (const tool of ['docker-registry', 'skopeo']) {
    if (!(await haveCommand(tool))) {
      ctx.log(`  ${tool}: not installed, skipped (bash scripts/setup.sh)`);
      return;
    }
  }
  const work = await ctx.tempDir('registry-pull');
  const layout = path.join(work, 'layout');
  await writeImageLayout(layout);
  const registry = await Registry.start({ parent: work });
  ctx.defer('docker-registry', () => registry.stop());
  const ref = `${registry.host}/bench/big:1`;
  await must('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:big`, `docker://${ref}`]);
  ctx.log(`  pushed ${LAYERS} layers of ${LAYER_BYTES / 1e6} MB (gzip) to ${ref}`);

  let n = 0;
  const fresh = async (what: string) => {
    const dir = path.join(work, `${what}-${n++}`);
    await fs.mkdir(dir);
    return dir;
  };
  const hyperbox = async () => {
    const root = await fresh('hyperbox');
    const r = await must(HYPERBOX, ['--root', root, 'pull', '-q', ref]);
    await fs.rm(root, { recursive: true, force: true });
    return r.ms;
  };
  const skopeo = async () => {
    const dir = await fresh('skopeo');
    const r = await must('skopeo', [
      'copy',
      '--src-tls-verify=false',
      `docker://${ref}`,
      `oci:${dir}/oci:big`,
    ]);
    await fs.rm(dir, { recursive: true, force: true });
    return r.ms;
  };
  const podmanInstalled = await haveCommand('podman');
  const podman = async () => {
    const dir = await fresh('podman');
    // podman refuses a run root longer than 50 characters: keep that one short, under /tmp.
    const runRoot = await ctx.shortTempDir();
    const global = ['--root', path.join(dir, 'root'), '--runroot', runRoot];
    const opts = ['--storage-driver', 'overlay', '--events-backend', 'none'];
    const r = await must('podman', [...global, ...opts, 'pull', '-q', '--tls-verify=false', ref]);
    await timed('podman', [...global, ...opts, 'system', 'reset', '-f']);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rm(runRoot, { recursive: true, force: true });
    return r.ms;
  };

  // Interleaved, so that a slow moment of the host weighs on every tool alike.
  const runs = Math.min(ctx.options.runs, MAX_RUNS);
  const times = { hyperbox: [] as number[], skopeo: [] as number[], podman: [] as number[] };
  for (let i = 0; i < runs; i++) {
    times.hyperbox.push(await hyperbox());
    times.skopeo.push(await skopeo());
    if (podmanInstalled) times.podman.push(await podman());
  }
  const h = median(times.hyperbox);
  const s = median(times.skopeo);
  ctx.log(`  hyperbox pull (download + verify + unpack)   median ${ms(h)} over ${runs} runs`);
  ctx.log(`  skopeo copy to an OCI directory (no unpack)   median ${ms(s)} over ${runs} runs`);
  ctx.log(`  ratio hyperbox / skopeo                       ${(h / s).toFixed(2)}x`);
  ctx.report({ name: 'registry-pull: hyperbox pull median', value: h, unit: 'ms' });
  ctx.report({ name: 'registry-pull: skopeo copy median', value: s, unit: 'ms' });
  ctx.report({ name: 'registry-pull: hyperbox / skopeo', value: h / s, unit: 'x' });
  if (!podmanInstalled) {
    ctx.log('  podman: not installed, skipped');
    return;
  }
  const p = median(times.podman);
  ctx.log(`  podman pull                                   median ${ms(p)} over ${runs} runs`);
  ctx.log(
    `  ratio hyperbox / podman                       ${(h / p).toFixed(2)}x (target <= ${TARGET_VS_PODMAN}x)`,
  );
  ctx.report({ name: 'registry-pull: podman pull median', value: p, unit: 'ms' });
  ctx.report({ name: 'registry-pull: hyperbox / podman', value: h / p, unit: 'x', target: TARGET_VS_PODMAN });
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`.padStart(10);
}

const gzip = promisify(zlib.gzip);

/**
 * An OCI image layout with LAYERS gzip layers, each one file of LAYER_BYTES: random blocks mixed with runs of
 * zeros, so that gzip has something to do without the layer shrinking to nothing (about 3/4 of it stays).
 */
async function writeImageLayout(dir: string): Promise<void> {
  const blobs = path.join(dir, 'blobs', 'sha256');
  await fs.mkdir(blobs, { recursive: true });
  const put = async (bytes: Buffer) => {
    const hex = crypto.createHash('sha256').update(bytes).digest('hex');
    await fs.writeFile(path.join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const diffIds: string[] = [];
  const layers = [];
  for (let i = 0; i < LAYERS; i++) {
    const data = Buffer.alloc(LAYER_BYTES);
    for (let off = 0; off < LAYER_BYTES; off += 64 * 1024) {
      if (off % (256 * 1024) !== 0) crypto.randomFillSync(data, off, Math.min(64 * 1024, LAYER_BYTES - off));
    }
    const tar = await tarOf([
      { name: 'data/', type: 'directory' },
      { name: `data/layer-${i}.bin`, content: data },
    ]);
    diffIds.push(`sha256:${crypto.createHash('sha256').update(tar).digest('hex')}`);
    layers.push({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      ...(await put(await gzip(tar))),
    });
  }
  const config = await put(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        created: '2024-01-02T03:04:05Z',
        config: { Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: diffIds },
      }),
    ),
  );
  const manifest = await put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers,
      }),
    ),
  );
  await fs.writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await fs.writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': 'big' },
        },
      ],
    }),
  );
}

async function tarOf(
  entries: Array<{ name: string; type?: 'directory'; content?: Buffer }>,
): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (d: unknown) => {
      chunks.push(d as Buffer);
    });
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const e of entries) {
    const header = { name: e.name, mode: e.type ? 0o755 : 0o644, mtime: new Date(1_700_000_000_000) };
    await new Promise<void>((resolve, reject) => {
      if (e.content)
        p.entry({ ...header, size: e.content.length }, e.content, (err) => (err ? reject(err) : resolve()));
      else p.entry({ ...header, type: 'directory' }, (err) => (err ? reject(err) : resolve()));
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}
