import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../errors.ts';
import { familiarName, normalizeName, normalizeReference, parseReference } from './reference.ts';

const D = `sha256:${'ab'.repeat(32)}`;

describe('normalizeName', () => {
  const cases: Array<[string, string]> = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1', 'docker.io/library/busybox:1'],
    ['library/busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/team/app:x', 'docker.io/team/app:x'],
    ['team/app', 'docker.io/team/app:latest'],
    ['team/sub/app:v1', 'docker.io/team/sub/app:v1'],
    ['host:5000/team/app:1.2', 'host:5000/team/app:1.2'],
    ['host:5000/app', 'host:5000/app:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app:t', 'localhost:5000/app:t'],
    ['quay.io/coreos/etcd:v3.5', 'quay.io/coreos/etcd:v3.5'],
    ['Registry.Example/app', 'Registry.Example/app:latest'],
    ['MyHost/app', 'MyHost/app:latest'],
    ['[::1]:5000/app:1', '[::1]:5000/app:1'],
    ['a.b-c_d__e---f:T_a.g-1', 'docker.io/library/a.b-c_d__e---f:T_a.g-1'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1@${D}`, `docker.io/library/busybox@${D}`],
    [`host:5000/team/app:1.2@${D}`, `host:5000/team/app@${D}`],
  ];
  for (const [input, want] of cases) {
    it(`${input} → ${want}`, () => assert.equal(normalizeName(input), want));
  }
});

describe('parseReference', () => {
  it('keeps tag and digest apart', () => {
    assert.deepEqual(parseReference(`host:5000/team/app:1.2@${D}`), {
      domain: 'host:5000',
      path: 'team/app',
      tag: '1.2',
      digest: D,
    });
  });
  it('has no default tag', () => {
    assert.deepEqual(parseReference('busybox'), { domain: 'docker.io', path: 'library/busybox' });
  });
  it('drops the tag when a digest is given (digest wins)', () => {
    assert.equal(normalizeReference(`busybox:1@${D}`).tag, undefined);
  });
});

describe('invalid references', () => {
  const cases: Array<[string, RegExp]> = [
    ['Busybox', /^invalid reference format: repository name \(library\/Busybox\) must be lowercase$/],
    ['team/App:1', /repository name \(team\/App\) must be lowercase/],
    ['host:5000/Team/app', /repository name \(Team\/app\) must be lowercase/],
    ['', /invalid reference format/],
    ['busybox:', /invalid reference format/],
    ['busybox::1', /invalid reference format/],
    [':1', /invalid reference format/],
    ['-busybox', /invalid reference format/],
    ['busybox-', /invalid reference format/],
    ['bu..sybox', /invalid reference format/],
    ['team//app', /invalid reference format/],
    ['team/app/', /invalid reference format/],
    ['busybox:-tag', /invalid reference format/],
    [`busybox:${'a'.repeat(129)}`, /invalid reference format/],
    ['busybox@sha256:abc', /invalid reference format/],
    [`busybox@sha512:${'a'.repeat(128)}`, /unsupported digest/],
    [`busybox@sha256:${'A'.repeat(64)}`, /unsupported digest/],
    ['host:port/app', /invalid reference format/],
    ['a b', /invalid reference format/],
    [`${'a'.repeat(250)}/bbbbbbb`, /must not be more than 255 characters/],
    ['a'.repeat(64).replace(/a/g, 'f'), /cannot specify 64-byte hexadecimal strings/],
  ];
  for (const [input, re] of cases) {
    it(`rejects ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, () => {
      assert.throws(
        () => parseReference(input),
        (err: unknown) => err instanceof InvalidArgumentError && re.test(err.message),
      );
    });
  }
});

describe('familiarName', () => {
  const cases: Array<[string, string]> = [
    ['docker.io/library/busybox:1', 'busybox:1'],
    ['busybox', 'busybox'],
    ['docker.io/library/busybox:latest', 'busybox:latest'],
    ['docker.io/team/app:1', 'team/app:1'],
    ['docker.io/library/sub/app:1', 'library/sub/app:1'],
    ['host:5000/team/app:1.2', 'host:5000/team/app:1.2'],
    ['localhost/app:latest', 'localhost/app:latest'],
    [`docker.io/library/busybox@${D}`, `busybox@${D}`],
  ];
  for (const [input, want] of cases) {
    it(`${input} → ${want}`, () => assert.equal(familiarName(input), want));
  }
  it('round-trips through normalizeName', () => {
    for (const s of ['busybox:1', 'team/app:v2', 'host:5000/team/app:1.2', 'quay.io/x/y:z']) {
      assert.equal(familiarName(normalizeName(s)), s);
    }
  });
});
