import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { busyboxRootfs, type CliResult, HYPERBOX, privilegedSkipReason, TestRoot } from './helpers/cli.ts';

const skip = privilegedSkipReason();
if (skip) console.log(`# skipping image command tests: ${skip}`);

const ID = /^sha256:[0-9a-f]{64}$/;

/** Runs with standard input read from a file and/or standard output written to a file, as `<` and `>` do. */
function runRedirected(t: TestRoot, args: string[], io: { stdin?: string; stdout?: string }): CliResult {
  const input = io.stdin === undefined ? 'pipe' : fs.openSync(io.stdin, 'r');
  const output = io.stdout === undefined ? 'pipe' : fs.openSync(io.stdout, 'w');
  try {
    const r = spawnSync(HYPERBOX, ['--root', t.root, ...args], {
      stdio: [input, output, 'pipe'],
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr };
  } finally {
    if (typeof input === 'number') fs.closeSync(input);
    if (typeof output === 'number') fs.closeSync(output);
  }
}

/** Full ids of every image the root lists, dangling ones included. */
function imageIds(t: TestRoot): string[] {
  return t.ok(['images', '-a', '-q', '--no-trunc']).split('\n').filter(Boolean).sort();
}

function idOf(t: TestRoot, ref: string): string {
  return t.ok(['image', 'inspect', '-f', '{{.Id}}', ref]).trim();
}

/** What the store holds on disk: blob files, unpacked layer directories, leftovers of unfinished writes. */
function storeFiles(t: TestRoot): string[] {
  const list = (dir: string) => {
    try {
      return fs.readdirSync(path.join(t.root, dir)).map((f) => `${dir}/${f}`);
    } catch {
      return [];
    }
  };
  return [
    ...list('content/blobs/sha256'),
    ...list('layers'),
    ...list('content/ingest'),
    ...list('tmp'),
  ].sort();
}

function layerDir(t: TestRoot, diffId: string): string {
  return path.join(t.root, 'layers', diffId.replace(/^sha256:/, ''));
}

function tarMembers(file: string): string[] {
  return execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** A busybox root file system with one extra file, so that its layer is shared with no other image. */
function uniqueRootfs(scratch: string, marker: string): string {
  const dir = path.join(scratch, `rootfs-${marker}`);
  execFileSync('cp', ['-a', busyboxRootfs(), dir]);
  fs.writeFileSync(path.join(dir, 'marker'), `${marker}\n`);
  return dir;
}

describe('images: import, list, tag, remove, inspect through the CLI', { skip }, () => {
  let t: TestRoot;
  let scratch: string;
  let busyboxId: string;
  let rootfsTar: string;
  before(() => {
    t = new TestRoot();
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-images-cli-'));
    busyboxId = t.ok(['image', 'import', busyboxRootfs(), 'busybox:1']).trim();
    rootfsTar = path.join(scratch, 'rootfs.tar');
    execFileSync('tar', ['-C', busyboxRootfs(), '-cf', rootfsTar, '.']);
  });
  after(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
    assert.deepEqual(t.cleanup(), [], 'nothing of the test root may stay on the host');
  });

  it('image import DIR prints the new image id', () => {
    assert.match(busyboxId, ID);
    assert.deepEqual(imageIds(t), [busyboxId]);
    assert.equal(idOf(t, 'busybox:1'), busyboxId);
  });

  it('import of a tar file applies --change: run without a command runs CMD with ENV and WORKDIR', () => {
    const id = t
      .ok([
        'import',
        '--change',
        'CMD ["echo","x"]',
        '--change',
        'ENV A=1',
        '--change',
        'WORKDIR /tmp',
        rootfsTar,
        'withcmd:1',
      ])
      .trim();
    assert.match(id, ID);
    assert.notEqual(id, busyboxId, 'the changes are part of the image config');
    assert.equal(t.ok(['run', '--rm', 'withcmd:1']), 'x\n');
    assert.equal(t.ok(['run', '--rm', 'withcmd:1', 'sh', '-c', 'echo $A $(pwd)']), '1 /tmp\n');
    assert.equal(t.ok(['image', 'inspect', '-f', '{{json .Config.Cmd}}', 'withcmd:1']), '["echo","x"]\n');
    assert.equal(t.ok(['run', '--rm', 'busybox:1', 'sh', '-c', 'echo "[$A]" $(pwd)']), '[] /\n');
  });

  it('import - reads a (gzip) tar piped to standard input', () => {
    const gz = path.join(scratch, 'rootfs.tar.gz');
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(rootfsTar)));
    const r = runRedirected(
      t,
      [
        'import',
        '--change',
        'CMD ["sh","-c","echo piped $A $(pwd)"]',
        '--change',
        'ENV A=1',
        '--change',
        'WORKDIR /tmp',
        '-',
        'piped:1',
      ],
      { stdin: gz },
    );
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.match(r.stdout.trim(), ID);
    assert.equal(idOf(t, 'piped:1'), r.stdout.trim());
    assert.equal(t.ok(['run', '--rm', 'piped:1']), 'piped 1 /tmp\n');
  });

  it('a bad --change exits non-zero naming the instruction and stores nothing', () => {
    const ids = imageIds(t);
    const files = storeFiles(t);
    const r = t.run(['import', '--change', 'FROBNICATE x', busyboxRootfs(), 'bad:1']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /FROBNICATE/);
    assert.equal(r.stdout, '');
    const piped = runRedirected(t, ['import', '-c', 'ENV', '-', 'bad:2'], { stdin: rootfsTar });
    assert.notEqual(piped.status, 0);
    assert.match(piped.stderr, /ENV/);
    assert.deepEqual(imageIds(t), ids);
    assert.deepEqual(storeFiles(t), files);
    assert.equal(t.run(['image', 'inspect', 'bad:1']).status, 1);
  });

  it('images shows a header and a row per tag; -q, --format json and a repository filter', () => {
    assert.equal(t.ok(['tag', 'busybox:1', 'mybox:2']), '');
    const short = busyboxId.slice(7, 19);
    const table = t.ok(['images']);
    assert.match(table, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n/);
    const rows = table.split('\n').slice(1).filter(Boolean);
    assert.ok(
      rows.some((r) => new RegExp(`^busybox\\s+1\\s+${short}\\s+.*\\s+[\\d.]+[kM]?B$`).test(r)),
      table,
    );
    assert.ok(
      rows.some((r) => new RegExp(`^mybox\\s+2\\s+${short}\\s`).test(r)),
      table,
    );

    const quiet = t.ok(['images', '-q']).split('\n').filter(Boolean);
    assert.ok(
      quiet.every((id) => /^[0-9a-f]{12}$/.test(id)),
      quiet.join(','),
    );
    assert.equal(new Set(quiet).size, quiet.length, 'each image once, however many tags it has');
    assert.equal(quiet.filter((id) => id === short).length, 1);
    assert.equal(quiet.length, rows.filter((r) => !/^mybox\s/.test(r)).length);

    const json = t
      .ok(['images', '--format', 'json'])
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, string>);
    assert.equal(json.length, rows.length);
    const mine = json.find((j) => j.Repository === 'mybox');
    assert.equal(mine?.Tag, '2');
    assert.equal(mine?.ID, short);
    assert.match(mine?.Size ?? '', /^[\d.]+[kM]?B$/);
    assert.ok(mine && 'CreatedAt' in mine && 'CreatedSince' in mine, JSON.stringify(mine));

    const filtered = t.ok(['images', 'busybox']).split('\n').slice(1).filter(Boolean);
    assert.equal(filtered.length, 1);
    assert.match(filtered[0]!, new RegExp(`^busybox\\s+1\\s+${short}\\s`));
    assert.equal(t.ok(['images', '--format', '{{.Repository}}:{{.Tag}}', 'mybox']), 'mybox:2\n');
    assert.match(t.ok(['images', 'nosuch']), /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n$/);

    assert.equal(t.ok(['rmi', 'mybox:2']), 'Untagged: mybox:2\n');
    assert.equal(t.ok(['images', '-q', 'mybox']), '');
    assert.equal(t.ok(['images', '-q', 'busybox']), `${short}\n`, 'the image stays under its other tag');
  });

  it('rmi of one of several tags only untags; rmi of the last tag deletes', () => {
    t.ok(['tag', 'busybox:1', 'mybox:3']);
    assert.equal(idOf(t, 'mybox:3'), busyboxId);
    assert.equal(t.ok(['rmi', 'mybox:3']), 'Untagged: mybox:3\n');
    assert.equal(t.run(['image', 'inspect', 'mybox:3']).status, 1);
    assert.equal(idOf(t, 'busybox:1'), busyboxId, 'the image stays while another tag names it');

    const id = t.ok(['import', '-c', 'LABEL gone=1', busyboxRootfs(), 'gone:1']).trim();
    t.ok(['tag', 'gone:1', 'gone:2']);
    assert.equal(t.ok(['image', 'rm', 'gone:2']), 'Untagged: gone:2\n');
    assert.equal(t.ok(['rmi', 'gone:1']), `Untagged: gone:1\nDeleted: ${id}\n`);
    assert.ok(!imageIds(t).includes(id));
    const again = t.run(['rmi', 'gone:1']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /No such image: gone:1/);
  });

  it('rmi is refused while a stopped container uses the image; -f hides it until the container is removed', () => {
    const id = t.ok(['import', uniqueRootfs(scratch, 'used'), 'used:1']).trim();
    const [diffId] = JSON.parse(t.ok(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'used:1']));
    assert.ok(fs.existsSync(layerDir(t, diffId)), 'the layer is unpacked');
    const cid = t.ok(['create', '--name', 'user', 'used:1', 'cat', '/marker']).trim();

    for (const ref of ['used:1', id, id.slice(7, 19)]) {
      const r = t.run(['rmi', ref]);
      assert.equal(r.status, 1, `rmi ${ref}`);
      assert.match(r.stderr, new RegExp(`container ${cid.slice(0, 12)}`));
      assert.equal(r.stdout, '');
    }
    assert.equal(idOf(t, 'used:1'), id, 'a refused rmi changes nothing');

    assert.equal(t.ok(['rmi', '-f', 'used:1']), 'Untagged: used:1\n');
    assert.match(t.ok(['images']), new RegExp(`<none>\\s+<none>\\s+${id.slice(7, 19)}`));
    assert.equal(t.ok(['rmi', '-f', id]), `Deleted: ${id}\n`);
    assert.ok(!imageIds(t).includes(id), 'images -a no longer lists it');
    assert.ok(fs.existsSync(layerDir(t, diffId)), 'its layer stays while the container needs it');

    const started = t.run(['start', '-a', 'user']);
    assert.equal(started.stderr, '');
    assert.equal(started.stdout, 'used\n');
    assert.equal(started.status, 0);
    assert.equal(t.ok(['rm', 'user']), 'user\n');
    assert.ok(!fs.existsSync(layerDir(t, diffId)), 'the layer is reclaimed with the last container');
    assert.ok(!fs.existsSync(path.join(t.root, 'content', 'blobs', 'sha256', id.slice(7))));
    assert.ok(!imageIds(t).includes(id));
    assert.equal(idOf(t, 'busybox:1'), busyboxId, 'other images are untouched');
  });

  it('image inspect prints docker JSON; inspect falls back to images; unknown names exit 1', () => {
    const [view, ...more] = JSON.parse(t.ok(['image', 'inspect', 'busybox:1']));
    assert.equal(more.length, 0);
    assert.equal(view.Id, busyboxId);
    assert.deepEqual(view.RepoTags, ['busybox:1']);
    assert.equal(view.RootFS.Type, 'layers');
    assert.equal(view.RootFS.Layers.length, 1);
    assert.match(view.RootFS.Layers[0], ID);
    assert.equal(typeof view.Config, 'object');
    assert.equal(view.Os, 'linux');
    assert.equal(t.ok(['inspect', '-f', '{{.Id}}', 'busybox:1']), `${busyboxId}\n`);
    assert.equal(
      t.ok(['inspect', '--type', 'image', '-f', '{{.Id}}', busyboxId.slice(7, 19)]),
      `${busyboxId}\n`,
    );

    const r = t.run(['inspect', 'nosuch']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /No such object: nosuch/);
    const img = t.run(['image', 'inspect', 'nosuch']);
    assert.equal(img.status, 1);
    assert.match(img.stderr, /No such image: nosuch/);
  });

  it('run and create of a missing image exit 125 naming the image', () => {
    for (const cmd of ['run', 'create']) {
      const r = t.run([cmd, '--rm', 'nosuch:image', 'true']);
      assert.equal(r.status, 125, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, /nosuch:image/);
    }
    assert.doesNotMatch(t.ok(['ps', '-a', '--format', '{{.Image}}']), /nosuch/, 'no container was made');
  });
});

