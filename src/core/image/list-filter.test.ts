import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globMatch, matchesFilters, parseImageFilters } from './list-filter.ts';

describe('image list filters', () => {
  const busybox = { names: ['docker.io/library/busybox:1.36'], labels: { tier: 'base' }, created: 100 };
  const dangling = { names: [], labels: {}, created: 200 };
  it('parses docker-style filters and refuses unknown ones', () => {
    assert.deepEqual(parseImageFilters(['dangling=true', 'label=a=b', 'reference=busy*']), {
      dangling: true,
      label: ['a=b'],
      reference: ['busy*'],
    });
    assert.throws(() => parseImageFilters(['colour=red']), /invalid filter 'colour'/);
    assert.throws(() => parseImageFilters(['dangling=maybe']), /dangling=maybe/);
  });
  it('matches dangling, label, reference and time bounds', () => {
    assert.equal(matchesFilters(dangling, { dangling: true }), true);
    assert.equal(matchesFilters(busybox, { dangling: true }), false);
    assert.equal(matchesFilters(busybox, { label: ['tier'] }), true);
    assert.equal(matchesFilters(busybox, { label: ['tier=app'] }), false);
    assert.equal(matchesFilters(busybox, { reference: ['busybox'] }), true);
    assert.equal(matchesFilters(busybox, { reference: ['busybox:1.*'] }), true);
    assert.equal(matchesFilters(busybox, { reference: ['alpine*'] }), false);
    assert.equal(matchesFilters(busybox, {}, { before: 150 }), true);
    assert.equal(matchesFilters(dangling, {}, { before: 150 }), false);
    assert.equal(matchesFilters(dangling, {}, { since: 150 }), true);
  });
  it('globs like Go path.Match', () => {
    assert.equal(globMatch('team/*', 'team/app'), true);
    assert.equal(globMatch('*', 'team/app'), false);
    assert.equal(globMatch('a?c', 'abc'), true);
    assert.equal(globMatch('[ab]x', 'bx'), true);
    assert.equal(globMatch('a.c', 'abc'), false);
  });
});
