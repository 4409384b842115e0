import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { socketStreams } from './streams.ts';

function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function collect(s: NodeJS.ReadableStream): Promise<string> {
  let out = '';
  for await (const c of s as AsyncIterable<Buffer>) out += c.toString();
  return out;
}

/** A connected socket pair over a loopback server; `serve` gets the server's end. */
async function pair(serve: (peer: net.Socket) => void): Promise<net.Socket> {
  const server = net.createServer({ allowHalfOpen: true }, (peer) => {
    serve(peer);
    server.close();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
}

describe('taken-over connections as session streams', () => {
  it('splits multiplexed frames into stdout and stderr, whatever the chunking', async () => {
    const socket = await pair((peer) => {
      const bytes = Buffer.concat([frame(1, 'out1 '), frame(2, 'err'), frame(1, 'out2'), frame(3, '!')]);
      // Split mid-header and mid-payload.
      peer.write(bytes.subarray(0, 3));
      setTimeout(() => peer.end(bytes.subarray(3)), 20);
    });
    const s = socketStreams(socket, { multiplexed: true, stdin: false, ttyStderr: 'same' });
    const [out, err] = await Promise.all([collect(s.stdout), collect(s.stderr)]);
    assert.equal(out, 'out1 out2');
    assert.equal(err, 'err!');
  });

  it('keeps reading output after our stdin ended (half-close)', async () => {
    const socket = await pair((peer) => {
      let got = '';
      peer.on('data', (c) => {
        got += c;
      });
      peer.on('end', () => {
        // Our input is over; the answer comes after.
        setTimeout(() => peer.end(`echo:${got}`), 20);
      });
    });
    const s = socketStreams(socket, { multiplexed: false, stdin: true, ttyStderr: 'empty' });
    s.stdin!.end('hello');
    assert.equal(await collect(s.stdout), 'echo:hello');
    assert.equal(await collect(s.stderr), '');
  });
});
