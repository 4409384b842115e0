import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { busyboxRootfs, HYPERBOX, privilegedSkipReason } from './helpers/cli.ts';
import { makeTar } from './helpers/image-tar.ts';
import {
  BlobProxy,
  corruptBlobs,
  filesBelow,
  haveTool,
  makeHtpasswd,
  makeTestCa,
  putManifest,
  Registry,
  RegistryUser,
  registrySkipReason,
  runAsync,
  type Tls,
  TokenServer,
  tempDir,
  uploadBlob,
} from './helpers/registry.ts';

/**
 * Pull, push, login and logout against Debian's real docker-registry on 127.0.0.1: plain HTTP, TLS with a test CA
 * plus htpasswd, and the Bearer token flow through a token server of our own; skopeo as the third-party client.
 */
const skip = registrySkipReason() ?? privilegedSkipReason();
if (skip) process.stdout.write(`# registry tests skipped: ${skip}\n`);
const skopeoSkip = haveTool('skopeo') ? false : 'skopeo is not installed';

const users: RegistryUser[] = [];
const registries: Registry[] = [];
const closers: Array<() => Promise<void>> = [];
function user(): RegistryUser {
  const u = new RegistryUser();
  users.push(u);
  return u;
}
async function registry(opts: Parameters<typeof Registry.start>[0] = {}): Promise<Registry> {
  const r = await Registry.start(opts);
  registries.push(r);
  return r;
}
after(async () => {
  for (const close of closers) await close();
  for (const r of registries) await r.stop();
  const litter = users.flatMap((u) => u.cleanup());
  assert.deepEqual(litter, [], 'test roots leave nothing behind');
});

const ESC = '\x1b';
const SECRETS = ['s3cret-Pa55', 'hunter2-token', 'wrong-Pa55'];
function assertNoSecret(...outputs: string[]): void {
  for (const out of outputs)
    for (const s of SECRETS) assert.ok(!out.includes(s), `output shows a password: ${out}`);
}

/** The last non-empty line. */
const lastLine = (s: string) => s.trimEnd().split('\n').at(-1);

