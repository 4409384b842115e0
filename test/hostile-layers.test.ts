import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { InvalidArgumentError } from '../src/core/errors.ts';
import { layoutFor } from '../src/core/paths.ts';
import { applyLayer } from '../src/drivers/layers/apply-layer.ts';
import { FileLayerStore } from '../src/drivers/layers/file-layer-store.ts';
import { dockerArchive, ociArchive } from './helpers/image-archive.ts';
import { eventActions, type ImageEnv, listTree, makeImageEnv } from './helpers/image-env.ts';
import { makeTar, type TarEntry } from './helpers/image-tar.ts';

/**
 * A corpus of hostile layers, generated here. Each is unpacked into `<sandbox>/root`; next to it live a canary file
 * and a directory that a broken unpacker would overwrite, chmod, link to, or fill. After every case the sandbox
 * outside `root` must be exactly as before (names, types, modes, owners, link counts, contents, attributes), and
 * every refusal must name the entry.
 */
const isRoot = process.getuid?.() === 0;
const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-hostile-'));
const OUT = path.join(sandbox, 'outside'); // absolute, so planted symlinks can aim at it
const CANARY = path.join(OUT, 'canary');

function snapshot(): string {
  const lines: string[] = [];
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    let extra = '';
    if (st.isFile()) extra = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    if (st.isSymbolicLink()) extra = fs.readlinkSync(p);
    lines.push(
      `${path.relative(sandbox, p)} ${st.mode.toString(8)} ${st.uid}:${st.gid} n${st.nlink} ${st.mtimeMs} ${extra}`,
    );
    if (st.isDirectory()) {
      for (const n of fs.readdirSync(p).sort()) {
        if (p === sandbox && n === 'root') continue;
        walk(path.join(p, n));
      }
    }
  };
  walk(sandbox);
  let attrs = '';
  try {
    attrs = execFileSync('getfattr', ['-R', '-P', '-d', '-m', '-', '--absolute-names', OUT], {
      encoding: 'utf8',
    });
  } catch {
    // getfattr missing: the file listing alone still proves most cases
  }
  return `${lines.join('\n')}\n${attrs}`;
}

before(() => {
  fs.mkdirSync(path.join(OUT, 'dir'), { recursive: true, mode: 0o755 });
  fs.writeFileSync(CANARY, 'do not touch\n', { mode: 0o644 });
  fs.writeFileSync(path.join(sandbox, 'sibling'), 'next to root\n');
});
after(() => fs.rmSync(sandbox, { recursive: true, force: true }));

type Outcome = { refused: RegExp; entry: string } | { inside: string[] } | 'ok';

interface Case {
  name: string;
  entries: TarEntry[];
  outcome: Outcome;
  needsRoot?: boolean;
}

