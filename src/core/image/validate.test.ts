import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../errors.ts';
import { parseConfigFile, parseDockerArchiveManifest, parseIndex, parseManifest } from './validate.ts';

const D = `sha256:${'a'.repeat(64)}`;
const manifest = () => ({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D, size: 10 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D, size: 5 }],
  unknownField: 'ignored, as the OCI spec requires',
});
const config = () => ({
  architecture: 'amd64',
  os: 'linux',
  created: '2024-01-02T03:04:05.123456789Z',
  config: {
    Env: ['A=1'],
    Cmd: null,
    Entrypoint: ['/bin/sh'],
    Labels: { a: 'b' },
    ExposedPorts: { '80/tcp': {} },
  },
  rootfs: { type: 'layers', diff_ids: [D] },
  history: [{ created_by: 'x', empty_layer: true }],
  container_config: { whatever: true },
});

function rejects(fn: () => unknown, re: RegExp) {
  assert.throws(fn, (e: unknown) => e instanceof InvalidArgumentError && re.test(e.message));
}

describe('parseManifest', () => {
  it('accepts a valid manifest and drops unknown fields', () => {
    const m = parseManifest(manifest());
    assert.equal(m.layers[0]!.size, 5);
    assert.equal('unknownField' in m, false);
  });
  const bad: Array<[string, (m: ReturnType<typeof manifest>) => unknown, RegExp]> = [
    ['schemaVersion', (m) => ({ ...m, schemaVersion: 1 }), /manifest\.schemaVersion: must be 2, got 1/],
    [
      'mediaType',
      (m) => ({ ...m, mediaType: 'text/plain' }),
      /manifest\.mediaType: is not an image manifest/,
    ],
    [
      'config digest',
      (m) => ({ ...m, config: { ...m.config, digest: 'md5:x' } }),
      /manifest\.config\.digest: invalid digest "md5:x"/,
    ],
    [
      'layer size',
      (m) => ({ ...m, layers: [{ ...m.layers[0], size: '5' }] }),
      /manifest\.layers\[0\]\.size: must be a non-negative integer, got "5"/,
    ],
    ['negative size', (m) => ({ ...m, layers: [{ ...m.layers[0], size: -1 }] }), /layers\[0\]\.size/],
    [
      'layer media type',
      (m) => ({ ...m, layers: [{ ...m.layers[0], mediaType: 'application/x-foreign' }] }),
      /layers\[0\]\.mediaType: is not a supported layer media type/,
    ],
    [
      'layers missing',
      (m) => ({ ...m, layers: undefined }),
      /manifest\.layers: must be an array, got nothing/,
    ],
    [
      'annotations',
      (m) => ({ ...m, annotations: { a: 1 } }),
      /manifest\.annotations\["a"\]: must be a string/,
    ],
    ['not an object', () => [], /manifest: must be an object/],
  ];
  for (const [what, mutate, re] of bad)
    it(`names a bad ${what}`, () => rejects(() => parseManifest(mutate(manifest())), re));
});

describe('parseIndex', () => {
  it('reads platforms', () => {
    const idx = parseIndex({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'x',
          digest: D,
          size: 1,
          platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
        },
      ],
    });
    assert.deepEqual(idx.manifests[0]!.platform, { architecture: 'arm64', os: 'linux', variant: 'v8' });
  });
  it('names a bad platform', () =>
    rejects(
      () =>
        parseIndex({
          schemaVersion: 2,
          manifests: [{ mediaType: 'x', digest: D, size: 1, platform: { os: 'linux' } }],
        }),
      /index\.manifests\[0\]\.platform\.architecture: must be a string/,
    ));
});

describe('parseConfigFile', () => {
  it('accepts docker configs with extra fields', () => {
    const c = parseConfigFile(config());
    assert.deepEqual(c.config?.Entrypoint, ['/bin/sh']);
    assert.equal(c.config?.Cmd, null);
    assert.deepEqual(c.rootfs.diff_ids, [D]);
  });
  const bad: Array<[string, (c: ReturnType<typeof config>) => unknown, RegExp]> = [
    [
      'rootfs type',
      (c) => ({ ...c, rootfs: { ...c.rootfs, type: 'tar' } }),
      /image config\.rootfs\.type: must be "layers"/,
    ],
    [
      'diff id',
      (c) => ({ ...c, rootfs: { ...c.rootfs, diff_ids: ['nope'] } }),
      /rootfs\.diff_ids\[0\]: invalid digest/,
    ],
    [
      'created',
      (c) => ({ ...c, created: 'yesterday' }),
      /image config\.created: must be an RFC 3339 date-time/,
    ],
    [
      'Env',
      (c) => ({ ...c, config: { ...c.config, Env: ['NOEQUALS'] } }),
      /config\.Env\[0\]: must look like KEY=VALUE/,
    ],
    ['Cmd', (c) => ({ ...c, config: { ...c.config, Cmd: 'sh' } }), /config\.Cmd: must be an array/],
    [
      'Labels',
      (c) => ({ ...c, config: { ...c.config, Labels: { a: 1 } } }),
      /config\.Labels\["a"\]: must be a string/,
    ],
    [
      'ExposedPorts',
      (c) => ({ ...c, config: { ...c.config, ExposedPorts: { '80/tcp': 1 } } }),
      /ExposedPorts\["80\/tcp"\]: must be an object/,
    ],
    [
      'architecture',
      (c) => ({ ...c, architecture: undefined }),
      /image config\.architecture: must be a string/,
    ],
    [
      'history',
      (c) => ({ ...c, history: [{ empty_layer: 'yes' }] }),
      /history\[0\]\.empty_layer: must be a boolean/,
    ],
  ];
  for (const [what, mutate, re] of bad)
    it(`names a bad ${what}`, () => rejects(() => parseConfigFile(mutate(config())), re));
});

describe('parseDockerArchiveManifest', () => {
  it('accepts RepoTags null', () => {
    assert.deepEqual(
      parseDockerArchiveManifest([{ Config: 'c.json', RepoTags: null, Layers: ['l/layer.tar'] }]),
      [{ Config: 'c.json', RepoTags: [], Layers: ['l/layer.tar'] }],
    );
  });
  it('names bad fields', () => {
    rejects(() => parseDockerArchiveManifest([]), /manifest\.json: must list at least one image/);
    rejects(
      () => parseDockerArchiveManifest([{ Config: '', Layers: [] }]),
      /manifest\.json\[0\]\.Config: must be a non-empty string/,
    );
    rejects(
      () => parseDockerArchiveManifest([{ Config: 'c', Layers: [1] }]),
      /manifest\.json\[0\]\.Layers\[0\]: must be a string/,
    );
  });
});
