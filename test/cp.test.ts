import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { busyboxRootfs, privilegedSkipReason, TestRoot } from './helpers/cli.ts';
import { serveOn } from './helpers/serve.ts';

/**
 * `cp`'s semantics where the old code lost data or followed a container's link on the host, in both transports
 * (test/daemon-mode.test.ts runs this file through a daemon too). The expected outcomes and words were taken from
 * Debian's dockerd 20.10.24 with docker CLI 28.2 on the same cases (an image with `evil -> <host file>`, `/dir/FILE`
 * a directory, `/dangling -> /nowhere`, `/data/link -> /data/sub`):
 *   cp -L c1:/evil out            -> "Could not find the file <target> in container c1", exit 1, nothing written
 *   cp c1:/data/link/. out        -> out/ with the directory's contents     cp c1:/data/link out -> a link
 *   cp FILE c1:/dir/              -> `cannot overwrite directory "/dir/FILE" with non-directory "/dir"`, exit 1
 *   cp FILE c1:/dangling/         -> "no such directory", exit 1            cp FILE c1:/dangling -> /nowhere made
 *   cp DIR c1:/data/f             -> "cannot copy directory", exit 1
 *   cp c1:/data/f adir/ (adir/f a directory) -> `cannot overwrite directory ".../adir/f" with non-directory ...`
 *   owners: into the container the tar's (1234:4321 stays 1234:4321, with or without -a); out of it the caller's.
 * Differences kept on purpose: a "not a directory" failure names the path inside the container, never the host's
 * overlay path dockerd printed; -a out of a container keeps the container's owners, as docker documents (its CLI
 * ignores -a in that direction).
 */
const skip = privilegedSkipReason();
if (skip) console.log(`# skipping cp tests: ${skip}`);

