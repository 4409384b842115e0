import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCpusFast, parseStatus, QmpClient } from './qmp-client.ts';

/** A QMP peer on a unix socket that answers like QEMU 7.2: greeting, capabilities, a few commands, an event. */
function fakeQemu(): net.Server {
  return net.createServer((conn) => {
    conn.write(
      '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}\r\n',
    );
    let buf = '';
    conn.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const msg = JSON.parse(buf.slice(0, nl)) as { execute: string; id: string };
        buf = buf.slice(nl + 1);
        const reply = (doc: object) => conn.write(`${JSON.stringify({ ...doc, id: msg.id })}\r\n`);
        if (msg.execute === 'qmp_capabilities') reply({ return: {} });
        else if (msg.execute === 'query-cpus-fast')
          reply({
            return: [
              {
                'cpu-index': 0,
                'thread-id': 4242,
                target: 'x86_64',
                'qom-path': '/machine/unattached/device[0]',
              },
            ],
          });
        else if (msg.execute === 'system_powerdown') {
          conn.write('{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "POWERDOWN"}\r\n');
          reply({ return: {} });
        } else
          reply({
            error: { class: 'CommandNotFound', desc: `The command ${msg.execute} has not been found` },
          });
      }
    });
  });
}

describe('QmpClient', () => {
  let dir: string;
  let server: net.Server;
  let socket: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qmp-'));
    socket = path.join(dir, 'qmp.sock');
    server = fakeQemu();
    await new Promise<void>((r) => server.listen(socket, r));
  });
  after(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('negotiates, runs commands by id, reports QEMU errors and events', async () => {
    const qmp = await QmpClient.connect(socket);
    const events: string[] = [];
    qmp.onEvent((e) => events.push(e.event));
    assert.deepEqual(parseCpusFast(await qmp.execute('query-cpus-fast')), [{ index: 0, threadId: 4242 }]);
    await qmp.execute('system_powerdown');
    assert.deepEqual(events, ['POWERDOWN']);
    await assert.rejects(qmp.execute('no-such'), /QMP no-such: CommandNotFound: The command no-such/);
    qmp.close();
    await assert.rejects(qmp.execute('query-status'), /closed by hyperbox/);
  });

  it('refuses replies of the wrong shape', () => {
    assert.throws(() => parseCpusFast({}), /not a list/);
    assert.throws(() => parseCpusFast([{ 'cpu-index': 0 }]), /lacks cpu-index\/thread-id/);
    assert.deepEqual(parseStatus({ running: true, status: 'running', singlestep: false }), {
      running: true,
      status: 'running',
    });
    assert.throws(() => parseStatus({ status: 1 }), /unexpected reply/);
  });

  it('fails clearly when nobody listens', async () => {
    await assert.rejects(QmpClient.connect(path.join(dir, 'none.sock')), /QMP .*none\.sock/);
  });
});
