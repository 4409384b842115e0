import fs from 'node:fs';
import {
  ConflictError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from '../../core/errors.ts';
import type { VmConfig } from '../../core/vm/config.ts';
import type { QemuSnapshot } from '../../core/vm/snapshot.ts';
import { isVmActive } from '../../core/vm/state.ts';
import type { VmImageRecord, VmRecord } from '../api/vms.ts';
import type { VmContext } from './context.ts';

/** The parts of the context disks use. */
export type DiskContext = Pick<VmContext, 'db' | 'store' | 'ledger' | 'qemuImg' | 'events' | 'paths'>;

/** A new VM's disk: a thin clone of its base image, an empty disk of `bytes`, or none (a kernel boot, 0 bytes). */
export async function makeDisk(
  ctx: Pick<DiskContext, 'qemuImg'>,
  disk: string,
  o: { base: VmImageRecord | undefined; bytes: number },
): Promise<void> {
  if (o.base?.kind === 'disk')
    await ctx.qemuImg.createClone(disk, { path: o.base.path, format: 'qcow2' }, o.bytes);
  else if (o.bytes > 0) await ctx.qemuImg.create(disk, o.bytes);
}

/** `vm disk resize NAME SIZE`: grows the disk (never shrinks: the guest's file system would be cut). */
export async function resizeDisk(ctx: DiskContext, ref: string, bytes: number): Promise<VmRecord> {
  const rec = ctx.store.get(ref);
  if (isVmActive(rec.state.status))
    throw new FailedPreconditionError(`VM ${rec.name} is ${rec.state.status}: stop it to resize its disk`);
  const p = ctx.paths(rec.id);
  if (!fs.existsSync(p.disk)) throw new FailedPreconditionError(`VM ${rec.name} has no disk`);
  if (bytes <= rec.config.diskBytes)
    throw new InvalidArgumentError(
      `new disk size ${bytes} bytes is not larger than the current ${rec.config.diskBytes}: disks only grow`,
    );
  ctx.db.space.requireRoom(`cannot resize the disk of VM ${rec.name}`);
  const config: VmConfig = { ...rec.config, diskBytes: bytes };
  const ledger = ctx.ledger();
  const res = ledger.get(rec.id);
  // The larger reservation is taken first, in one transaction with the record: refused if the disk is short.
  ctx.db.transaction(() => {
    ledger.release(rec.id);
    ledger.reserve({
      ownerId: rec.id,
      ownerName: rec.name,
      kind: 'vm',
      cpus: rec.config.cpus,
      ...(res ? { cpuList: res.cpus } : {}),
      memoryBytes: rec.config.memoryBytes,
      diskBytes: bytes,
    });
    ctx.store.setConfig(rec.id, config);
  });
  await ctx.qemuImg.resize(p.disk, bytes);
  return { ...rec, config };
}

export async function listSnapshots(ctx: DiskContext, ref: string): Promise<readonly QemuSnapshot[]> {
  const rec = ctx.store.get(ref);
  return (await ctx.qemuImg.info(diskOf(ctx, rec))).snapshots;
}

/** Internal qcow2 snapshots of a stopped VM's disk (a running QEMU holds the image locked). */
export async function snapshotDisk(
  ctx: DiskContext,
  ref: string,
  o: { action: 'create' | 'restore' | 'rm'; name: string },
): Promise<void> {
  const { action, name } = o;
  const rec = ctx.store.get(ref);
  if (isVmActive(rec.state.status))
    throw new FailedPreconditionError(
      `VM ${rec.name} is ${rec.state.status}: stop it to ${action} a snapshot`,
    );
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/.test(name))
    throw new InvalidArgumentError(`invalid snapshot name "${name}": [a-zA-Z0-9_.-], up to 64`);
  const disk = diskOf(ctx, rec);
  const exists = (await ctx.qemuImg.info(disk)).snapshots.some((s) => s.name === name);
  if (action === 'create') {
    if (exists) throw new ConflictError(`VM ${rec.name} already has a snapshot named ${name}`);
    ctx.db.space.requireRoom(`cannot snapshot VM ${rec.name}`);
    await ctx.qemuImg.snapshotCreate(disk, name);
  } else {
    if (!exists) throw new NotFoundError(`VM ${rec.name} has no snapshot named ${name}`);
    if (action === 'restore') await ctx.qemuImg.snapshotApply(disk, name);
    else await ctx.qemuImg.snapshotDelete(disk, name);
  }
  ctx.events?.record('vm', `snapshot-${action}`, rec.id, { name: rec.name, snapshot: name });
}

function diskOf(ctx: Pick<DiskContext, 'paths'>, rec: VmRecord): string {
  const disk = ctx.paths(rec.id).disk;
  if (!fs.existsSync(disk)) throw new FailedPreconditionError(`VM ${rec.name} has no disk`);
  return disk;
}
