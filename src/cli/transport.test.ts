import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HyperboxError } from '../core/errors.ts';
import { layoutFor } from '../core/paths.ts';
import { chooseTransport, parseHost } from './transport.ts';

describe('the CLI chooses its transport', () => {
  let root: string;
  let layout: ReturnType<typeof layoutFor>;
  let socket: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-transport-'));
    layout = layoutFor(root);
    socket = layout.daemonSocket;
    fs.mkdirSync(layout.runRoot, { recursive: true });
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('is in-process without a socket, and with a stale socket file nobody answers on', async () => {
    assert.deepEqual(await chooseTransport({ host: undefined, env: {}, layout }), { kind: 'local' });
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(socket, r));
    // Closing a server that listened leaves no file; a crashed daemon leaves one: make it so.
    await new Promise<void>((r) => server.close(() => r()));
    fs.writeFileSync(socket, '');
    assert.deepEqual(await chooseTransport({ host: undefined, env: {}, layout }), { kind: 'local' });
    fs.rmSync(socket);
  });

  it('is the daemon when one answers on the default socket', async () => {
    const server = net.createServer((c) => c.destroy());
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      assert.deepEqual(await chooseTransport({ host: undefined, env: {}, layout }), {
        kind: 'remote',
        socketPath: socket,
      });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('insists on a daemon named by --host or HYPERBOX_HOST, naming the socket when none answers', async () => {
    const dead = path.join(root, 'nobody.sock');
    for (const named of [
      { host: `unix://${dead}`, env: {} },
      { host: undefined, env: { HYPERBOX_HOST: `unix://${dead}` } },
    ]) {
      await assert.rejects(chooseTransport({ ...named, layout }), (err: unknown) => {
        assert.ok(err instanceof HyperboxError);
        assert.equal(err.code, 'Unavailable');
        assert.match(err.message, new RegExp(`unix://${dead}`));
        return true;
      });
    }
  });

  it('takes unix:// URLs and absolute paths, and refuses the rest naming them', () => {
    assert.equal(parseHost('unix:///run/hyperbox/hyperbox.sock'), '/run/hyperbox/hyperbox.sock');
    assert.equal(parseHost('/tmp/x.sock'), '/tmp/x.sock');
    assert.throws(() => parseHost('tcp://1.2.3.4:2375'), /invalid host "tcp:\/\/1\.2\.3\.4:2375"/);
    assert.throws(() => parseHost('relative.sock'), /invalid host "relative\.sock"/);
  });
});