const file = (name: string, content = 'pwned\n', more: Partial<TarEntry> = {}): TarEntry => ({
  name,
  content,
  ...more,
});
const sym = (name: string, linkname: string): TarEntry => ({ name, type: 'symlink', linkname });
const hard = (name: string, linkname: string): TarEntry => ({ name, type: 'link', linkname });
const dir = (name: string, mode = 0o755): TarEntry => ({ name, type: 'directory', mode });
const rel = (p: string) => p.replace(/^\//, '');

const cases: Case[] = [
  {
    name: 'a ../ path',
    entries: [file('../escape')],
    outcome: { refused: /escapes the layer root/, entry: '../escape' },
  },
  {
    name: 'a deep ../ path to the canary',
    entries: [file(`../../../../../../../..${CANARY}`)],
    outcome: { refused: /escapes the layer root/, entry: '../../../../' },
  },
  {
    name: 'a ../ hidden behind a directory',
    entries: [file('a/../../escape')],
    outcome: { refused: /escapes/, entry: 'a/../../escape' },
  },
  { name: 'a harmless a/../b stays inside', entries: [file('a/../b')], outcome: { inside: ['b'] } },
  {
    name: 'an absolute path is relative to the layer root',
    entries: [file(CANARY)],
    outcome: { inside: [rel(CANARY)] },
  },
  {
    name: 'a write through a planted absolute symlink',
    entries: [sym('evil', OUT), file('evil/canary')],
    outcome: { inside: [`${rel(OUT)}/canary`] },
  },
  {
    name: 'a write through a planted relative symlink climbing out',
    entries: [sym('evil', '../../../../../../..'), file(`evil${CANARY}`)],
    outcome: { inside: [rel(CANARY)] },
  },
  {
    name: 'a write through a symlink in a deeper directory',
    entries: [dir('d/'), sym('d/up', '../..'), file('d/up/sibling')],
    outcome: { inside: ['sibling'] },
  },
  {
    name: 'a symlink chain ending outside',
    entries: [sym('a', 'b'), sym('b', 'c'), sym('c', OUT), file('a/canary')],
    outcome: { inside: [`${rel(OUT)}/canary`] },
  },
  {
    name: 'a regular file over a symlink to the canary replaces the link',
    entries: [sym('evil', CANARY), file('evil')],
    outcome: { inside: ['evil'] },
  },
  {
    name: 'a directory over a symlink to an outside directory replaces the link',
    entries: [sym('evil', OUT), dir('evil/', 0o777)],
    outcome: { inside: ['evil'] },
  },
  {
    name: 'a hard link to ../ outside',
    entries: [hard('x', '../outside/canary')],
    outcome: { refused: /escapes the layer root/, entry: '../outside/canary' },
  },
  {
    name: 'a hard link to an absolute outside path',
    entries: [hard('x', CANARY)],
    outcome: { refused: /is not in the layer/, entry: 'x' },
  },
  {
    name: 'a hard link through a planted symlink',
    entries: [sym('d', OUT), hard('x', 'd/canary')],
    outcome: { refused: /is not in the layer/, entry: 'x' },
  },
  {
    name: 'a hard link to a symlink links the symlink itself',
    entries: [sym('evil', CANARY), hard('x', 'evil'), file('x/more')],
    outcome: { inside: ['x', `${rel(CANARY)}/more`] },
  },
  {
    name: 'a hard link to a directory',
    entries: [dir('d/'), hard('x', 'd')],
    outcome: { refused: /points to a directory/, entry: 'x' },
  },
  {
    name: 'a symlink loop',
    entries: [sym('loop1', 'loop2'), sym('loop2', 'loop1'), file('loop1/x')],
    outcome: { refused: /too many levels of symbolic links/, entry: 'loop1/x' },
  },
  {
    name: 'a huge symlink chain',
    entries: [
      ...Array.from({ length: 200 }, (_, i) => sym(`l${i}`, i === 199 ? OUT : `l${i + 1}`)),
      file('l0/canary'),
    ],
    outcome: { refused: /too many levels of symbolic links/, entry: 'l0/canary' },
  },
  {
    name: 'a self-referencing symlink used as a directory',
    entries: [sym('self', 'self/self'), file('self/x')],
    outcome: { refused: /too many levels/, entry: 'self/x' },
  },
  {
    name: 'a whiteout of ..',
    entries: [file('d/.wh...', '')],
    outcome: { refused: /names no file/, entry: 'd/.wh...' },
  },
  {
    name: 'a whiteout of .',
    entries: [file('.wh..', '')],
    outcome: { refused: /names no file/, entry: '.wh..' },
  },
  {
    name: 'a whiteout through a planted symlink',
    entries: [sym('evil', OUT), file('evil/.wh.canary', '')],
    outcome: { inside: [`${rel(OUT)}/canary`] },
    needsRoot: true,
  },
  {
    name: 'an opaque marker through a planted symlink',
    entries: [sym('evil', OUT), file('evil/.wh..wh..opq', '')],
    outcome: { inside: [rel(OUT)] },
    needsRoot: true,
  },
  {
    name: 'a device node over a symlink to the canary',
    entries: [sym('evil', CANARY), { name: 'evil', type: 'character-device', devmajor: 1, devminor: 3 }],
    outcome: { inside: ['evil'] },
    needsRoot: true,
  },
  {
    name: 'a device node through a planted symlink',
    entries: [sym('evil', OUT), { name: 'evil/canary', type: 'block-device', devmajor: 7, devminor: 0 }],
    outcome: { inside: [`${rel(OUT)}/canary`] },
    needsRoot: true,
  },
  {
    name: 'deferred work under a directory later replaced by a symlink',
    entries: [
      dir('a/'),
      file('a/canary', 'x', { pax: { 'SCHILY.xattr.user.pwn': 'yes' } }),
      { name: 'a/node', type: 'fifo' },
      file('a/.wh..wh..opq', ''),
      sym('a', OUT),
    ],
    outcome: { inside: ['a'] },
    needsRoot: true,
  },
  {
    name: 'a fifo and a setuid file stay inside',
    entries: [{ name: 'p', type: 'fifo' }, file('suid', '#!', { mode: 0o4755 })],
    outcome: { inside: ['p', 'suid'] },
    needsRoot: true,
  },
  {
    name: 'overlay attributes from the tar are ignored',
    entries: [dir('d/'), file('d/f', 'x', { pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } })],
    outcome: { inside: ['d/f'] },
  },
  {
    name: 'a root entry that is not a directory',
    entries: [file('./')],
    outcome: { refused: /escapes|not a directory|root/, entry: './' },
  },
  {
    name: 'a file whose parent is a file',
    entries: [file('f'), file('f/g')],
    outcome: { refused: /is not a directory/, entry: 'f/g' },
  },
];

