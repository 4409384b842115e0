import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../src/core/errors.ts';
import { imageInspectView } from '../src/core/image/views.ts';
import { dockerArchive, ociArchive, sha } from './helpers/image-archive.ts';
import { busyboxRootfs, eventActions, type ImageEnv, listTree, makeImageEnv } from './helpers/image-env.ts';
import { makeTar } from './helpers/image-tar.ts';

const isRoot = process.getuid?.() === 0;
const envs: ImageEnv[] = [];
function env(): ImageEnv {
  const e = makeImageEnv();
  envs.push(e);
  return e;
}
after(() => {
  for (const e of envs) e.close();
});

function addContainer(e: ImageEnv, imageId: string, id = '3f2a1b7c9d0e'.padEnd(64, '0')): string {
  e.db
    .prepare(
      "INSERT INTO containers (id, name, image_id, created_at, config, state) VALUES (?, ?, ?, 0, '{}', '{}')",
    )
    .run(id, `c-${id.slice(0, 6)}`, imageId);
  return id;
}

/** Everything the store holds on disk, except the database. */
function storeFiles(e: ImageEnv): string[] {
  return [...listTree(e.layout.blobs), ...listTree(e.layout.layers), ...listTree(e.layout.ingest)];
}

describe('import', () => {
  let e: ImageEnv;
  let id: string;
  before(async () => {
    e = env();
    ({ id } = await e.images.importRootfs(busyboxRootfs(), 'busybox:1', {
      changes: [
        'CMD ["sh"]',
        'ENV PATH=/bin:/sbin A="x y"',
        'WORKDIR /root',
        'EXPOSE 8080',
        'LABEL tier=base',
        'USER app',
        'STOPSIGNAL SIGQUIT',
      ],
      message: 'the test image',
    }));
  });

  it('stores a one-layer image under its config digest', async () => {
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const list = await e.images.list();
    assert.equal(list.length, 1);
    assert.deepEqual(list[0]!.repoTags, ['busybox:1']);
    assert.equal(list[0]!.id, id);
    assert.ok(list[0]!.size > 500_000, `size ${list[0]!.size} covers the busybox binary`);
    assert.ok(Math.abs(list[0]!.created - Date.now() / 1000) < 120);
    assert.equal(list[0]!.containers, 0);
    assert.equal(
      sha(fs.readFileSync(path.join(e.layout.blobs, id.slice(7)))),
      id,
      'the config blob hashes to the id',
    );
    assert.deepEqual(eventActions(e), ['import']);
  });

  it('inspect shows the config the changes made', async () => {
    const i = imageInspectView(await e.images.inspect('busybox:1'));
    assert.equal(i.Id, id);
    assert.deepEqual(i.RepoTags, ['busybox:1']);
    assert.deepEqual(i.Config.Cmd, ['sh']);
    assert.deepEqual(i.Config.Env, ['PATH=/bin:/sbin', 'A=x y']);
    assert.equal(i.Config.WorkingDir, '/root');
    assert.deepEqual(i.Config.ExposedPorts, { '8080/tcp': {} });
    assert.deepEqual(i.Config.Labels, { tier: 'base' });
    assert.equal(i.Config.User, 'app');
    assert.equal(i.Config.StopSignal, 'SIGQUIT');
    assert.equal(i.Comment, 'the test image');
    assert.equal(i.Os, 'linux');
    assert.match(i.Created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    assert.equal(i.RootFS.Type, 'layers');
    assert.equal(i.RootFS.Layers.length, 1);
  });

  it('resolves for the container engine by name, id and id prefix', async () => {
    const r = await e.images.resolve('busybox:1');
    assert.equal(r.id, id);
    assert.equal(r.ref, 'docker.io/library/busybox:1');
    assert.deepEqual(r.config.Cmd, ['sh']);
    assert.equal(r.chainIds.length, 1);
    assert.equal((await e.images.resolve(id)).id, id);
    assert.equal((await e.images.resolve(id.slice(7, 19))).id, id);
    assert.equal((await e.images.resolve(id.slice(0, 15))).id, id);
    assert.equal((await e.images.resolve('docker.io/library/busybox:1')).id, id);
    await assert.rejects(e.images.resolve('busybox:2'), (err: unknown) => {
      return err instanceof NotFoundError && err.message === 'No such image: busybox:2';
    });
    await assert.rejects(e.images.resolve('busybox'), /No such image: busybox/);
    await assert.rejects(e.images.resolve('Busybox'), /must be lowercase/);
  });

  it('unpacks the layer for overlayfs and reads files from it', async () => {
    const dirs = await e.images.lowerDirs(id);
    assert.equal(dirs.length, 1);
    const bb = path.join(dirs[0]!, 'bin/busybox');
    assert.deepEqual(fs.readFileSync(bb), fs.readFileSync(path.join(busyboxRootfs(), 'bin/busybox')));
    assert.equal(fs.readlinkSync(path.join(dirs[0]!, 'bin/sh')), 'busybox');
    assert.equal(fs.statSync(path.join(dirs[0]!, 'tmp')).mode & 0o7777, 0o1777);
    if (isRoot) assert.equal(fs.statSync(path.join(dirs[0]!, 'home/app')).uid, 1000);
    assert.equal(
      await e.images.readFile(id, '/etc/passwd'),
      fs.readFileSync(path.join(busyboxRootfs(), 'etc/passwd'), 'utf8'),
    );
    assert.equal(await e.images.readFile(id, '/etc/shadow'), undefined);
  });

  it('unpacks a missing layer again (after a crash or clean-up)', async () => {
    const [dir] = await e.images.lowerDirs(id);
    fs.rmSync(path.dirname(dir!), { recursive: true });
    const again = await e.images.lowerDirs(id);
    assert.deepEqual(again, [dir]);
    assert.ok(fs.existsSync(path.join(dir!, 'bin/busybox')));
  });

  it('refuses a bad --change before storing anything', async () => {
    const before = storeFiles(e);
    await assert.rejects(
      e.images.importRootfs(busyboxRootfs(), 'bad:1', { changes: ['RUN rm -rf /'] }),
      (err: unknown) =>
        err instanceof InvalidArgumentError && /RUN is not a valid change command/.test(err.message),
    );
    assert.deepEqual(storeFiles(e), before);
    await assert.rejects(e.images.importRootfs(busyboxRootfs(), 'Bad', { changes: [] }), /must be lowercase/);
  });
});

describe('import formats', () => {
  it('plain, gzip and zstd tars and stdin give the same layer', async () => {
    const e = env();
    const tar = await makeTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/os-release', content: 'ID=test\n' },
    ]);
    const dir = fs.mkdtempSync(path.join(e.root, 'src-'));
    fs.writeFileSync(path.join(dir, 'plain.tar'), tar);
    fs.writeFileSync(path.join(dir, 'gz.tar.gz'), zlib.gzipSync(tar));
    fs.writeFileSync(path.join(dir, 'z.tar.zst'), zlib.zstdCompressSync(tar));
    const layers = new Set<string>();
    for (const f of ['plain.tar', 'gz.tar.gz', 'z.tar.zst']) {
      const { id } = await e.images.importRootfs(path.join(dir, f), `fmt:${f.split('.')[0]}`, {
        changes: [],
      });
      layers.add(imageInspectView(await e.images.inspect(id)).RootFS.Layers[0]!);
      assert.equal(await e.images.readFile(id, 'etc/os-release'), 'ID=test\n');
    }
    const stdin = new PassThrough();
    stdin.end(zlib.gzipSync(tar));
    const { id } = await e.images.importRootfs('-', undefined, { changes: [], stdin });
    layers.add(imageInspectView(await e.images.inspect(id)).RootFS.Layers[0]!);
    assert.deepEqual([...layers], [sha(tar)]);
    assert.equal((await e.images.list()).find((i) => i.id === id)?.repoTags.length, 0);
    assert.equal(imageInspectView(await e.images.inspect(id)).Comment, 'Imported from -');
    await assert.rejects(
      e.images.importRootfs('/no/such/file.tar', undefined, { changes: [] }),
      /does not exist/,
    );
  });
});

