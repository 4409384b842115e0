import fs from 'node:fs';
import net from 'node:net';
import {
  ConflictError,
  FailedPreconditionError,
  InvalidArgumentError,
  UnavailableError,
} from '../../core/errors.ts';
import { generateName, newId } from '../../core/ids.ts';
import type { EndpointRecord } from '../../core/network/types.ts';
import type { Layout } from '../../core/paths.ts';
import { defaultHostname, validateVmConfig } from '../../core/vm/config.ts';
import { type VmPaths, vmPaths } from '../../core/vm/paths.ts';
import { MAX_SOCKET_PATH } from '../../core/vm/qemu-plan.ts';
import { isVmActive } from '../../core/vm/state.ts';
import type { VmFacts } from '../../core/vm/views.ts';
import type { QemuImg } from '../../drivers/qemu/qemu-img.ts';
import type { VmRuntime } from '../../drivers/qemu/vm-runtime.ts';
import type { Database } from '../../drivers/store/database.ts';
import type { VmCreateRequest, VmRecord } from '../api/vms.ts';
import type { EventLog } from '../events/service.ts';
import type { Ledger } from '../host/ledger.ts';
import { bootVm } from './boot.ts';
import type { VmContext, VmHost, VmNetworks } from './context.ts';
import { listSnapshots, makeDisk, resizeDisk, snapshotDisk } from './disks.ts';
import type { VmImageService } from './images.ts';
import { killVm, stopVm } from './power.ts';
import { hasDeadQemu, reconcileOne, reconcileTargets } from './reconcile.ts';
import { readSerialLog } from './serial-log.ts';
import { VmStore } from './store.ts';

/**
 * Virtual machines under QEMU. `create` validates the config and, in one transaction, records the VM and reserves
 * its CPUs, memory and disk in the ledger (an over-allocation is refused before anything exists); then makes its
 * disk. `start` (boot.ts) attaches taps, launches QEMU detached and paused through the VmRuntime, pins each vCPU
 * thread to its reserved CPU, and lets it run; power.ts stops and kills; reconcile.ts finds QEMUs that died.
 * QEMU outlives the CLI; every command reconciles records with what runs (`reconcile`).
 */
export class VmService {
  readonly #layout: Layout;
  readonly #ctx: VmContext;
  readonly #images: VmImageService | undefined;
  readonly #onReserved: () => Promise<unknown>;

