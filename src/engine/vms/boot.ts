import fs from 'node:fs';
import { FailedPreconditionError, UnavailableError } from '../../core/errors.ts';
import { parseCidr } from '../../core/network/ip.ts';
import type { EndpointRecord } from '../../core/network/types.ts';
import { kernelCmdline, qemuArgv } from '../../core/vm/qemu-plan.ts';
import { requireMove, type VmState } from '../../core/vm/state.ts';
import type { Launched, PinnedVcpu } from '../../drivers/qemu/vm-runtime.ts';
import type { VmRecord } from '../api/vms.ts';
import { writeCloudInitSeed } from './cloud-init.ts';
import type { VmContext } from './context.ts';

/** The parts of the context a start uses. */
export type BootContext = Pick<
  VmContext,
  'db' | 'store' | 'ledger' | 'networks' | 'runtime' | 'host' | 'events' | 'paths' | 'baseImage'
>;

/**
 * `vm start`: marks the VM starting, attaches its taps, writes its cloud-init seed, plans the QEMU argv (core),
 * launches it paused, pins each vCPU thread to its reserved CPU and lets it run. A start that fails leaves nothing
 * running: QEMU killed, taps detached, the VM stopped with the reason (QEMU's own complaint when it gave one).
 */
export async function bootVm(ctx: BootContext, ref: string): Promise<VmRecord> {
  const rec = ctx.db.transaction(() => {
    const r = ctx.store.get(ref);
    requireMove(r.name, r.state.status, 'starting');
    ctx.db.space.requireRoom(`cannot start VM ${r.name}`);
    const state: VmState = {
      status: 'starting',
      busyPid: process.pid,
      ...(r.state.diskInitialized ? { diskInitialized: true } : {}),
    };
    ctx.store.setState(r.id, state);
    return { ...r, state };
  });
  const p = ctx.paths(rec.id);
  let launched: Launched | undefined;
  try {
    const reservation = ctx.ledger().get(rec.id);
    if (!reservation)
      throw new FailedPreconditionError(
        `VM ${rec.name} holds no reservation in the ledger: remove and create it`,
      );
    const accel = await ctx.host.accelerator();
    const qemu = ctx.host.qemuBinary();
    const eps = rec.config.networks.length
      ? await ctx.networks.attachTaps({
          ownerId: rec.id,
          ownerName: rec.name,
          hostname: rec.config.hostname,
          networks: rec.config.networks.map((n) => ({ network: n.network, ...(n.ip ? { ip: n.ip } : {}) })),
          publish: [...rec.config.publish],
        })
      : [];
    fs.mkdirSync(p.runDir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    const seed = rec.config.boot.kind === 'image' ? writeSeed(ctx, rec, eps) : undefined;
    const cdrom = cdromOf(ctx, rec);
    const argv = qemuArgv({
      name: rec.name,
      accel: accel.accel,
      machine: rec.config.machine,
      cpus: rec.config.cpus,
      memoryBytes: rec.config.memoryBytes,
      memoryPrealloc: rec.config.memoryPrealloc,
      ...(rec.config.boot.kind === 'kernel'
        ? {
            kernel: {
              path: rec.config.boot.kernel,
              ...(rec.config.boot.initrd ? { initrd: rec.config.boot.initrd } : {}),
              cmdline: cmdlineOf(ctx, rec, accel.accel, eps),
            },
          }
        : {}),
      ...(fs.existsSync(p.disk) ? { disk: { path: p.disk, format: 'qcow2' as const } } : {}),
      ...(seed ? { seed } : {}),
      ...(cdrom ? { cdrom } : {}),
      nics: eps.map((e) => ({ tap: e.hostIf, mac: e.mac })),
      qmpSocket: p.qmpSocket,
      consoleSocket: p.consoleSocket,
      serialLog: p.serialLog,
      pidFile: p.pidFile,
      paused: true,
    });
    launched = await ctx.runtime.launch({
      qemu,
      argv,
      logFile: p.qemuLog,
      exitFile: p.exitFile,
      pidFile: p.pidFile,
      qmpSocket: p.qmpSocket,
    });
    const control = await ctx.runtime.control(p.qmpSocket);
    let vcpus: PinnedVcpu[];
    try {
      vcpus = await ctx.runtime.pin(await control.vcpuThreads(), reservation.cpus);
      await control.resume();
    } finally {
      control.close();
    }
    const state: VmState = {
      status: 'running',
      qemu: launched.qemu,
      waiter: launched.waiter,
      accel: accel.accel,
      accelReason: accel.reason,
      startedAt: Date.now(),
      vcpus,
      diskInitialized: true,
    };
    ctx.store.setState(rec.id, state);
    ctx.events?.record('vm', 'start', rec.id, { name: rec.name });
    return { ...rec, state };
  } catch (caught) {
    let err = caught;
    if (launched) {
      ctx.runtime.kill(launched.qemu);
      await ctx.runtime.waitExit(launched.qemu, 5000);
      await ctx.runtime.waitExit(launched.waiter, 2000);
      // QEMU that died on its own (a bad kernel, a missing tap) said why in its log, after where this start
      // began writing: that is the error to show (a SIGKILL from us leaves no line).
      const complaint = ctx.runtime.complaint(p.qemuLog, launched.logOffset);
      if (complaint)
        err = new UnavailableError(`QEMU failed to start VM ${rec.name}: ${complaint}`, { cause: caught });
    }
    await ctx.networks.detachTaps(rec.id).catch(() => {});
    fs.rmSync(p.runDir, { recursive: true, force: true });
    const reason = `failed to start: ${err instanceof Error ? err.message : String(err)}`;
    const { busyPid: _b, ...kept } = ctx.store.get(rec.id).state;
    ctx.store.setState(rec.id, { ...kept, status: 'stopped', exitReason: reason, finishedAt: Date.now() });
    throw err;
  }
}

function cmdlineOf(ctx: BootContext, rec: VmRecord, accel: 'kvm' | 'tcg', eps: EndpointRecord[]): string {
  const first = eps[0];
  const net = first ? ctx.networks.record(first.networkId) : undefined;
  const boot = rec.config.boot;
  return kernelCmdline({
    hostname: rec.config.hostname,
    accel,
    machine: rec.config.machine,
    hostTscKhz: ctx.host.hostTscKhz(),
    ...(first && net
      ? {
          nic: {
            address: first.address,
            gateway: net.gateway,
            prefix: parseCidr(net.subnet).prefix,
            // Names resolve through the network's DNS server (at its gateway) on user networks only.
            ...(net.isDefault ? {} : { dns: net.gateway }),
          },
        }
      : {}),
    formatDisk: fs.existsSync(ctx.paths(rec.id).disk) && !rec.state.diskInitialized,
    ...(boot.kind === 'kernel' && boot.append ? { append: boot.append } : {}),
  });
}

/** An ISO base image is shown as a CD-ROM (the installer or live system) beside the VM's own empty disk. */
function cdromOf(ctx: BootContext, rec: VmRecord): string | undefined {
  if (rec.config.boot.kind !== 'image') return undefined;
  const img = ctx.baseImage(rec.config.boot.image);
  return img.kind === 'iso' ? img.path : undefined;
}

function writeSeed(ctx: BootContext, rec: VmRecord, eps: EndpointRecord[]): string {
  return writeCloudInitSeed(ctx.paths(rec.id).seedDir, {
    instanceId: rec.id,
    hostname: rec.config.hostname,
    ...(rec.config.cloudInit ? { userData: rec.config.cloudInit } : {}),
    sshKeys: rec.config.sshKeys,
    nics: eps.map((e) => {
      const n = ctx.networks.record(e.networkId);
      return {
        mac: e.mac,
        address: e.address,
        prefix: parseCidr(n.subnet).prefix,
        gateway: n.gateway,
        dns: n.isDefault ? undefined : n.gateway,
      };
    }),
  });
}
