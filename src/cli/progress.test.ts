import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { bar, progressView } from './progress.ts';

function sink(opts: { columns?: number } = {}) {
  const out = new PassThrough() as PassThrough & { columns?: number; isTTY?: boolean };
  if (opts.columns) out.columns = opts.columns;
  let text = '';
  out.on('data', (d: Buffer) => {
    text += d.toString();
  });
  return { out, text: () => text };
}

describe('progress view', () => {
  it('prints one plain line per status change when not on a terminal', () => {
    const s = sink();
    const v = progressView(s.out);
    v.note('1: Pulling from library/busybox');
    v.event({ id: 'aaaaaaaaaaaa', status: 'Pulling fs layer' });
    v.event({ id: 'aaaaaaaaaaaa', status: 'Downloading', current: 10, total: 100 });
    v.event({ id: 'aaaaaaaaaaaa', status: 'Downloading', current: 50, total: 100 });
    v.event({ id: 'aaaaaaaaaaaa', status: 'Pull complete' });
    v.done();
    assert.equal(
      s.text(),
      '1: Pulling from library/busybox\naaaaaaaaaaaa: Pulling fs layer\naaaaaaaaaaaa: Downloading\naaaaaaaaaaaa: Pull complete\n',
    );
  });

  it('prints nothing when quiet', () => {
    const s = sink();
    const v = progressView(s.out, { quiet: true, tty: true });
    v.note('x');
    v.event({ id: 'a', status: 'Downloading', current: 1, total: 2 });
    v.done();
    assert.equal(s.text(), '');
  });

  it('redraws a layer line in place on a terminal, with bar, sizes and speed', () => {
    const s = sink();
    let now = 0;
    const v = progressView(s.out, { tty: true, now: () => now });
    v.note('1: Pulling from library/busybox');
    v.event({ id: 'aaaaaaaaaaaa', status: 'Pulling fs layer' });
    v.event({ id: 'bbbbbbbbbbbb', status: 'Pulling fs layer' });
    v.event({ id: 'aaaaaaaaaaaa', status: 'Downloading', current: 0, total: 2_000_000 });
    now = 1000;
    v.event({ id: 'aaaaaaaaaaaa', status: 'Downloading', current: 1_000_000, total: 2_000_000 });
    v.done();
    const text = s.text();
    assert.ok(
      text.startsWith('1: Pulling from library/busybox\naaaaaaaaaaaa: Pulling fs layer\nbbbbbbbbbbbb: '),
    );
    // The first layer is two lines above the cursor: up 2, clear, draw, down 2.
    assert.ok(text.includes('\x1b[2A\r\x1b[2Kaaaaaaaaaaaa: Downloading [>'), JSON.stringify(text));
    const last = text.slice(text.lastIndexOf('\x1b[2K'));
    assert.match(last, /aaaaaaaaaaaa: Downloading \[={25}>\s{24}\]\s+1MB\/2MB {2}1MB\/s\x1b\[2B\r$/);
  });

  it('keeps lines within the terminal width', () => {
    const s = sink({ columns: 30 });
    const v = progressView(s.out, { tty: true });
    v.event({ id: 'aaaaaaaaaaaa', status: 'Downloading', current: 5, total: 10 });
    v.done();
    assert.ok(
      s
        .text()
        .split('\n')
        .every((l) => l.length < 30),
    );
  });

  it('draws docker-shaped bars', () => {
    assert.equal(bar(0, 10), `[>${' '.repeat(49)}]`);
    assert.equal(bar(5, 10), `[${'='.repeat(25)}>${' '.repeat(24)}]`);
    assert.equal(bar(10, 10), `[${'='.repeat(50)}]`);
  });
});