describe('tag, remove, prune', () => {
  let e: ImageEnv;
  let id: string;
  before(async () => {
    e = env();
    ({ id } = await e.images.importRootfs(busyboxRootfs(), 'busybox:1', { changes: [] }));
  });

  it('removing one of several tags only untags', async () => {
    await e.images.tag('busybox:1', 'host:5000/team/app:1.2');
    await e.images.tag(id, 'other');
    assert.deepEqual((await e.images.list())[0]!.repoTags.sort(), [
      'busybox:1',
      'host:5000/team/app:1.2',
      'other:latest',
    ]);
    assert.deepEqual(await e.images.remove('other', { force: false }), [{ Untagged: 'other:latest' }]);
    await assert.rejects(e.images.tag('busybox:1', `x@sha256:${'a'.repeat(64)}`), /digest reference/);
  });

  it('refuses while a container uses the image, unless forced', async () => {
    const cid = addContainer(e, id);
    assert.equal((await e.images.list())[0]!.containers, 1);
    assert.deepEqual(await e.images.remove('host:5000/team/app:1.2', { force: false }), [
      { Untagged: 'host:5000/team/app:1.2' },
    ]);
    await assert.rejects(e.images.remove('busybox:1', { force: false }), (err: unknown) => {
      assert.ok(err instanceof ConflictError);
      assert.equal(
        err.message,
        `unable to remove repository reference "busybox:1" (must force) - container 3f2a1b7c9d0e is using its referenced image ${id.slice(7, 19)}`,
      );
      return true;
    });
    await assert.rejects(
      e.images.remove(id, { force: false }),
      /image is being used by stopped container 3f2a1b7c9d0e/,
    );
    const items = await e.images.remove(id, { force: true });
    assert.deepEqual(items, [{ Untagged: 'busybox:1' }, { Deleted: id }]);
    assert.deepEqual(await e.images.list(), []);
    await assert.rejects(e.images.resolve('busybox:1'), NotFoundError);
    // The container's overlay still has its layers.
    const dirs = await e.images.lowerDirs(id);
    assert.ok(fs.existsSync(path.join(dirs[0]!, 'bin/busybox')));
    assert.deepEqual(await e.images.prune({ all: true }), { deleted: [], spaceReclaimed: 0 });
    assert.ok(fs.existsSync(dirs[0]!));
    e.db.prepare('DELETE FROM containers WHERE id = ?').run(cid);
    const gc = await e.images.gc();
    assert.deepEqual(gc.deleted, [id]);
    assert.ok(gc.spaceReclaimed > 0);
    assert.deepEqual(storeFiles(e), []);
  });

  it('deletes blobs and layers no other image needs, keeps shared ones', async () => {
    const base = await makeTar([{ name: 'base', content: 'base layer\n' }]);
    const top = await makeTar([{ name: 'top', content: 'top layer\n' }]);
    await e.images.load(Readable.from([await ociArchive({ layers: [base], repoTags: ['shared/base:1'] })]));
    await e.images.load(
      Readable.from([await ociArchive({ layers: [base, top], repoTags: ['shared/app:1'] })]),
    );
    const app = await e.images.resolve('shared/app:1');
    const baseImage = await e.images.resolve('shared/base:1');
    assert.equal(app.chainIds[0], baseImage.chainIds[0]);
    assert.equal(listTree(e.layout.layers).filter((p) => !p.includes('/')).length, 2);
    const removed = await e.images.remove('shared/app:1', { force: false });
    assert.deepEqual(removed, [{ Untagged: 'shared/app:1' }, { Deleted: app.id }]);
    assert.ok(fs.existsSync(path.join(e.layout.layers, baseImage.chainIds[0]!.slice(7), 'diff', 'base')));
    assert.equal(fs.existsSync(path.join(e.layout.layers, app.chainIds[1]!.slice(7))), false);
    assert.equal(fs.existsSync(path.join(e.layout.blobs, sha(top).slice(7))), false);
    assert.ok(fs.existsSync(path.join(e.layout.blobs, sha(base).slice(7))));
    assert.deepEqual(await e.images.lowerDirs(baseImage.id), [
      e.images && path.join(e.layout.layers, baseImage.chainIds[0]!.slice(7), 'diff'),
    ]);
    await e.images.remove('shared/base:1', { force: false });
    assert.deepEqual(storeFiles(e), []);
  });

  it('prune removes dangling images, -a every unused one', async () => {
    const mk = async (content: string, tag?: string) =>
      (
        await e.images.load(
          Readable.from([
            await dockerArchive({
              layers: [await makeTar([{ name: 'f', content }])],
              repoTags: tag ? [tag] : [],
            }),
          ]),
        )
      )[0]!;
    const danglingId = await mk('dangling');
    await mk('tagged', 'keep:1');
    const usedId = await mk('used');
    addContainer(e, usedId, 'ab'.repeat(32));
    assert.match(danglingId, /^sha256:/);
    const dangling = await e.images.list({ filters: { dangling: true } });
    assert.deepEqual(dangling.map((i) => i.id).sort(), [danglingId, usedId].sort());
    const first = await e.images.prune({ all: false });
    assert.deepEqual(first.deleted, [{ Deleted: danglingId }]);
    assert.ok(first.spaceReclaimed > 0);
    const second = await e.images.prune({ all: true });
    assert.equal(second.deleted.length, 2);
    assert.deepEqual(second.deleted[0], { Untagged: 'keep:1' });
    assert.deepEqual(
      (await e.images.list()).map((i) => i.id),
      [usedId],
    );
    assert.ok(eventActions(e).includes('prune'));
  });
});