describe('registry over plain HTTP', { skip }, () => {
  let reg: Registry;
  let src: RegistryUser;
  let archive: string;
  let ref: string;
  let srcId: string;

  before(async () => {
    reg = await registry();
    src = user();
    src.root.importBusybox();
    srcId = await src.imageId('busybox:1');
    ref = `${reg.host}/busybox:1`;
    await src.ok(['tag', 'busybox:1', ref]);
    archive = path.join(tempDir('hbx-archive-'), 'busybox.tar');
    await src.ok(['save', '-o', archive, 'busybox:1']);
  });

  it('pushes busybox and a fresh root pulls it back with the same id, then runs it', async () => {
    const push = await src.run(['push', ref]);
    assert.equal(push.status, 0, push.stderr);
    assert.match(push.stdout, new RegExp(`^The push refers to repository \\[${reg.host}/busybox\\]$`, 'm'));
    assert.match(push.stdout, /^[a-f0-9]{12}: Pushed$/m);
    assert.match(lastLine(push.stdout)!, /^1: digest: sha256:[a-f0-9]{64} size: \d+$/);
    assert.ok(!push.stdout.includes(ESC), 'no terminal escapes when stdout is not a terminal');

    const dst = user();
    const pull = await dst.run(['pull', ref]);
    assert.equal(pull.status, 0, pull.stderr);
    const lines = pull.stdout.trimEnd().split('\n');
    assert.equal(lines[0], '1: Pulling from busybox');
    assert.match(pull.stdout, /^[a-f0-9]{12}: Pull complete$/m);
    assert.ok(!pull.stdout.includes(ESC));
    assert.match(lines.at(-3)!, /^Digest: sha256:[a-f0-9]{64}$/);
    assert.equal(lines.at(-2), `Status: Downloaded newer image for ${ref}`);
    assert.equal(lines.at(-1), ref);
    assert.equal(await dst.imageId(ref), srcId);

    const again = await dst.run(['image', 'pull', ref]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`^Status: Image is up to date for ${ref}$`, 'm'));

    const quiet = await dst.run(['pull', '-q', ref]);
    assert.equal(quiet.stdout, `${ref}\n`);

    const run = await dst.run(['run', '--rm', ref, 'echo', 'hello from the registry']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'hello from the registry\n');
  });

  it('pushes only what the registry lacks: a second push says the layers exist', async () => {
    const other = `${reg.host}/again/busybox:2`;
    await src.ok(['tag', 'busybox:1', other]);
    await src.ok(['push', ref]);
    const push = await src.run(['push', other]);
    assert.equal(push.status, 0, push.stderr);
    assert.match(push.stdout, /: (Layer already exists|Mounted from busybox)$/m);
  });

  it('run pulls a missing image by itself, and --pull never does not', async () => {
    await src.ok(['push', ref]);
    const dst = user();
    const never = await dst.run(['run', '--rm', '--pull', 'never', ref, 'true']);
    assert.equal(never.status, 125);
    assert.match(never.stderr, /No such image/);
    const run = await dst.run(['run', '--rm', ref, 'echo', 'pulled']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'pulled\n', 'pull progress stays off stdout');
    assert.match(run.stderr, new RegExp(`^Unable to find image '${ref}' locally$`, 'm'));
    assert.match(run.stderr, new RegExp(`^Status: Downloaded newer image for ${ref}$`, 'm'));
    const always = await dst.run(['create', '--pull', 'always', ref]);
    assert.equal(always.status, 0, always.stderr);
    assert.match(always.stderr, /Status: Image is up to date/);
  });

  it('refuses a malformed reference like docker (exit 1) and a missing image with exit 1', async () => {
    const dst = user();
    const bad = await dst.run(['pull', `${reg.host}/UPPER:1`]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /invalid reference format/);
    const missing = await dst.run(['pull', `${reg.host}/nothing:here`]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /not found|manifest unknown/i);
  });

  it('pulls and runs images skopeo pushed (gzip, zstd and uncompressed layers)', {
    skip: skopeoSkip,
  }, async () => {
    const variants: Array<[string, string[]]> = [
      ['gzip', []],
      ['zstd', ['--format', 'oci', '--dest-compress-format', 'zstd', '--dest-compress']],
      ['plain', ['--dest-decompress']],
    ];
    for (const [name, flags] of variants) {
      const target = `${reg.host}/skopeo/${name}:1`;
      const copy = await runAsync('skopeo', [
        'copy',
        '--dest-tls-verify=false',
        ...flags,
        `docker-archive:${archive}`,
        `docker://${target}`,
      ]);
      assert.equal(copy.status, 0, copy.stderr);
      const dst = user();
      const pull = await dst.run(['pull', target]);
      assert.equal(pull.status, 0, `${name}: ${pull.stderr}`);
      assert.equal(await dst.imageId(target), srcId, `${name}: the same config, so the same id`);
      const run = await dst.run(['run', '--rm', target, 'cat', '/etc/group']);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^app:x:1000:$/m);
    }
  });

  it('pushes an image that skopeo copies back and inspects', { skip: skopeoSkip }, async () => {
    const target = `${reg.host}/byhyperbox:1`;
    await src.ok(['tag', 'busybox:1', target]);
    const push = await src.run(['push', target]);
    assert.equal(push.status, 0, push.stderr);
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)![1]!;
    const inspect = await runAsync('skopeo', ['inspect', '--tls-verify=false', `docker://${target}`]);
    assert.equal(inspect.status, 0, inspect.stderr);
    const info = JSON.parse(inspect.stdout) as { Digest: string; Layers: string[]; Architecture: string };
    assert.equal(info.Digest, digest);
    assert.equal(info.Layers.length, 1);
    assert.equal(info.Architecture, 'amd64');
    const oci = path.join(tempDir('hbx-oci-'), 'layout');
    const copy = await runAsync('skopeo', [
      'copy',
      '--src-tls-verify=false',
      `docker://${target}`,
      `oci:${oci}:x`,
    ]);
    assert.equal(copy.status, 0, copy.stderr);
    const config = await runAsync('skopeo', ['inspect', '--config', `oci:${oci}:x`]);
    assert.equal(config.status, 0, config.stderr);
    const raw = await runAsync('skopeo', ['inspect', '--raw', '--config', `oci:${oci}:x`]);
    assert.equal(`sha256:${crypto.createHash('sha256').update(raw.stdout).digest('hex')}`, srcId);
  });

  for (const kind of ['oci', 'docker'] as const) {
    it(`picks the right manifest of a multi-platform ${kind} index`, async () => {
      const repo = `multi-${kind}`;
      const ids: Record<string, string> = {};
      const entries = [];
      for (const architecture of ['amd64', 'arm64']) {
        const layer = await makeTar([{ name: 'platform', content: `linux/${architecture}\n` }]);
        const gz = zlib.gzipSync(layer);
        const config = Buffer.from(
          JSON.stringify({
            architecture,
            os: 'linux',
            created: '2024-01-02T03:04:05Z',
            config: { Cmd: ['cat', '/platform'] },
            rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] },
          }),
        );
        ids[architecture] = await uploadBlob(`http://${reg.host}`, repo, config);
        await uploadBlob(`http://${reg.host}`, repo, gz);
        const manifest = await putManifest(`http://${reg.host}`, repo, architecture, {
          schemaVersion: 2,
          mediaType: MEDIA[kind].manifest,
          config: { mediaType: MEDIA[kind].config, digest: ids[architecture], size: config.length },
          layers: [{ mediaType: MEDIA[kind].layer, digest: `sha256:${sha(gz)}`, size: gz.length }],
        } as { mediaType: string });
        entries.push({
          mediaType: MEDIA[kind].manifest,
          digest: manifest.digest,
          size: manifest.size,
          platform: { architecture, os: 'linux' },
        });
      }
      // The host's platform last, so that "the first one" would be the wrong answer.
      entries.reverse();
      await putManifest(`http://${reg.host}`, repo, '1', {
        schemaVersion: 2,
        mediaType: MEDIA[kind].index,
        manifests: entries,
      } as { mediaType: string });
      const target = `${reg.host}/${repo}:1`;
      const dst = user();
      await dst.ok(['pull', target]);
      assert.equal(await dst.imageId(target), ids.amd64);
      const arm = await dst.run(['pull', '--platform', 'linux/arm64', target]);
      assert.equal(arm.status, 0, arm.stderr);
      assert.match(arm.stdout, /Status: Downloaded newer image/);
      assert.equal(await dst.imageId(target), ids.arm64);
      assert.equal(
        (await dst.ok(['image', 'inspect', '--format', '{{.Architecture}}', target])).trim(),
        'arm64',
      );
      const none = await dst.run(['pull', '--platform', 'linux/s390x', target]);
      assert.equal(none.status, 1);
      assert.match(none.stderr, /linux\/s390x/);
    });
  }

  for (const corruption of ['flip', 'extra', 'short'] as const) {
    it(`refuses a layer served ${corruption === 'flip' ? 'with a byte changed' : `${corruption === 'extra' ? 'longer' : 'shorter'} than its size`}, storing nothing`, async () => {
      await src.ok(['push', ref]);
      const proxy = await new BlobProxy(reg.port).listen();
      closers.push(() => proxy.close());
      const layer = await layerDigest(reg, 'busybox', '1');
      proxy.corrupt = corruption;
      proxy.corruptDigests.add(layer);
      const dst = user();
      const pull = await dst.run(['pull', `${proxy.host}/busybox:1`]);
      assert.equal(pull.status, 1, `${pull.stdout}${pull.stderr}`);
      assert.ok(pull.stderr.includes(layer.slice('sha256:'.length, 'sha256:'.length + 12)), pull.stderr);
      assert.equal(await dst.ok(['images', '-q']), '');
      const root = dst.root.root;
      assert.deepEqual(filesBelow(path.join(root, 'content', 'ingest')), [], 'no partial download left');
      assert.deepEqual(corruptBlobs(path.join(root, 'content', 'blobs', 'sha256')), []);
      assert.deepEqual(filesBelow(path.join(root, 'layers')), [], 'no layer unpacked');
      await proxy.close();
    });
  }

  it('completes a pull that kill -9 interrupted; the store is sane afterwards', async () => {
    const big = user();
    const dir = path.join(tempDir('hbx-big-'), 'rootfs');
    fs.cpSync(busyboxRootfs(), dir, { recursive: true, verbatimSymlinks: true });
    const SIZE = 24 * 1024 * 1024;
    fs.writeFileSync(path.join(dir, 'big'), crypto.randomBytes(SIZE));
    const bigRef = `${reg.host}/big:1`;
    await big.ok(['image', 'import', dir, bigRef]);
    await big.ok(['push', bigRef]);

    const proxy = await new BlobProxy(reg.port).listen();
    closers.push(() => proxy.close());
    proxy.bytesPerSecond = 3 * 1024 * 1024;
    const viaProxy = `${proxy.host}/big:1`;
    const dst = user();
    const child = spawn(HYPERBOX, ['--root', dst.root.root, 'pull', viaProxy], {
      stdio: 'ignore',
      env: { ...process.env, HYPERBOX_CONFIG: dst.config },
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    for (let i = 0; i < 200 && proxy.blobBytes < 4 * 1024 * 1024; i++) await sleep(50);
    assert.ok(proxy.blobBytes >= 4 * 1024 * 1024, 'the pull got going');
    process.kill(child.pid!, 'SIGKILL');
    await exited;

    proxy.bytesPerSecond = undefined;
    const pull = await dst.run(['pull', viaProxy]);
    assert.equal(pull.status, 0, pull.stderr);
    const images = await dst.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.equal(images, `${viaProxy}\n`);
    const root = dst.root.root;
    assert.deepEqual(filesBelow(path.join(root, 'content', 'ingest')), []);
    assert.deepEqual(corruptBlobs(path.join(root, 'content', 'blobs', 'sha256')), []);
    const size = await dst.run(['run', '--rm', viaProxy, 'sh', '-c', 'wc -c < /big']);
    assert.equal(size.status, 0, size.stderr);
    assert.equal(size.stdout.trim(), String(SIZE));
    await proxy.close();
  });
});

