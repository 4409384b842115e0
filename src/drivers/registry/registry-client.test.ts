import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { RegistryConnector } from './connector.ts';
import { FakeRegistry } from './testing/fake-registry.ts';
import { buildImage } from './testing/test-images.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-regc-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function connector(name: string, opts: { now?: () => number } = {}): RegistryConnector {
  const configDir = path.join(tmp, name);
  return new RegistryConnector({
    configDir,
    dockerConfig: null,
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 50 },
    ...opts,
  });
}

describe('RegistryClient auth', () => {
  it('uses Basic credentials from config.json and refuses wrong ones with "unauthorized"', async () => {
    const reg = await FakeRegistry.start({ auth: { scheme: 'basic', users: { alice: 's3cret' } } });
    try {
      const img = buildImage({ layers: [{ files: { a: '1' } }] });
      reg.publish('team/app', 'latest', img);
      const c = connector('basic');
      await c.credentials.set(reg.host, { username: 'alice', password: 's3cret' });
      const client = await c.client(reg.host);
      const m = await client.getManifest('team/app', 'latest');
      assert.deepEqual(m.bytes, img.manifest);
      assert.ok(reg.log.at(-1)!.authorization?.startsWith('Basic '));

      const wrong = c.clientWith(reg.host, { username: 'alice', password: 'nope' });
      await assert.rejects(wrong.getManifest('team/app', 'latest'), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'Unauthenticated');
        assert.match(err.message, /^unauthorized: /);
        assert.doesNotMatch(err.message, /nope/);
        return true;
      });
      await assert.rejects(wrong.checkLogin(), /unauthorized/);
      await client.checkLogin();
      const anonymous = c.clientWith(reg.host, undefined);
      await assert.rejects(
        anonymous.getManifest('team/app', 'latest'),
        /unauthorized: .*authentication required/,
      );
      c.close();
    } finally {
      await reg.close();
    }
  });

  it('runs the Bearer token flow, reuses the token until it expires, and asks again after', async () => {
    const reg = await FakeRegistry.start({
      auth: { scheme: 'bearer', users: { bob: 'pw' }, tokenExpiresIn: 120 },
      redirectBlobs: true,
    });
    try {
      const img = buildImage({ layers: [{ files: { a: '1' } }, { files: { b: '2' } }] });
      reg.publish('team/app', 'latest', img);
      let now = 1_000_000;
      const c = connector('bearer', { now: () => now });
      await c.credentials.set(reg.host, { username: 'bob', password: 'pw' });
      const client = await c.client(reg.host);
      await client.getManifest('team/app', 'latest');
      for (const l of img.layers) (await client.getBlob('team/app', l.digest)).body.resume();
      assert.equal(reg.tokenRequests, 1, 'one token for the manifest and both blobs');
      const tokenLog = reg.log.find((l) => l.path.startsWith('/token'))!;
      assert.match(tokenLog.path, /service=fake-registry/);
      assert.match(decodeURIComponent(tokenLog.path), /scope=repository:team\/app:pull/);
      assert.ok(tokenLog.authorization?.startsWith('Basic '), 'credentials sent to the token server');
      // The redirected blob download does not carry the registry's token to the other path... same origin here,
      // so it may; what matters is that it arrived.
      now += 121_000;
      await client.getManifest('team/app', 'latest');
      assert.equal(reg.tokenRequests, 2, 'a new token once the first expired');
      // Push needs another scope: another token.
      await client.blobSize('team/app', img.layers[0]!.digest, ['pull', 'push']);
      assert.equal(reg.tokenRequests, 3);
      c.close();
    } finally {
      await reg.close();
    }
  });

  it('reports a refused token request as unauthorized', async () => {
    const reg = await FakeRegistry.start({ auth: { scheme: 'bearer', users: { bob: 'pw' } } });
    try {
      const c = connector('bearer-bad');
      await assert.rejects(
        c.clientWith(reg.host, { username: 'bob', password: 'wrong' }).checkLogin(),
        (err: Error & { code?: string }) =>
          err.code === 'Unauthenticated' && /unauthorized/.test(err.message),
      );
      await c.clientWith(reg.host, { username: 'bob', password: 'pw' }).checkLogin();
      c.close();
    } finally {
      await reg.close();
    }
  });
});

describe('RegistryClient resilience', () => {
  it('gives up after the bounded number of attempts with the status in the message', async () => {
    const reg = await FakeRegistry.start();
    try {
      reg.publish('x/y', 'latest', buildImage({ layers: [{ files: { a: '1' } }] }));
      reg.fail(/manifests/, 500, 10);
      const client = await connector('giveup').client(reg.host);
      await assert.rejects(client.getManifest('x/y', 'latest'), /answered 500/);
      assert.equal(reg.log.filter((l) => l.path.includes('manifests')).length, 3);
    } finally {
      await reg.close();
    }
  });

  it('refuses a plain-HTTP registry that is neither loopback nor marked insecure', async () => {
    const c = new RegistryConnector({
      configDir: path.join(tmp, 'tls'),
      dockerConfig: null,
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const client = c.clientWith('registry.invalid:5000', undefined);
    assert.deepEqual(client.endpoint.schemes, ['https']);
    const insecure = new RegistryConnector({ configDir: tmp, insecure: ['registry.invalid:5000'] });
    assert.deepEqual(insecure.clientWith('registry.invalid:5000', undefined).endpoint.schemes, [
      'https',
      'http',
    ]);
    c.close();
    insecure.close();
  });
});