describe('save and load', () => {
  let src: ImageEnv;
  let id: string;
  before(async () => {
    src = env();
    ({ id } = await src.images.importRootfs(busyboxRootfs(), 'busybox:1', { changes: ['CMD ["sh"]'] }));
    await src.images.tag('busybox:1', 'host:5000/team/app:1.2');
  });

  for (const format of ['docker-archive', 'oci-archive'] as const) {
    it(`round-trips through ${format} into another root with the same id`, async () => {
      const file = path.join(src.root, `out-${format}.tar`);
      await src.images.save(['busybox:1', 'host:5000/team/app:1.2'], file, { format });
      const members = execFileSync('tar', ['tf', file], { encoding: 'utf8' }).split('\n');
      assert.ok(members.includes('index.json') && members.includes('oci-layout'));
      assert.equal(members.includes('manifest.json'), format === 'docker-archive');
      if (format === 'docker-archive') {
        const manifest = JSON.parse(
          execFileSync('tar', ['xOf', file, 'manifest.json'], { encoding: 'utf8' }),
        );
        assert.deepEqual(manifest[0].RepoTags, ['busybox:1', 'host:5000/team/app:1.2']);
        assert.equal(manifest[0].Config, `blobs/sha256/${id.slice(7)}`);
        const repositories = JSON.parse(
          execFileSync('tar', ['xOf', file, 'repositories'], { encoding: 'utf8' }),
        );
        assert.deepEqual(Object.keys(repositories).sort(), ['busybox', 'host:5000/team/app']);
      } else {
        const index = JSON.parse(execFileSync('tar', ['xOf', file, 'index.json'], { encoding: 'utf8' }));
        assert.deepEqual(
          index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations),
          [
            {
              'io.containerd.image.name': 'docker.io/library/busybox:1',
              'org.opencontainers.image.ref.name': '1',
            },
            {
              'io.containerd.image.name': 'host:5000/team/app:1.2',
              'org.opencontainers.image.ref.name': '1.2',
            },
          ],
        );
      }
      const dst = env();
      const loaded = await dst.images.load(file);
      assert.deepEqual(loaded.sort(), ['busybox:1', 'host:5000/team/app:1.2']);
      const list = await dst.images.list();
      assert.equal(list.length, 1);
      assert.equal(list[0]!.id, id);
      assert.equal(await dst.images.readFile(id, '/etc/group'), await src.images.readFile(id, '/etc/group'));
      assert.deepEqual(eventActions(dst), ['load', 'load']);
      assert.deepEqual(listTree(dst.layout.ingest), []);
      assert.deepEqual(listTree(dst.layout.tmp), []);
      // Loading again changes nothing.
      const before = storeFiles(dst);
      await dst.images.load(fs.createReadStream(file));
      assert.deepEqual(storeFiles(dst), before);
    });
  }

  it('saves to a stream and loads gzip-compressed archives; untagged images load by id', async () => {
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (d: Buffer) => chunks.push(d));
    await src.images.save([id], sink, { format: 'docker-archive' });
    const dst = env();
    assert.deepEqual(await dst.images.load(Readable.from([zlib.gzipSync(Buffer.concat(chunks))])), [id]);
    assert.deepEqual((await dst.images.list())[0]!.repoTags, []);
    assert.ok(eventActions(src).includes('save'));
  });

  it('loads docker 25+ archives (OCI layout with containerd names and manifest.json)', async () => {
    const layer = await makeTar([{ name: 'hello', content: 'world\n' }]);
    const archive = await ociArchive({
      layers: [layer],
      annotations: [
        { 'io.containerd.image.name': 'docker.io/library/hello:2', 'org.opencontainers.image.ref.name': '2' },
      ],
    });
    const e = env();
    assert.deepEqual(await e.images.load(Readable.from([archive])), ['hello:2']);
    const bare = await ociArchive({
      layers: [layer],
      annotations: [{ 'org.opencontainers.image.ref.name': 'latest' }],
    });
    const e2 = env();
    const loaded = await e2.images.load(Readable.from([bare]));
    assert.match(loaded[0]!, /^sha256:/, 'a bare tag names no repository');
  });

  it('picks the host platform from a multi-platform index', async () => {
    const layer = await makeTar([{ name: 'arch', content: 'host\n' }]);
    const inner = await ociArchive({ layers: [layer] });
    // Re-wrap: index.json → image index → [other platform, host platform manifest].
    const files = new Map<string, Buffer>();
    const { extract } = await import('tar-stream');
    const ex = extract();
    const done = (async () => {
      for await (const entry of ex) {
        const parts: Buffer[] = [];
        for await (const c of entry) parts.push(c as Buffer);
        files.set(entry.header.name, Buffer.concat(parts));
      }
    })();
    ex.end(inner);
    await done;
    const manifestDesc = JSON.parse(files.get('index.json')!.toString()).manifests[0];
    const hostArch = { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64'] ?? process.arch;
    const otherDigest = `sha256:${'0'.repeat(64)}`;
    const nested = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: otherDigest,
            size: 1,
            platform: { os: 'linux', architecture: 's390x-none' },
          },
          { ...manifestDesc, platform: { os: 'linux', architecture: hostArch } },
        ],
      }),
    );
    files.set(`blobs/sha256/${sha(nested).slice(7)}`, nested);
    files.set(
      'index.json',
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          manifests: [
            {
              mediaType: 'application/vnd.oci.image.index.v1+json',
              digest: sha(nested),
              size: nested.length,
              annotations: { 'io.containerd.image.name': 'docker.io/library/multi:1' },
            },
          ],
        }),
      ),
    );
    const archive = await makeTar([...files].map(([name, content]) => ({ name, content })));
    const e = env();
    assert.deepEqual(await e.images.load(Readable.from([archive])), ['multi:1']);
    const id2 = (await e.images.list())[0]!.id;
    assert.equal(await e.images.readFile(id2, '/arch'), 'host\n');
  });
});