describe('images: save and load through the CLI', { skip }, () => {
  let t: TestRoot;
  const roots: TestRoot[] = [];
  let scratch: string;
  let id: string;
  const fresh = () => {
    const r = new TestRoot();
    roots.push(r);
    return r;
  };
  before(() => {
    t = fresh();
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-images-cli-'));
    id = t.ok(['image', 'import', '-c', 'CMD ["echo","saved"]', busyboxRootfs(), 'busybox:1']).trim();
  });
  after(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
    for (const r of roots) assert.deepEqual(r.cleanup(), [], 'nothing of a test root may stay on the host');
  });

  it('save -o writes a docker-archive that load -i reads into another root with the same id', () => {
    const file = path.join(scratch, 'busybox.tar');
    assert.equal(t.ok(['save', '-o', file, 'busybox:1']), '');
    const members = tarMembers(file);
    for (const m of ['manifest.json', 'repositories', `blobs/sha256/${id.slice(7)}`])
      assert.ok(members.includes(m), `${m} in ${members.join(', ')}`);
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', file, 'manifest.json'], { encoding: 'utf8' }));
    assert.deepEqual(manifest[0].RepoTags, ['busybox:1']);
    assert.equal(manifest[0].Config, `blobs/sha256/${id.slice(7)}`);

    const other = fresh();
    assert.equal(other.ok(['load', '-i', file]), 'Loaded image: busybox:1\n');
    assert.equal(idOf(other, 'busybox:1'), id);
    assert.equal(other.ok(['run', '--rm', 'busybox:1']), 'saved\n');
  });

  it('save --format oci-archive writes an OCI layout that load reads', () => {
    const file = path.join(scratch, 'busybox-oci.tar');
    t.ok(['image', 'save', '--format', 'oci-archive', '-o', file, 'busybox:1']);
    const members = tarMembers(file);
    for (const m of ['oci-layout', 'index.json', `blobs/sha256/${id.slice(7)}`])
      assert.ok(members.includes(m), `${m} in ${members.join(', ')}`);
    const index = JSON.parse(execFileSync('tar', ['-xOf', file, 'index.json'], { encoding: 'utf8' }));
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.manifests.length, 1);

    const other = fresh();
    assert.equal(other.ok(['image', 'load', '-i', file]), 'Loaded image: busybox:1\n');
    assert.equal(idOf(other, 'busybox:1'), id);
  });

  it('save without -o streams to a redirected stdout; load reads standard input', () => {
    const file = path.join(scratch, 'stdout.tar');
    const saved = runRedirected(t, ['save', 'busybox:1'], { stdout: file });
    assert.equal(saved.stderr, '');
    assert.equal(saved.status, 0);
    assert.ok(tarMembers(file).includes('manifest.json'));

    const other = fresh();
    const loaded = runRedirected(other, ['load'], { stdin: file });
    assert.equal(loaded.stderr, '');
    assert.equal(loaded.stdout, 'Loaded image: busybox:1\n');
    assert.equal(loaded.status, 0);
    assert.deepEqual(imageIds(other), [id]);
    assert.equal(
      other.ok(['load', '-q', '-i', file]),
      '',
      'loading again is quiet with -q and changes nothing',
    );
    assert.deepEqual(imageIds(other), [id]);
  });

  it('refuses a truncated archive or one missing a blob, and the root stays as it was', () => {
    const good = path.join(scratch, 'good.tar');
    t.ok(['save', '-o', good, 'busybox:1']);
    const truncated = path.join(scratch, 'truncated.tar');
    fs.writeFileSync(truncated, fs.readFileSync(good).subarray(0, Math.floor(fs.statSync(good).size / 2)));
    const unpacked = path.join(scratch, 'unpacked');
    fs.mkdirSync(unpacked);
    execFileSync('tar', ['-C', unpacked, '-xf', good]);
    const manifest = JSON.parse(fs.readFileSync(path.join(unpacked, 'manifest.json'), 'utf8'));
    const layer: string = manifest[0].Layers[0];
    fs.rmSync(path.join(unpacked, layer));
    const missing = path.join(scratch, 'missing-blob.tar');
    execFileSync('tar', ['-C', unpacked, '-cf', missing, '.']);

    const other = fresh();
    const otherId = other.ok(['import', '-c', 'LABEL other=1', busyboxRootfs(), 'other:1']).trim();
    const table = other.ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    const files = storeFiles(other);

    const cases: Array<[string, CliResult, RegExp]> = [
      ['truncated -i', other.run(['load', '-i', truncated]), /archive/],
      ['truncated stdin', runRedirected(other, ['load'], { stdin: truncated }), /archive/],
      ['missing blob', other.run(['load', '-i', missing]), new RegExp(`${layer.split('/').pop()}.*missing`)],
      ['empty stdin', runRedirected(other, ['load'], { stdin: '/dev/null' }), /manifest\.json|index\.json/],
    ];
    for (const [what, r, message] of cases) {
      assert.notEqual(r.status, 0, what);
      assert.match(r.stderr, message, what);
      assert.doesNotMatch(r.stdout, /Loaded image/, what);
    }
    assert.equal(other.ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']), table);
    assert.deepEqual(imageIds(other), [otherId]);
    assert.deepEqual(storeFiles(other), files, 'no blob, layer or partial file is left behind');
    assert.equal(other.run(['image', 'inspect', 'busybox:1']).status, 1);
  });

  it('save of a missing image exits 1 and writes no file', () => {
    const file = path.join(scratch, 'none.tar');
    const r = t.run(['save', '-o', file, 'nosuch:1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /No such image: nosuch:1/);
    assert.ok(!fs.existsSync(file));
  });
});

describe('images: image prune through the CLI', { skip }, () => {
  let t: TestRoot;
  before(() => {
    t = new TestRoot();
  });
  after(() => {
    assert.deepEqual(t.cleanup(), [], 'nothing of the test root may stay on the host');
  });

  it('removes dangling images only, then with -a every image no container uses', () => {
    const used = t.ok(['import', busyboxRootfs(), 'busybox:1']).trim();
    const dangling = t.ok(['import', '-c', 'LABEL kind=dangling', busyboxRootfs()]).trim();
    const spare = t.ok(['import', '-c', 'LABEL kind=spare', busyboxRootfs(), 'spare:1']).trim();
    assert.match(t.ok(['images']), new RegExp(`<none>\\s+<none>\\s+${dangling.slice(7, 19)}`));
    t.ok(['create', '--name', 'keeper', 'busybox:1', 'true']);

    const first = t.ok(['image', 'prune', '-f']);
    assert.match(
      first,
      new RegExp(`^Deleted Images:\\ndeleted: ${dangling}\\n\\nTotal reclaimed space: [\\d.]+[kM]?B\\n$`),
    );
    assert.deepEqual(imageIds(t), [used, spare].sort());
    assert.equal(t.ok(['image', 'prune', '-f']), 'Total reclaimed space: 0B\n');

    const all = t.ok(['image', 'prune', '-a', '-f']);
    assert.match(all, new RegExp(`^Deleted Images:\\nuntagged: spare:1\\ndeleted: ${spare}\\n\\n`));
    assert.match(all, /\nTotal reclaimed space: [\d.]+[kM]?B\n$/);
    assert.deepEqual(imageIds(t), [used], 'an image a container uses stays');

    t.ok(['rm', 'keeper']);
    assert.match(t.ok(['image', 'prune', '-af']), new RegExp(`untagged: busybox:1\\ndeleted: ${used}\\n`));
    assert.deepEqual(imageIds(t), []);
    assert.deepEqual(storeFiles(t), [], 'every blob and layer is reclaimed');
  });
});
