import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CredentialStore } from './credential-store.ts';

describe('CredentialStore', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-cred-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes docker-compatible auths with mode 0600, keeps other keys, and logout removes the entry', async () => {
    const configDir = path.join(dir, 'cfg');
    fs.mkdirSync(configDir);
    fs.writeFileSync(
      path.join(configDir, 'config.json'),
      JSON.stringify({ auths: {}, credsStore: 'none', proxies: { x: 1 } }),
    );
    const store = new CredentialStore({ configDir, dockerConfig: null });
    await store.set('127.0.0.1:5000', { username: 'alice', password: 'p:a:ss' });
    await store.set('docker.io', { username: 'bob', password: 'hub' });
    const file = path.join(configDir, 'config.json');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(raw.auths['127.0.0.1:5000'], { auth: Buffer.from('alice:p:a:ss').toString('base64') });
    assert.ok(raw.auths['https://index.docker.io/v1/'], "docker hub under docker's legacy key");
    assert.equal(raw.credsStore, 'none');
    assert.deepEqual(raw.proxies, { x: 1 });
    assert.deepEqual(await store.get('127.0.0.1:5000'), { username: 'alice', password: 'p:a:ss' });
    assert.deepEqual(await store.get('docker.io'), { username: 'bob', password: 'hub' });
    assert.equal(await store.remove('127.0.0.1:5000'), true);
    assert.equal(await store.remove('127.0.0.1:5000'), false);
    assert.equal(await store.get('127.0.0.1:5000'), undefined);
    assert.ok(JSON.parse(fs.readFileSync(file, 'utf8')).auths['https://index.docker.io/v1/']);
    assert.deepEqual(fs.readdirSync(configDir), ['config.json'], 'no temporary file left');
  });

  it("falls back to docker's config.json, read-only, and refuses a malformed file", async () => {
    const dockerConfig = path.join(dir, 'docker.json');
    fs.writeFileSync(
      dockerConfig,
      JSON.stringify({ auths: { 'reg:5000': { auth: Buffer.from('u:p').toString('base64') } } }),
    );
    const store = new CredentialStore({ configDir: path.join(dir, 'empty'), dockerConfig });
    assert.deepEqual(await store.get('reg:5000'), { username: 'u', password: 'p' });
    assert.equal(await store.remove('reg:5000'), false);
    assert.ok(JSON.parse(fs.readFileSync(dockerConfig, 'utf8')).auths['reg:5000'], "docker's file untouched");
    fs.writeFileSync(dockerConfig, JSON.stringify({ auths: { 'reg:5000': { auth: 42 } } }));
    await assert.rejects(store.get('reg:5000'), /auths\["reg:5000"\]\.auth: must be a string/);
  });
});