describe('registry over TLS with a test CA and htpasswd', { skip }, () => {
  let reg: Registry;
  let tls: Tls;
  let src: RegistryUser;
  let ref: string;
  const password = SECRETS[0]!;

  before(async () => {
    const dir = tempDir('hbx-tls-');
    tls = makeTestCa(dir);
    reg = await registry({ tls, htpasswd: makeHtpasswd(path.join(dir, 'htpasswd'), 'alice', password) });
    src = user();
    src.trust(reg.host, tls.caCert);
    src.root.importBusybox();
    ref = `${reg.host}/team/busybox:1`;
    await src.ok(['tag', 'busybox:1', ref]);
  });

  it('refuses anonymous pushes and pulls: "unauthorized", exit 1', async () => {
    const push = await src.run(['push', ref]);
    assert.equal(push.status, 1);
    assert.match(push.stderr, /unauthorized/);
    const dst = user();
    dst.trust(reg.host, tls.caCert);
    const pull = await dst.run(['pull', ref]);
    assert.equal(pull.status, 1);
    assert.match(pull.stderr, /unauthorized/);
  });

  it('refuses a wrong password at login and stores nothing', async () => {
    const r = await src.run(['login', '-u', 'alice', '--password-stdin', reg.host], {
      input: `${SECRETS[2]}\n`,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unauthorized/);
    assertNoSecret(r.stdout, r.stderr);
    assert.ok(!fs.existsSync(path.join(src.config, 'config.json')) || !configAuths(src)[reg.host]);
  });

  it('logs in, pushes, pulls elsewhere with the same credentials, logs out', async () => {
    const login = await src.run(['login', '-u', 'alice', '--password-stdin', reg.host], {
      input: `${password}\n`,
    });
    assert.equal(login.status, 0, login.stderr);
    assert.equal(login.stdout, 'Login Succeeded\n');
    assertNoSecret(login.stdout, login.stderr);
    const file = path.join(src.config, 'config.json');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(configAuths(src)[reg.host]?.auth, Buffer.from(`alice:${password}`).toString('base64'));

    const push = await src.run(['push', ref]);
    assert.equal(push.status, 0, push.stderr);
    assertNoSecret(push.stdout, push.stderr);

    const dst = user();
    dst.trust(reg.host, tls.caCert);
    const withP = await dst.run(['login', '-u', 'alice', '-p', password, reg.host]);
    assert.equal(withP.status, 0, withP.stderr);
    assert.match(withP.stderr, /WARNING! Using --password via the CLI is insecure/);
    assertNoSecret(withP.stdout, withP.stderr);
    const pull = await dst.run(['pull', ref]);
    assert.equal(pull.status, 0, pull.stderr);
    assert.equal(await dst.imageId(ref), await src.imageId(ref));
    // Through a daemon the CLI keeps its logins and sends them with each transfer: the daemon stores none.
    const basic = Buffer.from(`alice:${password}`).toString('base64');
    for (const u of [src, dst])
      assert.deepEqual(
        [password, basic].flatMap((s) => u.daemonFilesHolding(s)),
        [],
      );

    const logout = await dst.run(['logout', reg.host]);
    assert.equal(logout.status, 0, logout.stderr);
    assert.equal(logout.stdout, `Removing login credentials for ${reg.host}\n`);
    assert.equal(configAuths(dst)[reg.host], undefined);
    await dst.ok(['rmi', ref]);
    const denied = await dst.run(['pull', ref]);
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /unauthorized/);
  });

  it('refuses a registry whose certificate it cannot verify, unless --tls-verify=false', async () => {
    const dst = user(); // no certs.d
    await dst.ok(['login', '-u', 'alice', '--password-stdin', '--tls-verify=false', reg.host], {
      input: password,
    });
    await src.ok(['login', '-u', 'alice', '--password-stdin', reg.host], { input: password });
    await src.ok(['push', ref]);
    const pull = await dst.run(['pull', ref]);
    assert.equal(pull.status, 1);
    const insecure = await dst.run(['pull', '--tls-verify=false', ref]);
    assert.equal(insecure.status, 0, insecure.stderr);
    assert.match(pull.stderr, /certificate/i, 'the error names the certificate it could not verify');
  });
});

