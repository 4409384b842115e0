import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sendError } from './errors.ts';
import { Exchange } from './exchange.ts';
import { MAX_JSON_DEPTH, parseJsonText } from './json-text.ts';

/**
 * A server on loopback whose one handler reads the JSON body through an Exchange with short deadlines: 200 ms idle
 * and 600 ms in all, or the idle deadline given as `?idleMs=` (a loaded machine delays the sender's timers, so a
 * test of the total deadline keeps the idle one far away).
 */
let server: http.Server;
let port = 0;
before(async () => {
  server = http.createServer(async (req, res) => {
    const idleMs = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('idleMs') ?? 200);
    const ex = new Exchange(req, res, { bodyTimeouts: { idleMs, totalMs: 600 } });
    try {
      ex.json200({ got: await ex.json() });
    } catch (err) {
      sendError(res, err);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});
after(() => server.close());

/**
 * Sends a POST whose body goes out in `parts`, `gapMs` apart, declaring `missing` bytes more than it sends;
 * resolves with the raw response text once the server closes.
 */
function post(
  parts: string[],
  gapMs: number,
  opts: { missing?: number; close?: boolean; idleMs?: number } = {},
): Promise<{ text: string; ms: number }> {
  const started = Date.now();
  const length = parts.reduce((n, p) => n + Buffer.byteLength(p), 0) + (opts.missing ?? 0);
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    sock.on('data', (c) => {
      text += c;
    });
    sock.on('close', () => resolve({ text, ms: Date.now() - started }));
    sock.on('error', reject);
    sock.write(
      `POST /x${opts.idleMs ? `?idleMs=${opts.idleMs}` : ''} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n` +
        `${opts.close ? 'Connection: close\r\n' : ''}\r\n`,
    );
    let i = 0;
    const next = () => {
      if (sock.destroyed || i >= parts.length) return;
      sock.write(parts[i++]!);
      setTimeout(next, gapMs);
    };
    next();
  });
}

describe('request bodies (exchange)', () => {
  it('a body that stops coming is answered 400 "timed out" and the connection closed', async () => {
    const r = await post(['{"a":'], 0, { missing: 10 });
    assert.match(r.text, /^HTTP\/1\.1 400 /);
    assert.match(r.text, /request body timed out: nothing received for 0.2 s/);
    assert.match(r.text, /Connection: close/i);
    assert.ok(r.ms < 2000, `closed after ${r.ms} ms`);
  });

  it('a body trickling in byte by byte is cut at the total deadline', async () => {
    const r = await post('{"a":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'.split(''), 50, { idleMs: 5000 });
    assert.match(r.text, /request body timed out: not complete after 0.6 s/);
  });

  it('a body sent in pieces within the deadlines is read whole', async () => {
    const r = await post(['{"a":', '1}'], 50, { close: true });
    assert.match(r.text, /^HTTP\/1\.1 200 /);
    assert.match(r.text, /\{"got":\{"a":1\}\}/);
  });

  it('a 200k-deep JSON body is 400, with no stack overflow', async () => {
    const deep = `${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}`;
    const r = await post([deep], 0, { close: true });
    assert.match(r.text, /^HTTP\/1\.1 400 /);
    assert.match(r.text, /nested 200000 levels deep, at most 64 are allowed/);
  });
});

describe('parseJsonText', () => {
  it('counts nesting outside strings only, and refuses past MAX_JSON_DEPTH', () => {
    assert.deepEqual(parseJsonText('{"a":"[[[[{{{{\\"]]"}', 'body'), { a: '[[[[{{{{"]]' });
    const ok = `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`;
    assert.ok(Array.isArray(parseJsonText(ok, 'body')));
    assert.throws(() => parseJsonText(`[${ok}]`, 'body'), /nested 65 levels deep/);
    assert.throws(() => parseJsonText('{"a":', 'body'), /malformed JSON in body/);
  });
});
