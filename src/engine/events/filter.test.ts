import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../api/events.ts';
import { matchesEvent } from './filter.ts';

const ev = (over: Partial<EngineEvent>): EngineEvent => ({
  type: 'container',
  action: 'start',
  actorId: 'abc123def',
  attributes: { name: 'web', image: 'busybox:1' },
  timeNano: 5_000n,
  ...over,
});

describe('event filters', () => {
  it('keeps the time window, both ends included', () => {
    assert.equal(matchesEvent(ev({}), { since: 5_000n, until: 5_000n }), true);
    assert.equal(matchesEvent(ev({}), { since: 5_001n }), false);
    assert.equal(matchesEvent(ev({}), { until: 4_999n }), false);
  });

  it('matches any of the types and actions given; an empty list is no filter', () => {
    assert.equal(matchesEvent(ev({}), { type: ['image', 'container'], action: ['die', 'start'] }), true);
    assert.equal(matchesEvent(ev({}), { type: ['image'] }), false);
    assert.equal(matchesEvent(ev({}), { action: ['die'] }), false);
    assert.equal(matchesEvent(ev({}), { type: [], action: [] }), true);
  });

  it('names a container by name or id prefix, and only container events', () => {
    assert.equal(matchesEvent(ev({}), { container: ['web'] }), true);
    assert.equal(matchesEvent(ev({}), { container: ['abc1'] }), true);
    assert.equal(matchesEvent(ev({}), { container: ['we'] }), false);
    assert.equal(
      matchesEvent(ev({ type: 'network', attributes: { name: 'web' } }), { container: ['web'] }),
      false,
    );
  });

  it("names an image by a container's image, an image event's name, an id prefix or a bare digest", () => {
    assert.equal(matchesEvent(ev({}), { image: ['busybox:1'] }), true);
    const pulled = ev({
      type: 'image',
      action: 'pull',
      actorId: 'sha256:feed',
      attributes: { name: 'alpine:3' },
    });
    assert.equal(matchesEvent(pulled, { image: ['alpine:3'] }), true);
    assert.equal(matchesEvent(pulled, { image: ['sha256:fe'] }), true);
    assert.equal(matchesEvent(pulled, { image: ['feed'] }), true);
    assert.equal(matchesEvent(pulled, { image: ['busybox:1'] }), false);
  });
});
