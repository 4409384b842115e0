import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { chainIds, type Digest, parseDigest, sha256, shortId } from './digest.ts';

describe('digests', () => {
  it('computes chain ids as the OCI spec defines them', () => {
    const a = sha256('layer a');
    const b = sha256('layer b');
    const c = sha256('layer c');
    const ab = `sha256:${createHash('sha256').update(`${a} ${b}`).digest('hex')}` as Digest;
    const abc = `sha256:${createHash('sha256').update(`${ab} ${c}`).digest('hex')}` as Digest;
    assert.deepEqual(chainIds([a, b, c]), [a, ab, abc]);
    assert.deepEqual(chainIds([]), []);
  });
  it('validates and shortens', () => {
    assert.throws(() => parseDigest('sha256:ABC', 'x.digest'), /x\.digest: invalid digest "sha256:ABC"/);
    assert.equal(shortId(`sha256:${'0123456789ab'.repeat(5)}abcd`), '0123456789ab');
  });
});
