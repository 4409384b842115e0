import assert from 'node:assert/strict';
import { test } from 'node:test';
import { registryAuthFrom } from './registry-auth.ts';

const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

test('X-Registry-Auth: credentials, anonymous, and malformed headers', () => {
  assert.deepEqual(registryAuthFrom(enc({ username: 'u', password: 'p', serveraddress: 'h:5000' })), {
    username: 'u',
    password: 'p',
  });
  assert.equal(registryAuthFrom(undefined), undefined);
  assert.equal(registryAuthFrom(enc({})), undefined);
  assert.throws(() => registryAuthFrom('%%%'), /X-Registry-Auth: not base64url-encoded JSON/);
  assert.throws(() => registryAuthFrom(enc([1])), /not a JSON object/);
  assert.throws(() => registryAuthFrom(enc({ username: 'u', password: 3 })), /"password" must be a string/);
});