describe('hostile layers cannot touch anything outside their directory', () => {
  for (const c of cases) {
    it(c.name, {
      skip: c.needsRoot && !isRoot ? 'needs root (mknod / trusted.* attributes)' : false,
    }, async () => {
      const root = path.join(sandbox, 'root');
      fs.rmSync(root, { recursive: true, force: true });
      fs.mkdirSync(root);
      const beforeSnap = snapshot();
      const tar = await makeTar(c.entries);
      const run = applyLayer(Readable.from([tar]), root, {
        label: 'sha256:hostile',
        preserveOwnership: isRoot,
        scratchDir: root,
      });
      if (c.outcome !== 'ok' && 'refused' in c.outcome) {
        const { refused, entry } = c.outcome;
        await assert.rejects(run, (err: unknown) => {
          assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${err}`);
          assert.match(err.message, refused);
          assert.ok(
            err.message.includes(entry),
            `message ${JSON.stringify(err.message)} should name ${entry}`,
          );
          assert.match(err.message, /^layer sha256:hostile: /);
          return true;
        });
      } else {
        await run;
        if (c.outcome !== 'ok') {
          for (const p of c.outcome.inside)
            assert.ok(fs.lstatSync(path.join(root, p)), `${p} should exist in the layer`);
        }
      }
      assert.equal(snapshot(), beforeSnap, 'something outside the layer directory changed');
      assert.equal(fs.readFileSync(CANARY, 'utf8'), 'do not touch\n');
    });
  }
});

describe('a refused layer leaves nothing behind', () => {
  it('in the layer store', async () => {
    const layout = layoutFor(path.join(sandbox, 'store'));
    const store = new FileLayerStore({ layout });
    const blob = path.join(sandbox, 'hostile.tar');
    fs.writeFileSync(
      blob,
      await makeTar([file('ok'), sym('evil', 'loop'), sym('loop', 'evil'), file('evil/x')]),
    );
    await assert.rejects(store.unpack({ blob, parent: undefined, label: 'sha256:bad' }), /too many levels/);
    assert.deepEqual(listTree(layout.layers), []);
    assert.deepEqual(listTree(layout.tmp), []);
    fs.rmSync(blob);
  });
});

describe('hostile input through the image service', () => {
  const hostile = () => makeTar([file('fine'), sym('evil', OUT), file('../../escape')]);

  async function assertStoreUnchanged(run: (env: ImageEnv) => Promise<unknown>) {
    const env = makeImageEnv('hb-hostile-store-');
    try {
      const { id } = await env.images.importRootfs(path.join(sandbox, 'good.tar'), 'good:1', { changes: [] });
      const beforeTree = listTree(path.join(env.root, 'content')).concat(listTree(env.layout.layers));
      const beforeList = await env.images.list();
      const beforeEvents = eventActions(env);
      const beforeSnap = snapshot();
      await assert.rejects(run(env), (err: unknown) => {
        assert.ok(err instanceof InvalidArgumentError, String(err));
        assert.match(err.message, /entry "\.\.\/\.\.\/escape" escapes the layer root/);
        return true;
      });
      assert.deepEqual(
        listTree(path.join(env.root, 'content')).concat(listTree(env.layout.layers)),
        beforeTree,
      );
      assert.deepEqual(listTree(env.layout.tmp), []);
      assert.deepEqual(await env.images.list(), beforeList);
      assert.deepEqual(eventActions(env), beforeEvents);
      assert.equal((await env.images.resolve('good:1')).id, id);
      assert.equal(snapshot(), beforeSnap);
    } finally {
      env.close();
    }
  }

  before(async () => {
    fs.writeFileSync(path.join(sandbox, 'good.tar'), await makeTar([file('hello', 'hi\n')]));
  });

  it('importRootfs of a hostile tar', async () => {
    const tarFile = path.join(sandbox, 'hostile-import.tar');
    fs.writeFileSync(tarFile, await hostile());
    await assertStoreUnchanged((env) => env.images.importRootfs(tarFile, 'evil:1', { changes: [] }));
  });

  it('load of a docker-archive with a hostile layer', async () => {
    const archive = await dockerArchive({ layers: [await hostile()], repoTags: ['evil:1'] });
    await assertStoreUnchanged((env) => env.images.load(Readable.from([archive])));
  });

  it('load of an OCI archive whose second layer is hostile', async () => {
    const good = await makeTar([file('base', 'b\n')]);
    const archive = await ociArchive({ layers: [good, await hostile()], repoTags: ['evil:2'] });
    await assertStoreUnchanged((env) => env.images.load(Readable.from([archive])));
  });
});
