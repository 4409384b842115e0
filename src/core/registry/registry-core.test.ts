import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MEDIA_TYPE } from '../image/oci.ts';
import { parseChallenges } from './challenge.ts';
import { authKey, resolveEndpoint } from './endpoint.ts';
import { parsePlatformSpec, selectManifest } from './platform-select.ts';
import { isTransientStatus, retryDelay } from './retry.ts';

describe('registry core', () => {
  it('parses WWW-Authenticate challenges with quoted, escaped and several schemes', () => {
    assert.deepEqual(
      parseChallenges(
        'Bearer realm="https://auth.io/token",service="registry.io",scope="repository:a/b:pull,push"',
      ),
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.io/token',
            service: 'registry.io',
            scope: 'repository:a/b:pull,push',
          },
        },
      ],
    );
    assert.deepEqual(parseChallenges('Basic realm="x \\"y\\"", Negotiate abc'), [
      { scheme: 'basic', params: { realm: 'x "y"' } },
    ]);
    assert.deepEqual(parseChallenges(undefined), []);
  });

  it('maps docker.io to registry-1.docker.io and allows plain HTTP only for loopback or insecure registries', () => {
    const hub = resolveEndpoint('docker.io');
    assert.equal(hub.host, 'registry-1.docker.io');
    assert.deepEqual(hub.schemes, ['https']);
    assert.equal(authKey('docker.io'), 'https://index.docker.io/v1/');
    assert.deepEqual(resolveEndpoint('localhost:5000').schemes, ['https', 'http']);
    assert.deepEqual(resolveEndpoint('[::1]:5000').schemes, ['https', 'http']);
    assert.equal(resolveEndpoint('127.0.0.1:5000').verifyTls, true);
    assert.deepEqual(resolveEndpoint('reg.example:5000').schemes, ['https']);
    const marked = resolveEndpoint('reg.example:5000', { insecure: ['reg.example:5000'] });
    assert.deepEqual(marked.schemes, ['https', 'http']);
    assert.equal(marked.verifyTls, false);
    assert.equal(resolveEndpoint('reg.example', { tlsVerify: false }).verifyTls, false);
  });

  it('selects the platform of an index, variants included', () => {
    const d = (architecture: string, variant?: string) => ({
      mediaType: MEDIA_TYPE.ociManifest,
      digest: `sha256:${architecture
        .padEnd(64, '0')
        .slice(0, 64)
        .replace(/[^a-f0-9]/g, 'a')}` as const,
      size: 1,
      platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
    });
    const index = {
      schemaVersion: 2 as const,
      manifests: [d('arm', 'v6'), d('arm', 'v7'), d('arm64'), d('amd64')],
    };
    assert.equal(selectManifest(index, parsePlatformSpec('linux/arm/v7')).platform?.variant, 'v7');
    assert.equal(selectManifest(index, parsePlatformSpec('linux/arm64/v8')).platform?.architecture, 'arm64');
    assert.equal(
      selectManifest(index, { os: 'linux', architecture: 'amd64' }).platform?.architecture,
      'amd64',
    );
    assert.throws(() => selectManifest(index, parsePlatformSpec('linux/ppc64le')), /no matching manifest/);
    assert.throws(() => parsePlatformSpec('linux'), /os\/arch/);
  });

  it('retries transient statuses with capped backoff and honours Retry-After', () => {
    const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => retryDelay(n, policy)),
      [100, 200, 400, 800, 1000],
    );
    assert.equal(retryDelay(1, policy, '0'), 0);
    assert.equal(retryDelay(1, policy, '30'), 1000);
    assert.equal(retryDelay(1, policy, new Date(10_500).toUTCString(), 10_000), 0);
    assert.ok(
      isTransientStatus(503) && isTransientStatus(429) && !isTransientStatus(404) && !isTransientStatus(501),
    );
  });
});
