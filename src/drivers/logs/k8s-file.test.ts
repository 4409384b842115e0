import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseLogLine, readLog } from './k8s-file.ts';

describe('k8s-file log reader', () => {
  it('parses full and partial records', () => {
    assert.deepEqual(parseLogLine('2026-01-01T00:00:00.000000001+00:00 stdout F hello world'), {
      time: '2026-01-01T00:00:00.000000001+00:00',
      timeMs: Date.parse('2026-01-01T00:00:00.000000001+00:00'),
      stream: 'stdout',
      text: 'hello world\n',
    });
    assert.equal(parseLogLine('2026-01-01T00:00:00Z stderr P part')?.text, 'part');
    assert.equal(parseLogLine('garbage'), undefined);
  });

  it('tails whole lines, partial records included, and ignores an unfinished last line', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-log-'));
    try {
      const file = path.join(dir, 'log');
      const t = '2026-01-01T00:00:00Z';
      fs.writeFileSync(
        file,
        `${t} stdout F one\n${t} stdout P tw\n${t} stdout F o\n${t} stderr F three\n${t} stdout F unfinis`,
      );
      const all = readLog(file)
        .records.map((r) => r.text)
        .join('');
      assert.equal(all, 'one\ntwo\nthree\n');
      assert.equal(
        readLog(file, { tail: 2 })
          .records.map((r) => r.text)
          .join(''),
        'two\nthree\n',
      );
      assert.equal(readLog(file, { tail: 0 }).records.length, 0);
      assert.deepEqual(readLog(path.join(dir, 'missing')).records, []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
