import assert from 'node:assert/strict';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason, TestRoot } from './helpers/cli.ts';

const skip = privilegedSkipReason();
if (skip) console.log(`# skipping transport tests: ${skip}`);

/** One request to the daemon's socket: status and parsed JSON body. */
function call(socketPath: string, method: string, urlPath: string, body?: string | Buffer) {
  // biome-ignore lint/suspicious/noExplicitAny: an answer's JSON, walked by the assertions
  return new Promise<{ status: number; json: any }>((resolve, reject) => {
    const req = http.request(
      { socketPath, method, path: urlPath, headers: body ? { 'Content-Type': 'application/json' } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('one CLI, two transports', { skip }, () => {
  let local: TestRoot;
  let daemon: TestRoot;
  let socket: string;
  before(() => {
    local = new TestRoot({ transport: 'local' });
    daemon = new TestRoot({ transport: 'daemon' });
    socket = path.join(daemon.root, 'run', 'hyperbox.sock');
    for (const t of [local, daemon]) {
      t.importBusybox();
      t.ok(['run', '-d', '--name', 'busy', '--network', 'none', 'busybox:1', 'sleep', '300']);
    }
  });
  after(() => {
    assert.deepEqual(local.cleanup(), []);
    assert.deepEqual(daemon.cleanup(), []);
  });

  it('prints the same error and exits with the same code either way', () => {
    const cases = [
      ['rm', 'nosuch'],
      ['rm', 'busy'], // running: a conflict
      ['start', 'nosuch'],
      ['start', '-a', 'busy'], // already running
      ['stop', 'nosuch'],
      ['inspect', '--type', 'container', 'nosuch'],
      ['logs', 'nosuch'],
      ['exec', 'nosuch', 'true'],
      ['rename', 'busy', 'bad name!'],
      ['network', 'rm', 'nosuch'],
      ['network', 'create', '--subnet', '10.0.0.0/99', 'badnet'],
      ['volume', 'inspect', 'nosuch'],
      ['image', 'inspect', 'nosuch:1'],
      ['run', '--rm', '--network', 'none', 'nosuch:image', 'true'],
      ['run', '--rm', '--network', 'none', 'busybox:1', 'no-such-command'],
      ['run', '--rm', '--network', 'none', 'busybox:1', '/etc/passwd'],
      ['run', '--rm', '--network', 'none', 'busybox:1', 'sh', '-c', 'exit 7'],
      ['exec', 'busy', 'sh', '-c', 'exit 9'],
    ];
    // The two containers were started a moment apart: "running for 1 second" may differ, nothing else.
    const same = (text: string) =>
      text.replace(/running for [^:\n]+/, 'running for (some time)').replace(/\b[0-9a-f]{64}\b/g, 'ID');
    for (const args of cases) {
      const a = local.run(args);
      const b = daemon.run(args);
      assert.equal(same(b.stderr), same(a.stderr), `stderr of hyperbox ${args.join(' ')}`);
      assert.equal(b.status, a.status, `exit code of hyperbox ${args.join(' ')}`);
      assert.notEqual(a.status, 0, `hyperbox ${args.join(' ')} fails`);
    }
  });

  it('reaches the daemon through HYPERBOX_HOST, and says so when none answers', () => {
    const dead = path.join(local.root, 'nobody.sock');
    const r = local.run(['ps'], { env: { HYPERBOX_HOST: `unix://${dead}` } });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`cannot connect to the hyperbox daemon at unix://${dead}`));
    // The daemon's root, reached from a command that names neither its root nor its socket by default.
    const other = new TestRoot({ transport: 'local' });
    try {
      const ps = other.run(['ps', '-a', '--format', '{{.Names}}'], {
        env: { HYPERBOX_HOST: `unix://${socket}` },
      });
      assert.equal(ps.stdout, 'busy\n');
    } finally {
      assert.deepEqual(other.cleanup(), []);
    }
  });

  it('validates native request bodies strictly: 400 naming the field, with the error code', async () => {
    const create = (body: string | Buffer) => call(socket, 'POST', '/hyperbox/v1/containers', body);
    const unknown = await create(JSON.stringify({ config: {}, colour: 'red' }));
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.code, 'InvalidArgument');
    assert.match(unknown.json.message, /unknown field "colour"/);
    const wrongType = await call(
      socket,
      'POST',
      '/hyperbox/v1/containers/busy/kill',
      JSON.stringify({ signal: 9 }),
    );
    assert.equal(wrongType.status, 400);
    assert.match(wrongType.json.message, /field "signal": expected string, got number 9/);
    const malformed = await create('{"config": ');
    assert.equal(malformed.status, 400);
    assert.match(malformed.json.message, /malformed JSON/);
    const huge = await create(Buffer.alloc(2 * 1024 * 1024, 0x20));
    assert.equal(huge.status, 400);
    assert.match(huge.json.message, /request body too large/);
    const badQuery = await call(socket, 'DELETE', '/hyperbox/v1/containers/busy?force=maybe');
    assert.equal(badQuery.status, 400);
    assert.match(badQuery.json.message, /field "force"/);
    // Nothing was changed by the refused requests.
    assert.equal(daemon.ok(['ps', '--format', '{{.Names}}']), 'busy\n');
  });

  it('answers what docker has no words for: the host, the ledger, the planner, VMs', async () => {
    const host = await call(socket, 'GET', '/hyperbox/v1/host');
    assert.equal(host.status, 200);
    assert.equal(host.json.cpu.logicalCpus, os.cpus().length);
    const cli = JSON.parse(daemon.ok(['host', '--json']));
    assert.deepEqual(cli.allocation, host.json.allocation, 'the CLI shows what the API answers');
    assert.equal(cli.virtualization.probedAt, host.json.virtualization.probedAt, 'one cached verdict');
    const ledger = await call(socket, 'GET', '/hyperbox/v1/ledger');
    assert.equal(ledger.json.host.cpus.length, os.cpus().length);
    assert.deepEqual(ledger.json.reservations, []);
    const args = { host: 'cores=4,threads=2,memory=16G,disk=500G', vm: 'cpus=1,memory=1G,disk=10G' };
    const planned = await call(socket, 'POST', '/hyperbox/v1/plan', JSON.stringify(args));
    assert.equal(planned.status, 200);
    const cliPlan = JSON.parse(daemon.ok(['plan', '--json', '--host', args.host, '--vm', args.vm]));
    assert.deepEqual(planned.json, cliPlan, 'the API and the CLI plan alike');
    const badPlan = await call(socket, 'POST', '/hyperbox/v1/plan', JSON.stringify({ vm: 2 }));
    assert.equal(badPlan.status, 400);
    assert.match(badPlan.json.message, /field "vm": expected string/);
    assert.deepEqual((await call(socket, 'GET', '/hyperbox/v1/vms')).json, []);
    const vm = {
      name: 'x1',
      hostname: 'x1',
      cpus: 1,
      memoryBytes: 64 * 1024 * 1024,
      diskBytes: 0,
      memoryPrealloc: false,
      cpuPinning: 'auto',
      boot: { kind: 'kernel', kernel: 'vmlinuz' },
      machine: 'microvm',
      networks: [],
      publish: [],
      sshKeys: [],
    };
    const relative = await call(socket, 'POST', '/hyperbox/v1/vms', JSON.stringify({ config: vm }));
    assert.equal(relative.status, 400);
    assert.match(relative.json.message, /field "config\.boot\.kernel": must be an absolute path/);
    const unknown = { config: { ...vm, boot: { kind: 'kernel', kernel: '/vmlinuz' }, gpus: 1 } };
    const extra = await call(socket, 'POST', '/hyperbox/v1/vms', JSON.stringify(unknown));
    assert.equal(extra.status, 400);
    assert.match(extra.json.message, /unknown field "config\.gpus"/);
    assert.deepEqual((await call(socket, 'GET', '/hyperbox/v1/vms')).json, [], 'nothing was created');
    const noVm = await call(socket, 'GET', '/hyperbox/v1/vms/nope');
    assert.equal(noVm.status, 404);
    assert.equal(noVm.json.code, 'NotFound');
  });

  it('serves an OpenAPI 3 document generated from the validating schemas', async () => {
    const { status, json } = await call(socket, 'GET', '/openapi.json');
    assert.equal(status, 200);
    assert.match(json.openapi, /^3\./);
    const create = json.paths['/hyperbox/v1/containers'].post.requestBody.content['application/json'].schema;
    assert.equal(create.additionalProperties, false);
    assert.equal(create.properties.config.properties.tty.type, 'boolean');
    assert.ok(json.paths['/hyperbox/v1/containers/{ref}/logs'].get);
    for (const p of ['/hyperbox/v1/vms', '/hyperbox/v1/host', '/hyperbox/v1/ledger', '/hyperbox/v1/plan'])
      assert.ok(json.paths[p], `${p} is described`);
  });
});
