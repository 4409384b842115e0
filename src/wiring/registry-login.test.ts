import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registryName } from './registry-login.ts';

describe('login server names', () => {
  it('takes them as docker does', () => {
    assert.equal(registryName(undefined), 'docker.io');
    assert.equal(registryName('https://index.docker.io/v1/'), 'docker.io');
    assert.equal(registryName('registry-1.docker.io'), 'docker.io');
    assert.equal(registryName('host:5000'), 'host:5000');
    assert.equal(registryName('https://host:5000/v2/'), 'host:5000');
    assert.equal(registryName('http://127.0.0.1:5000'), '127.0.0.1:5000');
  });
});
