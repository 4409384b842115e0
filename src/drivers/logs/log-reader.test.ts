import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parseJsonLine } from './json-file.ts';
import { parseK8sLine } from './k8s-file.ts';
import type { LogFileFormat } from './log-files.ts';
import { type ReadLogOptions, readLog, recordTime } from './log-reader.ts';
import type { LogRecord } from './record.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-logread-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => {
  const d = path.join(dir, String(n++));
  fs.mkdirSync(d);
  return path.join(d, name);
};

async function all(file: string, format: LogFileFormat, opts: ReadLogOptions = {}): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const batch of readLog(file, format, opts))
    for (const r of batch) out.push({ ...r, line: Buffer.from(r.line) });
  return out;
}
const text = (rs: LogRecord[]) => rs.map((r) => r.line.toString()).join('');

const json = (log: string, stream = 'stdout', time = '2026-01-01T00:00:00Z') =>
  `${JSON.stringify({ log, stream, time })}\n`;

/** The local format as native/log-writer writes it. */
function local(line: string, opts: { stream?: 1 | 2; partial?: boolean; ns?: bigint } = {}): Buffer {
  const body = Buffer.from(line);
  const head = Buffer.alloc(16);
  head.writeUInt32LE(body.length, 0);
  head[4] = opts.stream ?? 1;
  head[5] = opts.partial ? 1 : 0;
  head.writeBigInt64LE(opts.ns ?? 1_767_225_600_000_000_000n, 8);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(body.length, 0);
  return Buffer.concat([head, body, tail]);
}

describe('log record parsers', () => {
  it('k8s-file: full and partial records, bytes as written', () => {
    const line = Buffer.from('2026-01-01T00:00:00.000000001+00:00 stdout F hello \xff world\n', 'latin1');
    const r = parseK8sLine(line, 0, line.length - 1)!;
    assert.equal(r.stream, 'stdout');
    assert.equal(r.partial, false);
    assert.deepEqual(r.line, Buffer.from('hello \xff world\n', 'latin1'));
    assert.equal(recordTime(r), '2026-01-01T00:00:00.000000001Z');
    const p = Buffer.from('2026-01-01T01:00:00.5+01:00 stderr P part\n');
    assert.equal(parseK8sLine(p, 0, p.length - 1)?.line.toString(), 'part');
    assert.equal(recordTime(parseK8sLine(p, 0, p.length - 1)!), '2026-01-01T00:00:00.500000000Z');
    assert.equal(parseK8sLine(Buffer.from('garbage\n'), 0, 7), undefined);
  });

  it('json-file: escapes, attrs, other field orders, torn lines', () => {
    const cases: [string, string][] = [
      ['{"log":"a\\"b\\\\c\\n","stream":"stdout","time":"2026-01-01T00:00:00.1Z"}', 'a"b\\c\n'],
      [
        '{"log":"\\u003c\\ufffd\\u2028 \\ud83d\\ude00\\t","stream":"stderr","time":"2026-01-01T00:00:00Z"}',
        '<\ufffd\u2028 😀\t',
      ],
      ['{"stream":"stdout","log":"reordered\\n","time":"2026-01-01T00:00:00Z"}', 'reordered\n'],
      ['{"log":"x\\n","stream":"stdout","attrs":{"a":"b"},"time":"2026-01-01T00:00:00Z"}', 'x\n'],
    ];
    for (const [line, want] of cases) {
      const buf = Buffer.from(line);
      assert.equal(parseJsonLine(buf, 0, buf.length)?.line.toString(), want, line);
    }
    const withAttrs = Buffer.from(cases[3]![0]);
    assert.equal(parseJsonLine(withAttrs, 0, withAttrs.length)?.attrs, '{"a":"b"}');
    const torn = Buffer.from('{"log":"abc","stream":"std');
    assert.equal(parseJsonLine(torn, 0, torn.length), undefined);
    const partial = Buffer.from('{"log":"abc","stream":"stdout","time":"2026-01-01T00:00:00Z"}');
    assert.equal(parseJsonLine(partial, 0, partial.length)?.partial, true);
  });
});

