import { pipeline } from 'node:stream/promises';
import type { LocalEngine } from '../../engine/local-engine.ts';
import type { Exchange } from '../exchange.ts';
import type { NativeApi } from './operations.ts';
import * as s from './schemas.ts';
import { readBody, readQuery } from './validate.ts';

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
    async (ex) => {
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
    async (ex) => ex.json200(await vms.create(await readBody(ex, s.VmCreate)), 201),
  );
  api.add({ method: 'GET', path: `${V}/images`, summary: 'VM base images' }, (ex) =>
    ex.json200(vms.images.list()),
  );
  api.add(
    {
      method: 'POST',
      path: `${V}/images`,
      summary: "Import a disk image or ISO from a file on the daemon's host",
      body: s.VmImageImport,
    },
    async (ex) => {
      const { file, name } = await readBody(ex, s.VmImageImport);
      ex.json200(await vms.images.import(file, name), 201);
    },
  );
  api.add(
    { method: 'DELETE', path: `${V}/images/:name`, summary: 'Remove a base image', produces: 'none' },
    (ex) => {
      vms.images.remove(ex.params.name!);
      ex.noContent();
    },
  );
  api.add(
    { method: 'GET', path: `${V}/:ref`, summary: 'One VM with its reservation and addresses' },
    async (ex) => {
      await settle();
      ex.json200(vms.describe(ex.params.ref!));
    },
  );
  api.add({ method: 'POST', path: `${V}/:ref/start`, summary: 'Boot a VM' }, async (ex) =>
    ex.json200(await vms.start(ex.params.ref!)),
  );
  api.add(
    { method: 'POST', path: `${V}/:ref/stop`, summary: 'ACPI shutdown, then kill', body: s.VmStop },
    async (ex) => ex.json200(await vms.stop(ex.params.ref!, await readBody(ex, s.VmStop))),
  );
  api.add(
    { method: 'POST', path: `${V}/:ref/restart`, summary: 'Stop, then start', body: s.VmStop },
    async (ex) => ex.json200(await vms.restart(ex.params.ref!, await readBody(ex, s.VmStop))),
  );
  api.add({ method: 'POST', path: `${V}/:ref/kill`, summary: 'Kill QEMU' }, async (ex) =>
    ex.json200(await vms.kill(ex.params.ref!)),
  );
  api.add(
    {
      method: 'DELETE',
      path: `${V}/:ref`,
      summary: 'Remove a VM, its disk and its reservation',
      query: s.VmRemoveQuery,
      produces: 'none',
    },
    async (ex) => {
      await vms.remove(ex.params.ref!, readQuery(ex, s.VmRemoveQuery));
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
    async (ex) =>
      ex.json200(await vms.resizeDisk(ex.params.ref!, (await readBody(ex, s.VmDiskResize)).bytes)),
  );
  api.add({ method: 'GET', path: `${V}/:ref/snapshots`, summary: "A VM's disk snapshots" }, async (ex) =>
    ex.json200(await vms.snapshots(ex.params.ref!)),
  );
  api.add(
    {
      method: 'POST',
      path: `${V}/:ref/snapshots`,
      summary: "Snapshot a stopped VM's disk",
      body: s.VmSnapshotCreate,
      produces: 'none',
    },
    async (ex) => {
      await vms.snapshot(ex.params.ref!, 'create', (await readBody(ex, s.VmSnapshotCreate)).name);
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
    async (ex) => {
      await vms.snapshot(ex.params.ref!, 'restore', ex.params.name!);
      ex.noContent();
    },
  );
  api.add(
    { method: 'DELETE', path: `${V}/:ref/snapshots/:name`, summary: 'Remove a snapshot', produces: 'none' },
    async (ex) => {
      await vms.snapshot(ex.params.ref!, 'rm', ex.params.name!);
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
    (ex) => serialLog(ex, engine),
  );
  api.add(
    {
      method: 'POST',
      path: `${V}/:ref/console`,
      summary: "A running VM's serial console, both ways (Connection: Upgrade, Upgrade: tcp)",
      upgrade: true,
    },
    async (ex) => {
      // Connected before the take-over: a VM that is not running gets its error as a normal answer.
      const console = await vms.console(ex.params.ref!);
      const { input, output } = ex.hijack('application/octet-stream');
      console.on('error', () => {});
      // Each way ends on its own: the client ending its input half-closes the console, as a local client would.
      await Promise.allSettled([pipeline(input, console), pipeline(console, output)]);
      console.destroy();
    },
  );
}

async function serialLog(ex: Exchange, engine: LocalEngine): Promise<void> {
  const { follow } = readQuery(ex, s.VmLogsQuery);
  const gone = new AbortController();
  // Asked before the headers go out: an unknown VM still gets its 404.
  const chunks = engine.vms.serialLog(ex.params.ref!, { follow: follow === true, signal: gone.signal });
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
