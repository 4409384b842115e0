import { pipeline } from 'node:stream/promises';
import type { LocalEngine } from '../../engine/local-engine.ts';
import type { Exchange } from '../exchange.ts';
import type { NativeApi } from './operations.ts';
import * as s from './schemas.ts';

const V = '/hyperbox/v1/vms';

/** Virtual machines in the engine's own shapes (records and facts): `hyperbox vm ...` through the daemon. */
export function nativeVmRoutes(api: NativeApi, engine: LocalEngine): void {
  const vms = engine.vms;
  // What a QEMU that ended unasked (kill -9, a crash) left is recorded before VMs are shown, as a CLI's engine
  // does when it starts: the watcher (engine/exit-watcher.ts) would see it within a second anyway.
  const settle = async () => {
    if (vms.hasDeadQemu()) await vms.reconcile();
  };
  api.add(
    { method: 'GET', path: V, summary: 'Every VM with its reservation, addresses and paths' },
    async (_req, ex) => {
      await settle();
      ex.json200(vms.describeAll());
    },
  );
  api.add(
    {
      method: 'POST',
      path: V,
      summary: 'Create a VM: reserve its resources, make its disk',
      body: s.VmCreate,
    },
    async ({ body }, ex) => ex.json200(await vms.create(body), 201),
  );
  api.add({ method: 'GET', path: `${V}/images`, summary: 'VM base images' }, (_req, ex) =>
    ex.json200(vms.images.list()),
  );
  api.add(
    {
      method: 'POST',
      path: `${V}/images`,
      summary: "Import a disk image or ISO from a file on the daemon's host",
      body: s.VmImageImport,
    },
    async ({ body: { file, name } }, ex) => {
      ex.json200(await vms.images.import(file, name), 201);
    },
  );
  api.add(
    { method: 'DELETE', path: `${V}/images/:name`, summary: 'Remove a base image', produces: 'none' },
    ({ params }, ex) => {
      vms.images.remove(params.name);
      ex.noContent();
    },
  );
  api.add(
    { method: 'GET', path: `${V}/:ref`, summary: 'One VM with its reservation and addresses' },
    async ({ params }, ex) => {
      await settle();
      ex.json200(vms.describe(params.ref));
    },
  );
  api.add({ method: 'POST', path: `${V}/:ref/start`, summary: 'Boot a VM' }, async ({ params }, ex) =>
    ex.json200(await vms.start(params.ref)),
  );
  api.add(
    { method: 'POST', path: `${V}/:ref/stop`, summary: 'ACPI shutdown, then kill', body: s.VmStop },
    async ({ params, body }, ex) => ex.json200(await vms.stop(params.ref, body)),
  );
  api.add(
    { method: 'POST', path: `${V}/:ref/restart`, summary: 'Stop, then start', body: s.VmStop },
    async ({ params, body }, ex) => ex.json200(await vms.restart(params.ref, body)),
  );
  api.add({ method: 'POST', path: `${V}/:ref/kill`, summary: 'Kill QEMU' }, async ({ params }, ex) =>
    ex.json200(await vms.kill(params.ref)),
  );
  api.add(
    {
      method: 'DELETE',
      path: `${V}/:ref`,
      summary: 'Remove a VM, its disk and its reservation',
      query: s.VmRemoveQuery,
      produces: 'none',
    },
    async ({ params, query }, ex) => {
      await vms.remove(params.ref, query);
      ex.noContent();
    },
  );
  api.add(
    {
      method: 'POST',
      path: `${V}/:ref/disk/resize`,
      summary: "Grow a stopped VM's disk",
      body: s.VmDiskResize,
    },
    async ({ params, body }, ex) => ex.json200(await vms.resizeDisk(params.ref, body.bytes)),
  );
  api.add(
    { method: 'GET', path: `${V}/:ref/snapshots`, summary: "A VM's disk snapshots" },
    async ({ params }, ex) => ex.json200(await vms.snapshots(params.ref)),
  );
  api.add(
    {
      method: 'POST',
      path: `${V}/:ref/snapshots`,
      summary: "Snapshot a stopped VM's disk",
      body: s.VmSnapshotCreate,
      produces: 'none',
    },
    async ({ params, body }, ex) => {
      await vms.snapshot(params.ref, 'create', body.name);
      ex.noContent(201);
    },
  );
  api.add(
    {
      method: 'POST',
      path: `${V}/:ref/snapshots/:name/restore`,
      summary: "Bring a stopped VM's disk back to a snapshot",
      produces: 'none',
    },
    async ({ params }, ex) => {
      await vms.snapshot(params.ref, 'restore', params.name);
      ex.noContent();
    },
  );
  api.add(
    { method: 'DELETE', path: `${V}/:ref/snapshots/:name`, summary: 'Remove a snapshot', produces: 'none' },
    async ({ params }, ex) => {
      await vms.snapshot(params.ref, 'rm', params.name);
      ex.noContent();
    },
  );
  api.add(
    {
      method: 'GET',
      path: `${V}/:ref/logs`,
      summary: 'The serial console log; with follow=true, until the VM stops',
      query: s.VmLogsQuery,
      produces: 'application/octet-stream',
    },
    ({ params, query }, ex) => serialLog(ex, engine, params.ref, query.follow === true),
  );
  api.add(
    {
      method: 'POST',
      path: `${V}/:ref/console`,
      summary: "A running VM's serial console, both ways (Connection: Upgrade, Upgrade: tcp)",
      upgrade: true,
    },
    async ({ params }, ex) => {
      // Connected before the take-over: a VM that is not running gets its error as a normal answer.
      const console = await vms.console(params.ref);
      const { input, output } = ex.hijack('application/octet-stream');
      console.on('error', () => {});
      // Each way ends on its own: the client ending its input half-closes the console, as a local client would.
      await Promise.allSettled([pipeline(input, console), pipeline(console, output)]);
      console.destroy();
    },
  );
}

async function serialLog(ex: Exchange, engine: LocalEngine, ref: string, follow: boolean): Promise<void> {
  const gone = new AbortController();
  // Asked before the headers go out: an unknown VM still gets its 404.
  const chunks = engine.vms.serialLog(ref, { follow, signal: gone.signal });
  const out = ex.startStream('application/octet-stream');
  // A keep-alive socket serves many requests: the listener goes with this one.
  const onClose = () => gone.abort();
  ex.req.socket.once('close', onClose);
  try {
    for await (const chunk of chunks) {
      if (gone.signal.aborted) break;
      out.write(chunk);
    }
  } finally {
    ex.req.socket.off('close', onClose);
    out.end();
  }
}