describe('load validation: clear errors, nothing stored', () => {
  const layer = () => makeTar([{ name: 'f', content: 'x' }]);
  const cases: Array<[string, () => Promise<Buffer>, RegExp]> = [
    [
      'a config with a bad Env',
      async () =>
        dockerArchive({ layers: [await layer()], config: (c) => ({ ...c, config: { Env: ['BAD'] } }) }),
      /config\.Env\[0\]: must look like KEY=VALUE/,
    ],
    [
      'a manifest.json without Layers',
      async () =>
        dockerArchive({ layers: [await layer()], manifest: (m) => [{ ...(m[0] as object), Layers: 'x' }] }),
      /manifest\.json\[0\]\.Layers: must be an array/,
    ],
    [
      'a bad RepoTag',
      async () => dockerArchive({ layers: [await layer()], repoTags: ['UPPER:1'] }),
      /RepoTags\[0\]: invalid reference format: repository name \(library\/UPPER\) must be lowercase/,
    ],
    [
      'more layers than diff ids',
      async () =>
        dockerArchive({
          layers: [await layer()],
          config: (c) => ({ ...c, rootfs: { type: 'layers', diff_ids: [] } }),
        }),
      /lists 1 layers but the config has 0 diff ids/,
    ],
    [
      'a layer that does not match its diff id',
      async () =>
        dockerArchive({
          layers: [await layer()],
          config: (c) => ({ ...c, rootfs: { type: 'layers', diff_ids: [sha('other')] } }),
        }),
      /content does not match its diff id/,
    ],
    [
      'an OCI descriptor with a wrong size',
      async () =>
        ociArchive({
          layers: [await layer()],
          manifest: (m) => ({ ...m, layers: (m.layers as object[]).map((l) => ({ ...l, size: 1 })) }),
        }),
      /is \d+ bytes, the descriptor says 1/,
    ],
    [
      'an index with a missing blob',
      async () =>
        ociArchive({
          layers: [await layer()],
          index: (i) => ({
            ...i,
            manifests: [
              { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha('gone'), size: 4 },
            ],
          }),
        }),
      /index\.json manifests\[0\]: blob sha256:[a-f0-9]+ is missing from the archive/,
    ],
    [
      'an index with a bad schemaVersion',
      async () => ociArchive({ layers: [await layer()], index: (i) => ({ ...i, schemaVersion: 3 }) }),
      /index\.json\.schemaVersion: must be 2, got 3/,
    ],
    [
      'something that is not an image archive',
      () => makeTar([{ name: 'README', content: 'hi' }]),
      /neither manifest\.json/,
    ],
    [
      'a truncated archive',
      async () => (await layer()).subarray(0, 700),
      /cannot read the image archive|neither manifest/,
    ],
  ];
  for (const [what, build, re] of cases) {
    it(`refuses ${what}`, async () => {
      const e = env();
      await e.images.importRootfs(busyboxRootfs(), 'existing:1', { changes: [] });
      const before = storeFiles(e);
      const events = eventActions(e);
      await assert.rejects(e.images.load(Readable.from([await build()])), (err: unknown) => {
        assert.ok(err instanceof InvalidArgumentError, String(err));
        assert.match(err.message, re);
        return true;
      });
      assert.deepEqual(storeFiles(e), before);
      assert.deepEqual(listTree(e.layout.tmp), []);
      assert.deepEqual(
        (await e.images.list()).map((i) => i.repoTags),
        [['existing:1']],
      );
      assert.deepEqual(eventActions(e), events);
    });
  }
});