describe('readLog', () => {
  it('reads whole records only, across rotated and compressed files, oldest first', async () => {
    const file = fresh('container-json.log');
    fs.writeFileSync(`${file}.2.gz`, gzipSync(json('one\n')));
    fs.writeFileSync(`${file}.1`, json('two\n'));
    fs.writeFileSync(`${file}.1.gz`, gzipSync(json('stale copy\n'))); // a compression under way: .1 wins
    fs.writeFileSync(file, json('thr') + json('ee\n') + '{"log":"unfinis');
    assert.equal(text(await all(file, 'json-file')), 'one\ntwo\nthree\n');
    assert.deepEqual(await all(fresh('missing.log'), 'json-file'), []);
  });

  it('tails lines from the end, a line made of partial records counted once, across files', async () => {
    const file = fresh('container-json.log');
    fs.writeFileSync(`${file}.2.gz`, gzipSync(json('a\n') + json('b\n')));
    fs.writeFileSync(`${file}.1`, json('c\n') + json('d') + json('d\n'));
    fs.writeFileSync(file, json('e\n') + json('f', 'stderr'));
    assert.equal(text(await all(file, 'json-file', { tail: 1 })), 'e\nf');
    assert.equal(text(await all(file, 'json-file', { tail: 2 })), 'dd\ne\nf');
    assert.equal(text(await all(file, 'json-file', { tail: 4 })), 'b\nc\ndd\ne\nf');
    assert.equal(text(await all(file, 'json-file', { tail: 100 })), 'a\nb\nc\ndd\ne\nf');
    assert.equal(text(await all(file, 'json-file', { tail: 0 })), '');
  });

  it('tails a big file reading only its end, with huge lines', async () => {
    const file = fresh('container.log');
    const big = 'x'.repeat(300_000);
    const lines = [];
    for (let i = 0; i < 2000; i++) lines.push(`2026-01-01T00:00:00.000000000Z stdout F ${i}\n`);
    lines.push(
      `2026-01-01T00:00:00.000000000Z stdout P ${big}\n`,
      `2026-01-01T00:00:00.000000000Z stdout F end\n`,
    );
    fs.writeFileSync(file, lines.join(''));
    assert.equal(text(await all(file, 'k8s-file', { tail: 2 })), `1999\n${big}end\n`);
  });

  it('filters by since and until (fixed-form times), skipping old files', async () => {
    const file = fresh('container-json.log');
    fs.writeFileSync(`${file}.1`, json('old\n', 'stdout', '2026-01-01T00:00:01Z'));
    fs.writeFileSync(
      file,
      json('a\n', 'stdout', '2026-01-01T00:00:02.5Z') +
        json('b\n', 'stdout', '2026-01-01T00:00:03.123456789Z') +
        json('c\n', 'stdout', '2026-01-01T00:00:04Z'),
    );
    const since = '2026-01-01T00:00:02.000000000Z';
    const until = '2026-01-01T00:00:03.123456789Z';
    assert.equal(text(await all(file, 'json-file', { since })), 'a\nb\nc\n');
    assert.equal(text(await all(file, 'json-file', { since, until })), 'a\nb\n');
    assert.equal(text(await all(file, 'json-file', { until: '2026-01-01T00:00:01.000000000Z' })), 'old\n');
  });

  it('reads and tails the local format', async () => {
    const file = fresh('container-local.log');
    fs.writeFileSync(`${file}.1`, local('one\n'));
    fs.writeFileSync(
      file,
      Buffer.concat([local('tw', { partial: true }), local('o\n'), local('err\n', { stream: 2, ns: 5n })]),
    );
    const rs = await all(file, 'local');
    assert.equal(text(rs), 'one\ntwo\nerr\n');
    assert.equal(rs[3]?.stream, 'stderr');
    assert.equal(recordTime(rs[3]!), '1970-01-01T00:00:00.000000005Z');
    assert.equal(text(await all(file, 'local', { tail: 2 })), 'two\nerr\n');
  });

  it('follows across a rotation: the renamed file to its end, then the new one', async () => {
    const file = fresh('container-json.log');
    fs.writeFileSync(file, json('before\n'));
    let stop = false;
    const seen: string[] = [];
    const reading = (async () => {
      for await (const batch of readLog(file, 'json-file', { follow: { stopped: async () => stop } })) {
        for (const r of batch) seen.push(r.line.toString());
      }
    })();
    const until = async (want: number) => {
      for (let i = 0; i < 200 && seen.length < want; i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(1);
    fs.appendFileSync(file, json('late in the old file\n'));
    fs.renameSync(file, `${file}.1`);
    fs.appendFileSync(`${file}.1`, json('after the rename\n'));
    fs.writeFileSync(file, json('new file\n'));
    await until(4);
    stop = true;
    fs.appendFileSync(file, json('last\n'));
    await reading;
    assert.deepEqual(seen, [
      'before\n',
      'late in the old file\n',
      'after the rename\n',
      'new file\n',
      'last\n',
    ]);
  });
});
