import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { readLog } from './log-reader.ts';
import { livingWriter, startLogWriter, stopLogWriter, waitLogWriterGone } from './log-writer.ts';

const top = path.resolve(import.meta.dirname, '..', '..', '..');
const binary = path.join(top, 'dist', 'native', 'hbx-logwriter');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-logwriter-'));
let n = 0;

before(() => {
  // The real writer, built from native/log-writer if a source is newer (what scripts/build.sh does).
  execFileSync('bash', [path.join(top, 'scripts', 'build-native.sh')], { stdio: 'inherit' });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs a writer, hands it `records` (conmon's k8s-file lines) as conmon would, and waits for it to exit. */
async function write(
  format: 'json-file' | 'local',
  records: (string | Buffer)[],
  opts: { maxSize?: number; maxFile?: number; compress?: boolean; attrs?: string } = {},
) {
  const d = path.join(dir, String(n++));
  fs.mkdirSync(d);
  const file = path.join(d, format === 'json-file' ? 'container-json.log' : 'container-local.log');
  const pidFile = path.join(d, 'pid');
  await startLogWriter(binary, {
    fifo: path.join(d, 'fifo'),
    file,
    format,
    maxSize: opts.maxSize ?? 0,
    maxFile: opts.maxFile ?? 1,
    compress: opts.compress ?? false,
    ...(opts.attrs ? { attrs: opts.attrs } : {}),
    errorFile: path.join(d, 'errors'),
    pidFile,
  });
  assert.ok(livingWriter(pidFile) > 0);
  const fd = fs.openSync(path.join(d, 'fifo'), 'w');
  for (const r of records) fs.writeSync(fd, typeof r === 'string' ? Buffer.from(r) : r);
  fs.closeSync(fd);
  await waitLogWriterGone(pidFile);
  assert.equal(livingWriter(pidFile), 0, 'the writer exits when conmon closes the FIFO');
  return {
    dir: d,
    file,
    files: fs
      .readdirSync(d)
      .filter((f) => f.startsWith('container-'))
      .sort(),
  };
}

const T = '2026-03-04T05:06:07.120000000+01:00';

describe('the native log writer', () => {
  it("writes docker's json-file records: UTC times, partial records, escapes, invalid UTF-8, attrs", async () => {
    const { file } = await write(
      'json-file',
      [
        `${T} stdout F plain\n`,
        `${T} stderr P <a&b> "q" \\ \t\x01`,
        '\n', // conmon's record may arrive in pieces
        // A stray byte and an encoded surrogate are invalid UTF-8: one U+FFFD per byte, as Go decodes them.
        Buffer.concat([
          Buffer.from(`${T} stdout F bad \xff \xed\xa0\x80 ok`, 'latin1'),
          Buffer.from(' é \u2028 😀\n'),
        ]),
        '2026-03-04T04:06:07Z stdout F \n',
      ],
      { attrs: '{"tag":"web"}' },
    );
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    assert.equal(
      lines[0],
      '{"log":"plain\\n","stream":"stdout","attrs":{"tag":"web"},"time":"2026-03-04T04:06:07.12Z"}',
    );
    assert.equal(
      lines[1],
      '{"log":"\\u003ca\\u0026b\\u003e \\"q\\" \\\\ \\u0009\\u0001","stream":"stderr","attrs":{"tag":"web"},"time":"2026-03-04T04:06:07.12Z"}',
    );
    assert.equal(JSON.parse(lines[2]!).log, 'bad \ufffd \ufffd\ufffd\ufffd ok é \u2028 😀\n');
    assert.ok(lines[2]!.includes('ok é \\u2028 😀'));
    assert.equal(
      lines[3],
      '{"log":"\\n","stream":"stdout","attrs":{"tag":"web"},"time":"2026-03-04T04:06:07Z"}',
    );
    assert.equal(lines[4], '');
  });

  it('cuts a line longer than 8 KiB into partial records between UTF-8 sequences', async () => {
    const long = `${'é'.repeat(5000)}end`; // 10003 bytes: the cut falls inside a two-byte sequence unless moved
    const { file } = await write('json-file', [`${T} stdout F ${long}\n`]);
    const recs = fs
      .readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(recs.length, 2);
    assert.equal(recs[0].log + recs[1].log, `${long}\n`);
    assert.ok(!recs[0].log.includes('\ufffd'));
  });

  it('rotates within max-size x max-file, oldest dropped, and compresses rotated files', async () => {
    const records = Array.from(
      { length: 400 },
      (_, i) => `${T} stdout F line ${String(i).padStart(4, '0')}\n`,
    );
    const {
      file,
      files,
      dir: d,
    } = await write('json-file', records, { maxSize: 2000, maxFile: 3, compress: true });
    assert.deepEqual(files, ['container-json.log', 'container-json.log.1.gz', 'container-json.log.2.gz']);
    for (const f of files) assert.ok(fs.statSync(path.join(d, f)).size <= 2000, f);
    const kept = [
      gunzipSync(fs.readFileSync(`${file}.2.gz`)),
      gunzipSync(fs.readFileSync(`${file}.1.gz`)),
      fs.readFileSync(file),
    ];
    for (const k of kept) assert.ok(k.length <= 2000);
    const logs = Buffer.concat(kept)
      .toString()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l).log);
    // What is kept is the end of the output, whole records, in order.
    assert.equal(logs.at(-1), 'line 0399\n');
    const first = Number(logs[0].slice(5, 9));
    assert.deepEqual(
      logs,
      records.slice(first).map((r) => r.slice(T.length + 10)),
    );
  });

  it('writes the local format, read back byte for byte', async () => {
    const raw = Buffer.from('bytes \xff\x00 as they are', 'latin1');
    const { file } = await write('local', [
      Buffer.concat([Buffer.from(`${T} stdout P `), raw, Buffer.from('\n')]),
      `${T} stderr F done\n`,
    ]);
    const out = [];
    for await (const batch of readLog(file, 'local')) for (const r of batch) out.push(r);
    assert.deepEqual(out[0]!.line, raw);
    assert.equal(out[0]!.partial, true);
    assert.equal(out[1]!.stream, 'stderr');
    assert.equal(out[1]!.line.toString(), 'done\n');
    assert.equal(out[1]!.time, 1_772_597_167_120_000_000n);
  });

  it('stopped, it writes what the pipe still holds, then ends (a monitor that is gone, or never came)', async () => {
    const d = path.join(dir, String(n++));
    fs.mkdirSync(d);
    const file = path.join(d, 'container-json.log');
    const pidFile = path.join(d, 'pid');
    const opts = { file, format: 'json-file' as const, maxSize: 0, maxFile: 1, compress: false };
    await startLogWriter(binary, {
      ...opts,
      fifo: path.join(d, 'fifo'),
      errorFile: path.join(d, 'e'),
      pidFile,
    });
    const fd = fs.openSync(path.join(d, 'fifo'), 'w');
    fs.writeSync(fd, `${T} stdout F one\n${T} stdout F two\n`);
    stopLogWriter(pidFile); // the FIFO is still open for writing: no end of file, only the signal
    await waitLogWriterGone(pidFile);
    fs.closeSync(fd);
    assert.equal(livingWriter(pidFile), 0);
    assert.deepEqual(
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).log),
      ['one\n', 'two\n'],
    );
    // One that never saw a monitor ends at once too.
    const idle = path.join(d, 'idle-pid');
    await startLogWriter(binary, {
      ...opts,
      fifo: path.join(d, 'fifo2'),
      errorFile: path.join(d, 'e2'),
      pidFile: idle,
    });
    stopLogWriter(idle);
    await waitLogWriterGone(idle, 2000);
    assert.equal(livingWriter(idle), 0);
  });

  it('refuses to start without its FIFO directory, saying why', async () => {
    await assert.rejects(
      startLogWriter(binary, {
        fifo: path.join(dir, 'no', 'such', 'fifo'),
        file: path.join(dir, 'x.log'),
        format: 'json-file',
        maxSize: 0,
        maxFile: 1,
        compress: false,
        errorFile: path.join(dir, 'err'),
        pidFile: path.join(dir, 'pid'),
      }),
      /mkfifo .*No such file or directory/,
    );
  });
});
