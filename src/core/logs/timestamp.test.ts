import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fixedTime,
  formatUnixTimestamp,
  normalizeRecordTime,
  parseTimeArg,
  parseUnixTimestamp,
} from './timestamp.ts';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

describe("docker's log times", () => {
  it('parses durations before now, RFC 3339 with or without zone and fraction, Unix timestamps', () => {
    assert.equal(fixedTime(parseTimeArg('10m', NOW)), '2026-01-02T02:54:05.678000000Z');
    assert.equal(fixedTime(parseTimeArg('1h30m', NOW)), '2026-01-02T01:34:05.678000000Z');
    assert.equal(fixedTime(parseTimeArg('2013-01-02T13:23:37Z', NOW)), '2013-01-02T13:23:37.000000000Z');
    assert.equal(
      fixedTime(parseTimeArg('2013-01-02T13:23:37.123456789+02:00', NOW)),
      '2013-01-02T11:23:37.123456789Z',
    );
    assert.equal(fixedTime(parseTimeArg('2013-01-02T13:23+01:00', NOW)), '2013-01-02T12:23:00.000000000Z');
    assert.equal(fixedTime(parseTimeArg('2013-01-02Z', NOW)), '2013-01-02T00:00:00.000000000Z');
    const local = new Date(2013, 0, 2, 13, 23, 37).getTime() / 1000;
    assert.equal(parseTimeArg('2013-01-02T13:23:37', NOW).sec, local);
    assert.deepEqual(parseTimeArg('1700000000.5', NOW), { sec: 1_700_000_000, nsec: 500_000_000 });
    assert.deepEqual(parseTimeArg('0', NOW), { sec: 0, nsec: 0 });
    assert.throws(() => parseTimeArg('2013-13-45', NOW), /parsing time "2013-13-45"/);
    assert.throws(
      () => parseTimeArg('yesterday', NOW),
      /failed to parse value as time or duration: invalid seconds "yesterday"/,
    );
    assert.throws(() => parseTimeArg(' ', NOW), /value is empty/);
  });

  it('speaks the API form and the fixed form', () => {
    assert.equal(formatUnixTimestamp({ sec: 12, nsec: 5 }), '12.000000005');
    assert.deepEqual(parseUnixTimestamp('12.1234567891234'), { sec: 12, nsec: 123_456_789 });
    assert.throws(() => parseUnixTimestamp('12.x'), /invalid nanoseconds/);
    assert.equal(normalizeRecordTime('2026-01-01T00:00:00.12Z'), '2026-01-01T00:00:00.120000000Z');
    assert.equal(
      normalizeRecordTime('2026-01-01T01:00:00.000000001+01:00'),
      '2026-01-01T00:00:00.000000001Z',
    );
    assert.equal(normalizeRecordTime('nonsense'), undefined);
  });
});