describe('cp: paths resolved inside the container, with docker semantics', { skip }, () => {
  let t: TestRoot;
  let work: string;
  let hostSecret: string;
  let hostFile: string;
  let daemon: { stop(): Promise<void> } | undefined;
  let socket: string;

  before(async () => {
    t = new TestRoot();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-cp-sem-'));
    hostSecret = `HOST-SHADOW-${process.pid}`;
    hostFile = path.join(work, 'shadow-canary');
    fs.writeFileSync(hostFile, `${hostSecret}\n`);
    // An image whose links point at host paths: the host's file by its host name, and one the container also has.
    const rootfs = path.join(work, 'rootfs');
    execFileSync('cp', ['-a', busyboxRootfs(), rootfs]);
    fs.symlinkSync(hostFile, path.join(rootfs, 'evil'));
    fs.symlinkSync(path.join(work, 'both'), path.join(rootfs, 'evil2'));
    fs.mkdirSync(path.join(rootfs, work), { recursive: true });
    fs.writeFileSync(path.join(rootfs, work, 'both'), 'the container file\n');
    fs.writeFileSync(path.join(work, 'both'), `${hostSecret}\n`);
    t.ok(['image', 'import', rootfs, 'evil:1']);
    fs.rmSync(rootfs, { recursive: true, force: true });
    t.ok([
      'run',
      '-d',
      '--name',
      'sem',
      'evil:1',
      'sh',
      '-c',
      'mkdir -p /dir/FILE /data/sub && echo precious > /dir/FILE/keep && echo in > /data/sub/a && ' +
        'echo f > /data/f && ln -sfn /data/sub /data/link && ln -sfn /nowhere /dangling && ln -sfn / /data/root && ' +
        'touch /ready && sleep 300',
    ]);
    for (let i = 0; i < 100 && t.run(['exec', 'sem', 'test', '-e', '/ready']).status !== 0; i++)
      await sleep(50);
    fs.writeFileSync(path.join(work, 'FILE'), 'from the host\n');
    fs.chownSync(path.join(work, 'FILE'), 1234, 4321);
    fs.mkdirSync(path.join(work, 'DIR/x'), { recursive: true });
    socket = path.join(work, 'api.sock');
    daemon = await serveOn(t.root, socket);
  });

  after(async () => {
    await daemon?.stop();
    const litter = t.cleanup();
    fs.rmSync(work, { recursive: true, force: true });
    assert.deepEqual(litter, [], 'nothing of the test root may stay on the host');
  });

  const out = (name: string) => path.join(work, name);

  it('-L follows a link inside the container: the container file, or not found; never the host file', () => {
    for (const state of ['running', 'stopped']) {
      const r = t.run(['cp', '-L', 'sem:/evil', out(`evil-${state}`)]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`Could not find the file ${hostFile} in container sem`));
      assert.equal(fs.existsSync(out(`evil-${state}`)), false);
      t.ok(['cp', '-L', 'sem:/evil2', out(`evil2-${state}`)]);
      assert.equal(fs.readFileSync(out(`evil2-${state}`), 'utf8'), 'the container file\n');
      // Without -L the link itself, as a link (its text is the container's, it is never followed here).
      t.ok(['cp', 'sem:/evil', out(`link-${state}`)]);
      assert.equal(fs.readlinkSync(out(`link-${state}`)), hostFile);
      if (state === 'running') t.ok(['stop', '-t', '0', 'sem']);
    }
    t.ok(['start', 'sem']);
    for (let i = 0; i < 100 && t.run(['exec', 'sem', 'test', '-e', '/data/link']).status !== 0; i++)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  });

  it('link/. copies the directory it leads to; link/ too; a plain link stays a link', () => {
    t.ok(['cp', 'sem:/data/link/.', out('dot')]);
    assert.equal(fs.lstatSync(out('dot')).isDirectory(), true);
    assert.equal(fs.readFileSync(out('dot/a'), 'utf8'), 'in\n');
    t.ok(['cp', 'sem:/data/link/', out('slash')]);
    assert.equal(fs.readFileSync(out('slash/a'), 'utf8'), 'in\n');
    t.ok(['cp', 'sem:/data/link', out('plain')]);
    assert.equal(fs.readlinkSync(out('plain')), '/data/sub');
    // A directory holding a link to "/": copied as a link, nothing outside the destination is written.
    t.ok(['cp', 'sem:/data', out('data')]);
    assert.equal(fs.readlinkSync(out('data/root')), '/');
    assert.equal(fs.readFileSync(out('data/f'), 'utf8'), 'f\n');
  });

  it("copies a running container's whole root: its files, with /proc and /sys as empty directories", () => {
    t.ok(['cp', 'sem:/', out('whole')]);
    assert.match(fs.readFileSync(out('whole/etc/passwd'), 'utf8'), /^root:/);
    assert.equal(fs.readFileSync(out('whole/data/sub/a'), 'utf8'), 'in\n');
    assert.deepEqual(fs.readdirSync(out('whole/proc')), []);
    assert.deepEqual(fs.readdirSync(out('whole/sys')), []);
  });

  it('refuses to replace a directory with a file, on both sides, and loses nothing', () => {
    const r = t.run(['cp', out('FILE'), 'sem:/dir/']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /cannot overwrite directory "\/dir\/FILE" with non-directory "\/dir"/);
    assert.equal(t.ok(['exec', 'sem', 'cat', '/dir/FILE/keep']), 'precious\n');
    fs.mkdirSync(out('adir/f'), { recursive: true });
    fs.writeFileSync(out('adir/f/keep'), 'mine\n');
    const back = t.run(['cp', 'sem:/data/f', out('adir/')]);
    assert.equal(back.status, 1, back.stderr);
    assert.match(back.stderr, /cannot overwrite directory ".*\/adir\/f" with non-directory ".*\/adir"/);
    assert.equal(fs.readFileSync(out('adir/f/keep'), 'utf8'), 'mine\n');
    const dirOnFile = t.run(['cp', out('DIR'), 'sem:/data/f']);
    assert.equal(dirOnFile.status, 1);
    assert.match(dirOnFile.stderr, /cannot copy directory/);
    assert.equal(t.ok(['exec', 'sem', 'cat', '/data/f']), 'f\n');
  });

  it('a trailing "/" on a dangling link is refused; without it the link target is created, as docker', () => {
    const r = t.run(['cp', out('FILE'), 'sem:/dangling/']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /no such directory/);
    assert.equal(t.ok(['exec', 'sem', 'readlink', '/dangling']), '/nowhere\n');
    assert.notEqual(t.run(['exec', 'sem', 'test', '-e', '/nowhere']).status, 0);
    const missingDir = t.run(['cp', out('FILE'), 'sem:/nosuch/deeper']);
    assert.equal(missingDir.status, 1);
    assert.match(missingDir.stderr, /Could not find the file \/nosuch in container sem/);
    t.ok(['cp', out('FILE'), 'sem:/dangling']);
    assert.equal(t.ok(['exec', 'sem', 'cat', '/nowhere']), 'from the host\n');
    assert.equal(t.ok(['exec', 'sem', 'readlink', '/dangling']), '/nowhere\n');
  });

  it("keeps the tar's owners going in, gives the caller's going out unless -a", () => {
    t.ok(['cp', out('FILE'), 'sem:/data/owned']);
    assert.equal(t.ok(['exec', 'sem', 'stat', '-c', '%u:%g', '/data/owned']), '1234:4321\n');
    t.ok(['cp', 'sem:/data/owned', out('owned')]);
    assert.equal(`${fs.statSync(out('owned')).uid}:${fs.statSync(out('owned')).gid}`, '0:0');
    t.ok(['cp', '-a', 'sem:/data/owned', out('owned-a')]);
    assert.equal(`${fs.statSync(out('owned-a')).uid}:${fs.statSync(out('owned-a')).gid}`, '1234:4321');
  });

  it('the docker CLI through the daemon gets the same answers', { skip: !haveDocker() }, () => {
    const docker = (args: string[]) =>
      spawnSync('docker', args, {
        encoding: 'utf8',
        env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: work },
      });
    const evil = docker(['cp', '-L', 'sem:/evil', out('d-evil')]);
    assert.equal(evil.status, 1);
    assert.match(evil.stderr, new RegExp(`Could not find the file ${hostFile} in container sem`));
    assert.equal(fs.existsSync(out('d-evil')), false);
    assert.equal(docker(['cp', '-L', 'sem:/evil2', out('d-evil2')]).status, 0);
    assert.equal(fs.readFileSync(out('d-evil2'), 'utf8'), 'the container file\n');
    assert.equal(docker(['cp', 'sem:/data/link/.', out('d-dot')]).status, 0);
    assert.equal(fs.readFileSync(out('d-dot/a'), 'utf8'), 'in\n');
    const over = docker(['cp', out('FILE'), 'sem:/dir/']);
    assert.equal(over.status, 1);
    assert.match(over.stderr, /cannot overwrite directory "\/dir\/FILE" with non-directory "\/dir"/);
    assert.match(docker(['cp', out('FILE'), 'sem:/dangling/']).stderr, /no such directory/);
    assert.equal(t.ok(['exec', 'sem', 'cat', '/dir/FILE/keep']), 'precious\n');
  });

  it("exec -u looks the user up in the container's /etc/passwd, never in a host file it links to", () => {
    fs.writeFileSync(out('passwd'), 'hostonly:x:4242:4242::/:/bin/sh\n');
    t.ok([
      'exec',
      'sem',
      'sh',
      '-c',
      `cp /etc/passwd /etc/passwd.orig && ln -sf ${out('passwd')} /etc/passwd`,
    ]);
    try {
      const r = t.run(['exec', '-u', 'hostonly', 'sem', 'id', '-u']);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /unable to find user hostonly/);
      assert.equal(t.ok(['exec', '-u', '1000', 'sem', 'id', '-u']), '1000\n');
    } finally {
      t.ok(['exec', 'sem', 'sh', '-c', 'mv -f /etc/passwd.orig /etc/passwd']);
    }
  });

  it("the archive API answers odd paths with 404/400 in the container's words, never a host path", async () => {
    const ask = (method: string, p: string) => request(socket, method, `/containers/sem/archive?path=${p}`);
    for (const p of ['/proc/self/root', '/proc/self/root/etc/passwd', '/proc/1/root/etc/shadow', '/evil']) {
      const get = await ask('GET', encodeURIComponent(p));
      if (p === '/evil') {
        assert.equal(get.status, 200, get.body); // the link itself, as a link
        assert.equal(get.body.includes(hostSecret), false);
        continue;
      }
      assert.equal(get.status, 404, `${p}: ${get.body}`);
      assert.equal(JSON.parse(get.body).message, `Could not find the file ${p} in container sem`);
      assert.equal((await ask('HEAD', encodeURIComponent(p))).status, 404);
      const put = await ask('PUT', encodeURIComponent(p));
      assert.equal(put.status, 404, put.body);
      assert.doesNotMatch(put.body, new RegExp(`${t.root}|/proc/self/fd`));
    }
    const up = await ask('GET', encodeURIComponent('../../../etc/passwd'));
    assert.equal(up.status, 200);
    assert.match(up.body, /app:x:1000:1000:app:\/home\/app/, "the container's passwd");
    assert.equal((await ask('GET', '')).status, 400);
    assert.equal((await ask('GET', 'a%00b')).status, 400);
    const notDir = await ask('GET', encodeURIComponent('/data/f/'));
    assert.equal(notDir.status, 400);
    assert.doesNotMatch(notDir.body, new RegExp(t.root));
  });
});

function haveDocker(): boolean {
  return spawnSync('sh', ['-c', 'command -v docker']).status === 0;
}

function request(
  socketPath: string,
  method: string,
  urlPath: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: urlPath }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}