describe('concurrent unpacking', () => {
  it('two processes unpacking the same layer both succeed and share one directory', async () => {
    const e = env();
    const blob = path.join(e.root, 'layer.tar');
    const entries = Array.from({ length: 300 }, (_, i) => ({
      name: `d${i % 10}/f${i}`,
      content: `file ${i}\n`.repeat(50),
    }));
    fs.writeFileSync(blob, await makeTar(entries));
    const script = `
      import { layoutFor } from ${JSON.stringify(path.resolve('src/core/paths.ts'))};
      import { FileLayerStore } from ${JSON.stringify(path.resolve('src/drivers/layers/file-layer-store.ts'))};
      const store = new FileLayerStore({ layout: layoutFor(process.argv[1]) });
      const r = await store.unpack({ blob: process.argv[2], parent: undefined, label: 'race' });
      console.log(JSON.stringify(r));
    `;
    const run = () =>
      new Promise<{ chainId: string; created: boolean }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, e.root, blob], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.on('close', (code) =>
          code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}`)),
        );
      });
    const results = await Promise.all([run(), run(), run()]);
    assert.equal(new Set(results.map((r) => r.chainId)).size, 1);
    assert.ok(results.some((r) => r.created));
    const layerDirs = fs.readdirSync(e.layout.layers);
    assert.deepEqual(layerDirs, [results[0]!.chainId.slice(7)]);
    assert.equal(listTree(path.join(e.layout.layers, layerDirs[0]!, 'diff')).length, 310);
    assert.deepEqual(listTree(e.layout.tmp), []);
  });
});

const skopeo = (() => {
  try {
    execFileSync('skopeo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('interoperability with skopeo', { skip: skopeo ? false : 'skopeo is not installed' }, () => {
  it('skopeo reads our archives, and we load what skopeo writes', async () => {
    const e = env();
    // Changes in an order unlike Go's struct order, and characters Go escapes: the id must survive anyway.
    const { id } = await e.images.importRootfs(busyboxRootfs(), 'busybox:1', {
      changes: ['CMD ["sh", "-c", "true && echo <ok>"]', 'LABEL z=1 a=2', 'ENV A=1', 'EXPOSE 80 443'],
    });
    const ours = path.join(e.root, 'ours.tar');
    const oursOci = path.join(e.root, 'ours-oci.tar');
    await e.images.save(['busybox:1'], ours, { format: 'docker-archive' });
    await e.images.save(['busybox:1'], oursOci, { format: 'oci-archive' });
    for (const src of [`docker-archive:${ours}`, `oci-archive:${oursOci}`]) {
      const config = JSON.parse(
        execFileSync('skopeo', ['inspect', '--raw', '--config', src], { encoding: 'utf8' }),
      );
      assert.deepEqual(config.config.Cmd, ['sh', '-c', 'true && echo <ok>']);
    }
    const ociDir = path.join(e.root, 'oci-dir');
    execFileSync('skopeo', ['copy', '-q', `docker-archive:${ours}`, `oci:${ociDir}:copied`]);
    const theirs = path.join(e.root, 'theirs.tar');
    const theirsOci = path.join(e.root, 'theirs-oci.tar');
    execFileSync('skopeo', ['copy', '-q', `oci:${ociDir}:copied`, `docker-archive:${theirs}:team/copy:2`]);
    execFileSync('skopeo', ['copy', '-q', `oci:${ociDir}:copied`, `oci-archive:${theirsOci}:team/copy:3`]);
    const dst = env();
    assert.deepEqual(await dst.images.load(theirs), ['team/copy:2']);
    assert.deepEqual(await dst.images.load(theirsOci), ['team/copy:3']);
    const list = await dst.images.list();
    assert.equal(list.length, 1);
    assert.equal(list[0]!.id, id);
    assert.deepEqual(list[0]!.repoTags, ['team/copy:2', 'team/copy:3']);
    assert.equal(await dst.images.readFile(id, '/etc/passwd'), await e.images.readFile(id, '/etc/passwd'));
  });
});
