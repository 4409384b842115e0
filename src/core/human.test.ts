import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { humanDuration, humanSize, parseGoDuration, parseSize } from './human.ts';

describe('human figures', () => {
  it('formats durations and sizes like docker', () => {
    assert.equal(humanDuration(500), 'Less than a second');
    assert.equal(humanDuration(45_000), '45 seconds');
    assert.equal(humanDuration(70_000), 'About a minute');
    assert.equal(humanDuration(3 * 3600_000), '3 hours');
    assert.equal(humanSize(4_261_000), '4.26MB');
    assert.equal(humanSize(999), '999B');
  });

  it('parses sizes and Go durations, refusing garbage', () => {
    assert.equal(parseSize('1g'), 1024 ** 3);
    assert.equal(parseSize('1.5k'), 1536);
    assert.equal(parseSize('12'), 12);
    assert.equal(parseSize('12x'), undefined);
    assert.equal(parseGoDuration('1h30m'), 5_400_000);
    assert.equal(parseGoDuration('10s'), 10_000);
    assert.equal(parseGoDuration('10'), undefined);
    assert.equal(parseGoDuration('5m junk'), undefined);
  });
});
