import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DetachMatcher, parseDetachKeys } from './detach-keys.ts';

describe('detach keys (attach, vm console)', () => {
  it('parses docker-style sequences', () => {
    assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [16, 17]);
    assert.deepEqual(parseDetachKeys('ctrl-a,d'), [1, 100]);
    assert.throws(() => parseDetachKeys('alt-x'), /invalid --detach-keys "alt-x"/);
  });
  it('holds back a partial sequence and lets it through when it does not complete', () => {
    const m = new DetachMatcher([16, 17]);
    assert.deepEqual(m.feed(Uint8Array.from([97, 16])), { forward: Uint8Array.from([97]), detach: false });
    assert.deepEqual(m.feed(Uint8Array.from([98])), { forward: Uint8Array.from([16, 98]), detach: false });
    assert.deepEqual(m.feed(Uint8Array.from([16, 16, 17])), { forward: Uint8Array.from([16]), detach: true });
  });
});
