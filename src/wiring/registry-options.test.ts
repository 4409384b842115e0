import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { registryOptionsFrom } from './registry-options.ts';

describe('registry options', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-regopts-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('takes the config directory from HYPERBOX_CONFIG, else ~/.hyperbox', () => {
    assert.deepEqual(registryOptionsFrom({ HYPERBOX_CONFIG: dir }), { configDir: dir });
    assert.equal(registryOptionsFrom({}).configDir, path.join(os.homedir(), '.hyperbox'));
  });

  it('turns HYPERBOX_TLS_VERIFY=false into tlsVerify: false', () => {
    assert.equal(
      registryOptionsFrom({ HYPERBOX_CONFIG: dir, HYPERBOX_TLS_VERIFY: 'false' }).tlsVerify,
      false,
    );
  });

  it('reads insecure registries and download concurrency from registries.json', () => {
    fs.writeFileSync(
      path.join(dir, 'registries.json'),
      JSON.stringify({ 'insecure-registries': ['host:5000'], 'max-concurrent-downloads': 5 }),
    );
    assert.deepEqual(registryOptionsFrom({ HYPERBOX_CONFIG: dir }), {
      configDir: dir,
      insecure: ['host:5000'],
      maxConcurrentDownloads: 5,
    });
  });

  it('refuses unknown keys and bad values, naming them', () => {
    fs.writeFileSync(path.join(dir, 'registries.json'), JSON.stringify({ mirrors: [] }));
    assert.throws(() => registryOptionsFrom({ HYPERBOX_CONFIG: dir }), /unknown key "mirrors"/);
    fs.writeFileSync(path.join(dir, 'registries.json'), JSON.stringify({ 'max-concurrent-downloads': 0 }));
    assert.throws(
      () => registryOptionsFrom({ HYPERBOX_CONFIG: dir }),
      /max-concurrent-downloads: must be a positive integer, got 0/,
    );
    fs.writeFileSync(path.join(dir, 'registries.json'), '{');
    assert.throws(() => registryOptionsFrom({ HYPERBOX_CONFIG: dir }), /not valid JSON/);
  });
});