describe('registry with Bearer token auth', { skip }, () => {
  let reg: Registry;
  let tokens: TokenServer;
  let src: RegistryUser;
  let ref: string;
  const password = SECRETS[1]!;

  before(async () => {
    tokens = await new TokenServer(tempDir('hbx-token-'), { bob: password }).listen();
    closers.push(() => tokens.close());
    reg = await registry({ token: tokens.auth });
    src = user();
    src.root.importBusybox();
    ref = `${reg.host}/bob/busybox:1`;
    await src.ok(['tag', 'busybox:1', ref]);
  });

  it('refuses an anonymous push: "unauthorized", exit 1', async () => {
    const push = await src.run(['push', ref]);
    assert.equal(push.status, 1);
    assert.match(push.stderr, /unauthorized|denied/);
  });

  it('refuses a wrong password at login', async () => {
    const r = await src.run(['login', '-u', 'bob', '--password-stdin', reg.host], { input: SECRETS[2]! });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unauthorized/);
    assertNoSecret(r.stdout, r.stderr);
  });

  it('logs in through the token server, pushes, pulls elsewhere, logs out', async () => {
    const login = await src.run(['login', '-u', 'bob', '--password-stdin', reg.host], { input: password });
    assert.equal(login.status, 0, login.stderr);
    assert.equal(login.stdout, 'Login Succeeded\n');
    assert.equal(fs.statSync(path.join(src.config, 'config.json')).mode & 0o777, 0o600);
    const push = await src.run(['push', ref]);
    assert.equal(push.status, 0, push.stderr);
    assert.ok(
      tokens.requests.some(
        (r) => r.account === 'bob' && r.scopes.some((s) => /^repository:bob\/busybox:.*push/.test(s)),
      ),
      `a push token was asked for: ${JSON.stringify(tokens.requests)}`,
    );

    const dst = user();
    await dst.ok(['login', '-u', 'bob', '--password-stdin', reg.host], { input: password });
    const pull = await dst.run(['pull', ref]);
    assert.equal(pull.status, 0, pull.stderr);
    assert.equal(await dst.imageId(ref), await src.imageId(ref));
    const run = await dst.run(['run', '--rm', ref, 'echo', 'token ok']);
    assert.equal(run.stdout, 'token ok\n', run.stderr);
    for (const r of [login, push, pull]) assertNoSecret(r.stdout, r.stderr);

    const logout = await src.run(['logout', reg.host]);
    assert.equal(logout.stdout, `Removing login credentials for ${reg.host}\n`);
    const twice = await src.run(['logout', reg.host]);
    assert.equal(twice.stdout, `Not logged in to ${reg.host}\n`);
    const denied = await src.run(['push', ref]);
    assert.equal(denied.status, 1);
  });
});

const MEDIA = {
  oci: {
    index: 'application/vnd.oci.image.index.v1+json',
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  },
  docker: {
    index: 'application/vnd.docker.distribution.manifest.list.v2+json',
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  },
};

function sha(b: Buffer): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

function configAuths(u: RegistryUser): Record<string, { auth?: string }> {
  const file = path.join(u.config, 'config.json');
  if (!fs.existsSync(file)) return {};
  return (
    (JSON.parse(fs.readFileSync(file, 'utf8')) as { auths?: Record<string, { auth?: string }> }).auths ?? {}
  );
}

/** The digest of the first layer of repo:tag, asked of the registry directly. */
async function layerDigest(reg: Registry, repo: string, tag: string): Promise<string> {
  const res = await fetch(`http://${reg.host}/v2/${repo}/manifests/${tag}`, {
    headers: {
      accept: [MEDIA.oci.manifest, MEDIA.docker.manifest].join(', '),
    },
  });
  const manifest = (await res.json()) as { layers: Array<{ digest: string }> };
  return manifest.layers[0]!.digest;
}