  constructor(opts: {
    layout: Layout;
    db: Database;
    /** Built on first use: it reads the host. */
    ledger: () => Ledger;
    networks: VmNetworks;
    host: VmHost;
    qemuImg: QemuImg;
    runtime: VmRuntime;
    images?: VmImageService;
    events?: EventLog;
    /** Called once a VM holds CPUs: running containers leave them (containers.confineToSharedCpus). */
    onReserved?: () => Promise<unknown>;
  }) {
    this.#onReserved = opts.onReserved ?? (async () => {});
    this.#layout = opts.layout;
    this.#images = opts.images;
    this.#ctx = {
      db: opts.db,
      store: new VmStore(opts.db),
      ledger: opts.ledger,
      networks: opts.networks,
      runtime: opts.runtime,
      host: opts.host,
      qemuImg: opts.qemuImg,
      events: opts.events,
      paths: (id) => vmPaths(opts.layout, id),
      baseImage: (name) => this.#requireImages().get(name),
    };
  }

  paths(id: string): VmPaths {
    return this.#ctx.paths(id);
  }

  /** Base images for `vm create --image` (`vm image import|ls|rm`). */
  get images(): VmImageService {
    return this.#requireImages();
  }

  list(): VmRecord[] {
    return this.#ctx.store.all();
  }

  get(ref: string): VmRecord {
    return this.#ctx.store.get(ref);
  }

  describeAll(): VmFacts[] {
    return this.list().map((r) => this.facts(r));
  }

  describe(ref: string): VmFacts {
    return this.facts(this.get(ref));
  }

  // ---- serial console ------------------------------------------------------------------------------------------

  serialLog(ref: string, opts: { follow: boolean; signal?: AbortSignal }): AsyncIterable<Uint8Array> {
    const rec = this.get(ref);
    return readSerialLog({
      file: this.paths(rec.id).serialLog,
      follow: opts.follow,
      ...(opts.signal ? { signal: opts.signal } : {}),
      running: () => this.#ctx.store.find(rec.id)?.state.status === 'running',
    });
  }

  /** QEMU's unix-socket chardev of a running VM, connected. */
  async console(ref: string): Promise<net.Socket> {
    const rec = this.requireRunning(ref);
    const sock = net.createConnection(this.paths(rec.id).consoleSocket);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', (err) =>
        reject(
          new UnavailableError(`cannot reach the console of VM ${rec.name}: ${err.message}`, { cause: err }),
        ),
      );
    });
    return sock;
  }

  // ---- create / remove -----------------------------------------------------------------------------------------

  async create(req: VmCreateRequest): Promise<VmRecord> {
    const { db, store } = this.#ctx;
    // Named as containers are when the user gave no name (an adjective and a noun nobody holds).
    const name = req.config.name ?? generateName((n) => store.nameTaken(n));
    db.space.requireRoom(`cannot create VM ${name}`);
    const base =
      req.config.boot.kind === 'image' ? this.#requireImages().get(req.config.boot.image) : undefined;
    const mib = 1024 * 1024;
    // A clone is at least as large as its base; without --disk it is exactly as large.
    const baseBytes = base?.kind === 'disk' ? Math.ceil(base.virtualSize / mib) * mib : 0;
    if (req.config.diskBytes !== 0 && req.config.diskBytes < baseBytes)
      throw new InvalidArgumentError(
        `--disk ${req.config.diskBytes} bytes is smaller than image ${base?.name} (${baseBytes} bytes)`,
      );
    const config = validateVmConfig({
      ...req.config,
      name,
      hostname: req.config.hostname ?? defaultHostname(name),
      diskBytes: req.config.diskBytes || baseBytes,
    });
    const id = newId();
    const p = this.paths(id);
    for (const s of [p.qmpSocket, p.consoleSocket]) {
      if (Buffer.byteLength(s) > MAX_SOCKET_PATH)
        throw new InvalidArgumentError(
          `the run root ${this.#layout.runRoot} is too long for unix sockets (${s} > ${MAX_SOCKET_PATH} bytes)`,
        );
    }
    if (config.boot.kind === 'kernel') {
      for (const f of [config.boot.kernel, config.boot.initrd]) {
        if (f !== undefined && !fs.existsSync(f)) throw new InvalidArgumentError(`no such file: ${f}`);
      }
    }
    for (const n of config.networks) this.#ctx.networks.record(n.network); // NotFound before anything is made
    const rec: VmRecord = {
      id,
      name: config.name,
      createdAt: Date.now(),
      config,
      state: { status: 'created' },
    };
    // The record and its reservation commit together: either the VM exists with its resources, or neither does.
    db.transaction(() => {
      store.insert(rec);
      this.#ctx.ledger().reserve({
        ownerId: id,
        ownerName: config.name,
        kind: 'vm',
        cpus: config.cpus,
        ...(config.cpuPinning !== 'auto' ? { cpuList: [...config.cpuPinning] } : {}),
        memoryBytes: config.memoryBytes,
        diskBytes: config.diskBytes,
      });
    });
    try {
      fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
      await makeDisk(this.#ctx, p.disk, { base, bytes: config.diskBytes });
    } catch (err) {
      await this.#forget(rec);
      throw err;
    }
    try {
      await this.#onReserved();
    } catch (err) {
      // Running containers could not leave the VM's CPUs (none would be left to them): the VM is not admitted.
      await this.#forget(rec);
      throw err;
    }
    this.#ctx.events?.record('vm', 'create', id, { name: config.name });
    return rec;
  }

  /** `vm rm`: refused while running unless forced (then killed first); frees disk, files, and the reservation. */
  async remove(ref: string, opts: { force?: boolean } = {}): Promise<VmRecord> {
    let rec = this.#ctx.store.get(ref);
    if (isVmActive(rec.state.status)) {
      if (!opts.force)
        throw new ConflictError(
          `cannot remove VM ${rec.name}: it is ${rec.state.status} (stop it first or use -f)`,
        );
      rec = await this.kill(rec.id);
    }
    await this.#forget(rec);
    this.#ctx.events?.record('vm', 'destroy', rec.id, { name: rec.name });
    return rec;
  }

  async #forget(rec: VmRecord): Promise<void> {
    await this.#ctx.networks.detachTaps(rec.id);
    const p = this.paths(rec.id);
    fs.rmSync(p.runDir, { recursive: true, force: true });
    fs.rmSync(p.dir, { recursive: true, force: true });
    this.#ctx.db.transaction(() => {
      this.#ctx.ledger().release(rec.id);
      this.#ctx.store.delete(rec.id);
    });
  }

  // ---- power ---------------------------------------------------------------------------------------------------

  start(ref: string): Promise<VmRecord> {
    return bootVm(this.#ctx, ref);
  }

  /**
   * `vm stop`: ACPI power-down through QMP, then a hard stop (QMP `quit`, then SIGKILL) once `timeSeconds` pass.
   * Returns when QEMU is gone and its network and sockets are cleaned up.
   */
  stop(ref: string, opts: { timeSeconds?: number } = {}): Promise<VmRecord> {
    return stopVm(this.#ctx, ref, opts);
  }

  /** `vm kill`: SIGKILL to QEMU (the very process started, checked by its start time). */
  kill(ref: string): Promise<VmRecord> {
    return killVm(this.#ctx, ref);
  }

  async restart(ref: string, opts: { timeSeconds?: number } = {}): Promise<VmRecord> {
    const rec = this.#ctx.store.get(ref);
    if (isVmActive(rec.state.status)) await this.stop(rec.id, opts);
    return this.start(rec.id);
  }

  // ---- reconcile -----------------------------------------------------------------------------------------------

  /**
   * At every engine start: a VM whose QEMU is gone (crashed, killed, the host rebooted) is finalized with its exit
   * reason; a start or stop cut short by a dead CLI is finished. (A reservation never outlives its VM: both are
   * written and deleted in one transaction.)
   */
  async reconcile(): Promise<void> {
    for (const rec of this.reconcileTargets()) await this.reconcileOne(rec.id);
  }

  /** The VMs a reconcile must look at (reconcile.ts): those that may have a QEMU and no live command on them. */
  reconcileTargets(): VmRecord[] {
    return reconcileTargets(this.#ctx);
  }

  /** One VM of `reconcileTargets`. */
  reconcileOne(id: string): Promise<void> {
    return reconcileOne(this.#ctx, id);
  }

  /** For a long-running engine: whether a running VM's QEMU is gone (killed, crashed, powered off by its guest). */
  hasDeadQemu(): boolean {
    return hasDeadQemu(this.#ctx);
  }

  /** For network reconcile: whether this owner is a VM that may hold endpoints right now. */
  holdsNetwork(ownerId: string): boolean {
    const rec = this.#ctx.store.find(ownerId);
    if (!rec || rec.id !== ownerId) return false;
    return isVmActive(rec.state.status);
  }

  // ---- what inspect shows --------------------------------------------------------------------------------------

  /** Everything `vm inspect` / `vm ls` show about a VM. */
  facts(rec: VmRecord): VmFacts {
    const p = this.paths(rec.id);
    const { networks } = this.#ctx;
    return {
      id: rec.id,
      name: rec.name,
      createdAt: rec.createdAt,
      config: rec.config,
      state: rec.state,
      reservation: this.#ctx.ledger().get(rec.id),
      endpoints: networks.endpoints(rec.id).map((e) => {
        const n = networks.record(e.networkId);
        return { ...e, networkName: n.name, gateway: n.gateway };
      }),
      paths: {
        Disk: fs.existsSync(p.disk) ? p.disk : '',
        SerialLog: p.serialLog,
        QemuLog: p.qemuLog,
        QmpSocket: p.qmpSocket,
        ConsoleSocket: p.consoleSocket,
      },
    };
  }

  endpoints(id: string): EndpointRecord[] {
    return this.#ctx.networks.endpoints(id);
  }

  reservation(id: string) {
    return this.#ctx.ledger().get(id);
  }

  /** The running VM's record, or a FailedPrecondition naming its state. */
  requireRunning(ref: string): VmRecord {
    const rec = this.#ctx.store.get(ref);
    if (rec.state.status !== 'running')
      throw new FailedPreconditionError(`VM ${rec.name} is not running (state: ${rec.state.status})`);
    return rec;
  }

  // ---- disks ---------------------------------------------------------------------------------------------------

  /** `vm disk resize NAME SIZE`: grows the disk (never shrinks: the guest's file system would be cut). */
  resizeDisk(ref: string, bytes: number): Promise<VmRecord> {
    return resizeDisk(this.#ctx, ref, bytes);
  }

  snapshots(ref: string) {
    return listSnapshots(this.#ctx, ref);
  }

  /** Internal qcow2 snapshots of a stopped VM's disk (a running QEMU holds the image locked). */
  snapshot(ref: string, action: 'create' | 'restore' | 'rm', name: string): Promise<void> {
    return snapshotDisk(this.#ctx, ref, { action, name });
  }

  #requireImages(): VmImageService {
    if (!this.#images) throw new UnavailableError('VM images are not available in this engine');
    return this.#images;
  }
}
