import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readFileFromLayers } from './read-file.ts';

const isRoot = process.getuid?.() === 0;

describe('readFileFromLayers', () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-readfile-'));
  after(() => fs.rmSync(base, { recursive: true, force: true }));
  const layer = (name: string, files: Record<string, string | { link: string }>) => {
    const dir = path.join(base, name);
    for (const [p, v] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      if (typeof v === 'string') fs.writeFileSync(path.join(dir, p), v);
      else fs.symlinkSync(v.link, path.join(dir, p));
    }
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  };
  const lower = layer('lower', {
    'etc/passwd': 'root:lower\n',
    'etc/group': 'g:lower\n',
    'etc/hosts': 'hosts\n',
    'opt/app/conf': 'lower conf\n',
    'opt/app/only-lower': 'x\n',
  });
  const upper = layer('upper', {
    'etc/passwd': 'root:upper\n',
    'etc/link': { link: '../etc/group' },
    'etc/abs': { link: '/etc/group' },
    'etc/out': { link: '../../../../../../etc/hostname' },
    'opt/app/conf': 'upper conf\n',
  });
  const view = (opaque: string[] = []) => [
    { dir: upper, opaque: new Set(opaque) },
    { dir: lower, opaque: new Set<string>() },
  ];

  it('reads the topmost version of a file', async () => {
    assert.equal((await readFileFromLayers(view(), '/etc/passwd'))?.toString(), 'root:upper\n');
    assert.equal((await readFileFromLayers(view(), 'etc/group'))?.toString(), 'g:lower\n');
    assert.equal(await readFileFromLayers(view(), '/etc/nothing'), undefined);
    assert.equal(await readFileFromLayers(view(), '/etc'), undefined, 'a directory is not a file');
  });

  it('follows symbolic links across layers, inside the image only', async () => {
    assert.equal((await readFileFromLayers(view(), '/etc/link'))?.toString(), 'g:lower\n');
    assert.equal((await readFileFromLayers(view(), '/etc/abs'))?.toString(), 'g:lower\n');
    assert.equal(
      await readFileFromLayers(view(), '/etc/out'),
      undefined,
      'the host /etc/hostname is out of reach',
    );
  });

  it('honours opaque directories', async () => {
    assert.equal((await readFileFromLayers(view(), '/opt/app/only-lower'))?.toString(), 'x\n');
    assert.equal(await readFileFromLayers(view(['opt/app']), '/opt/app/only-lower'), undefined);
    assert.equal((await readFileFromLayers(view(['opt/app']), '/opt/app/conf'))?.toString(), 'upper conf\n');
  });

  it('honours whiteouts', { skip: isRoot ? false : 'needs root for mknod' }, async () => {
    const wh = layer('wh', {});
    fs.mkdirSync(path.join(wh, 'etc'));
    execFileSync('mknod', [path.join(wh, 'etc/hosts'), 'c', '0', '0']);
    const layers = [{ dir: wh, opaque: new Set<string>() }, ...view()];
    assert.equal(await readFileFromLayers(layers, '/etc/hosts'), undefined);
    assert.equal((await readFileFromLayers(layers, '/etc/passwd'))?.toString(), 'root:upper\n');
  });
});
