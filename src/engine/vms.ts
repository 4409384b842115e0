import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  ConflictError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { parseCidr } from '../core/network/ip.ts';
import type { EndpointRecord } from '../core/network/types.ts';
import type { Layout } from '../core/paths.ts';
import { type VmConfig, validateVmConfig } from '../core/vm/config.ts';
import { kernelCmdline, MAX_SOCKET_PATH, qemuArgv } from '../core/vm/qemu-plan.ts';
import { exitReasonOf, isVmActive, requireMove, type VmState } from '../core/vm/state.ts';
import type { VmFacts } from '../core/vm/views.ts';
import { isAlive, pidRuns, signalIfSame, waitGone } from '../drivers/proc/process.ts';
import { lastComplaint, launchQemu, readExitFile } from '../drivers/qemu/launcher.ts';
import { pinVcpus } from '../drivers/qemu/pinning.ts';
import type { QemuImg } from '../drivers/qemu/qemu-img.ts';
import { parseCpusFast, QmpClient } from '../drivers/qemu/qmp-client.ts';
import type { Database } from '../drivers/store/database.ts';
import type { AcceleratorInfo } from './accelerator.ts';
import type { EventLog } from './events/service.ts';
import type { Ledger } from './ledger.ts';
import type { NetworkService } from './networks.ts';
import { writeCloudInitSeed } from './vm-cloud-init.ts';
import type { VmImageService } from './vm-images.ts';
import { readSerialLog } from './vm-serial-log.ts';
import { type VmRecord, VmStore } from './vm-store.ts';

/** The host facts a VM start needs, injected so the service runs against fakes in unit tests. */
export interface VmHost {
  qemuBinary(): string;
  hostTscKhz(): number | undefined;
  accelerator(): Promise<AcceleratorInfo>;
}

/** Where one VM's files are: data under the root, sockets and the exit file under the run root. */
export interface VmPaths {
  readonly dir: string;
  readonly disk: string;
  readonly serialLog: string;
  readonly qemuLog: string;
  readonly seedDir: string;
  readonly runDir: string;
  readonly qmpSocket: string;
  readonly consoleSocket: string;
  readonly pidFile: string;
  readonly exitFile: string;
}

export interface VmCreateRequest {
  config: VmConfig;
}

/**
 * Virtual machines under QEMU. `create` validates the config and, in one transaction, records the VM and reserves
 * its CPUs, memory and disk in the ledger (an over-allocation is refused before anything exists); then makes its
 * disk. `start` attaches taps, launches QEMU detached and paused, pins each vCPU thread to its reserved CPU through
 * QMP, and lets it run. QEMU outlives the CLI; every command reconciles records with what runs (`reconcile`).
 */
export class VmService {
  readonly #layout: Layout;
  readonly #db: Database;
  readonly #store: VmStore;
  readonly #ledger: () => Ledger;
  readonly #networks: NetworkService;
  readonly #events: EventLog | undefined;
  readonly #host: VmHost;
  readonly #qemuImg: QemuImg;
  readonly #images: VmImageService | undefined;
  readonly #onReserved: () => Promise<unknown>;

  constructor(opts: {
    layout: Layout;
    db: Database;
    /** Built on first use: it reads the host. */
    ledger: () => Ledger;
    networks: NetworkService;
    host: VmHost;
    qemuImg: QemuImg;
    images?: VmImageService;
    events?: EventLog;
    /** Called once a VM holds CPUs: running containers leave them (containers.confineToSharedCpus). */
    onReserved?: () => Promise<unknown>;
  }) {
    this.#onReserved = opts.onReserved ?? (async () => {});
    this.#layout = opts.layout;
    this.#db = opts.db;
    this.#store = new VmStore(opts.db);
    this.#ledger = opts.ledger;
    this.#networks = opts.networks;
    this.#host = opts.host;
    this.#qemuImg = opts.qemuImg;
    this.#images = opts.images;
    this.#events = opts.events;
  }

  paths(id: string): VmPaths {
    const dir = path.join(this.#layout.root, 'vms', id);
    // Sockets live under a short directory: sun_path holds 107 bytes, and test roots are long temp paths.
    const runDir = path.join(this.#layout.runRoot, 'vms', id.slice(0, 12));
    return {
      dir,
      disk: path.join(dir, 'disk.qcow2'),
      serialLog: path.join(dir, 'serial.log'),
      qemuLog: path.join(dir, 'qemu.log'),
      seedDir: path.join(dir, 'cloud-init'),
      runDir,
      qmpSocket: path.join(runDir, 'qmp.sock'),
      consoleSocket: path.join(runDir, 'console.sock'),
      pidFile: path.join(runDir, 'qemu.pid'),
      exitFile: path.join(runDir, 'exit'),
    };
  }

  /** Base images for `vm create --image` (`vm image import|ls|rm`). */
  get images(): VmImageService {
    return this.#requireImages();
  }

  list(): VmRecord[] {
    return this.#store.all();
  }

  get(ref: string): VmRecord {
    return this.#store.get(ref);
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
      running: () => this.#store.find(rec.id)?.state.status === 'running',
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
    this.#db.space.requireRoom(`cannot create VM ${req.config.name}`);
    const base =
      req.config.boot.kind === 'image' ? this.#requireImages().get(req.config.boot.image) : undefined;
    const mib = 1024 * 1024;
    // A clone is at least as large as its base; without --disk it is exactly as large.
    const baseBytes = base?.kind === 'disk' ? Math.ceil(base.virtualSize / mib) * mib : 0;
    if (req.config.diskBytes !== 0 && req.config.diskBytes < baseBytes)
      throw new InvalidArgumentError(
        `--disk ${req.config.diskBytes} bytes is smaller than image ${base?.name} (${baseBytes} bytes)`,
      );
    const config = validateVmConfig({ ...req.config, diskBytes: req.config.diskBytes || baseBytes });
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
    for (const n of config.networks) this.#networks.record(n.network); // NotFound before anything is made
    const rec: VmRecord = {
      id,
      name: config.name,
      createdAt: Date.now(),
      config,
      state: { status: 'created' },
    };
    // The record and its reservation commit together: either the VM exists with its resources, or neither does.
    this.#db.transaction(() => {
      this.#store.insert(rec);
      this.#ledger().reserve({
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
      if (base?.kind === 'disk')
        await this.#qemuImg.createClone(p.disk, { path: base.path, format: 'qcow2' }, config.diskBytes);
      else if (config.diskBytes > 0) await this.#qemuImg.create(p.disk, config.diskBytes);
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
    this.#events?.record('vm', 'create', id, { name: config.name });
    return rec;
  }

  /** `vm rm`: refused while running unless forced (then killed first); frees disk, files, and the reservation. */
  async remove(ref: string, opts: { force?: boolean } = {}): Promise<VmRecord> {
    let rec = this.#store.get(ref);
    if (isVmActive(rec.state.status)) {
      if (!opts.force)
        throw new ConflictError(
          `cannot remove VM ${rec.name}: it is ${rec.state.status} (stop it first or use -f)`,
        );
      rec = await this.kill(rec.id);
    }
    await this.#forget(rec);
    this.#events?.record('vm', 'destroy', rec.id, { name: rec.name });
    return rec;
  }

  async #forget(rec: VmRecord): Promise<void> {
    await this.#networks.detachTaps(rec.id);
    const p = this.paths(rec.id);
    fs.rmSync(p.runDir, { recursive: true, force: true });
    fs.rmSync(p.dir, { recursive: true, force: true });
    this.#db.transaction(() => {
      this.#ledger().release(rec.id);
      this.#store.delete(rec.id);
    });
  }

  // ---- start ---------------------------------------------------------------------------------------------------

  async start(ref: string): Promise<VmRecord> {
    const rec = this.#db.transaction(() => {
      const r = this.#store.get(ref);
      requireMove(r.name, r.state.status, 'starting');
      this.#db.space.requireRoom(`cannot start VM ${r.name}`);
      const state: VmState = {
        status: 'starting',
        busyPid: process.pid,
        ...(r.state.diskInitialized ? { diskInitialized: true } : {}),
      };
      this.#store.setState(r.id, state);
      return { ...r, state };
    });
    const p = this.paths(rec.id);
    let launched: Awaited<ReturnType<typeof launchQemu>> | undefined;
    let logStart = 0;
    try {
      const reservation = this.#ledger().get(rec.id);
      if (!reservation)
        throw new FailedPreconditionError(
          `VM ${rec.name} holds no reservation in the ledger: remove and create it`,
        );
      const accel = await this.#host.accelerator();
      const qemu = this.#host.qemuBinary();
      const eps = rec.config.networks.length
        ? await this.#networks.attachTaps({
            ownerId: rec.id,
            ownerName: rec.name,
            hostname: rec.config.hostname,
            networks: rec.config.networks.map((n) => ({ network: n.network, ...(n.ip ? { ip: n.ip } : {}) })),
            publish: [...rec.config.publish],
          })
        : [];
      fs.mkdirSync(p.runDir, { recursive: true, mode: 0o700 });
      fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
      const seed = rec.config.boot.kind === 'image' ? this.#seed(rec, eps) : undefined;
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
                cmdline: this.#cmdline(rec, accel.accel, eps),
              },
            }
          : {}),
        ...(fs.existsSync(p.disk) ? { disk: { path: p.disk, format: 'qcow2' as const } } : {}),
        ...(seed ? { seed } : {}),
        ...(this.#cdrom(rec) ? { cdrom: this.#cdrom(rec)! } : {}),
        nics: eps.map((e) => ({ tap: e.hostIf, mac: e.mac })),
        qmpSocket: p.qmpSocket,
        consoleSocket: p.consoleSocket,
        serialLog: p.serialLog,
        pidFile: p.pidFile,
        paused: true,
      });
      logStart = fileSize(p.qemuLog);
      launched = await launchQemu({
        qemu,
        argv,
        logFile: p.qemuLog,
        exitFile: p.exitFile,
        pidFile: p.pidFile,
        qmpSocket: p.qmpSocket,
      });
      const qmp = await QmpClient.connect(p.qmpSocket);
      let vcpus: { index: number; threadId: number; cpu: number }[];
      try {
        vcpus = await pinVcpus(parseCpusFast(await qmp.execute('query-cpus-fast')), reservation.cpus);
        await qmp.execute('cont');
      } finally {
        qmp.close();
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
      this.#store.setState(rec.id, state);
      this.#events?.record('vm', 'start', rec.id, { name: rec.name });
      return { ...rec, state };
    } catch (caught) {
      let err = caught;
      if (launched) {
        signalIfSame(launched.qemu);
        await waitGone(launched.qemu, 5000);
        await waitGone(launched.waiter, 2000);
        // QEMU that died on its own (a bad kernel, a missing tap) said why in its log, after where this start
        // began writing: that is the error to show (a SIGKILL from us leaves no line).
        const complaint = lastComplaint(p.qemuLog, logStart);
        if (complaint)
          err = new UnavailableError(`QEMU failed to start VM ${rec.name}: ${complaint}`, { cause: caught });
      }
      await this.#networks.detachTaps(rec.id).catch(() => {});
      fs.rmSync(p.runDir, { recursive: true, force: true });
      const reason = `failed to start: ${err instanceof Error ? err.message : String(err)}`;
      const { busyPid: _b, ...kept } = this.#store.get(rec.id).state;
      this.#store.setState(rec.id, {
        ...kept,
        status: 'stopped',
        exitReason: reason,
        finishedAt: Date.now(),
      });
      throw err;
    }
  }

  #cmdline(rec: VmRecord, accel: 'kvm' | 'tcg', eps: EndpointRecord[]): string {
    const first = eps[0];
    const net = first ? this.#networks.record(first.networkId) : undefined;
    const boot = rec.config.boot;
    return kernelCmdline({
      hostname: rec.config.hostname,
      accel,
      machine: rec.config.machine,
      hostTscKhz: this.#host.hostTscKhz(),
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
      formatDisk: fs.existsSync(this.paths(rec.id).disk) && !rec.state.diskInitialized,
      ...(boot.kind === 'kernel' && boot.append ? { append: boot.append } : {}),
    });
  }

  /** An ISO base image is shown as a CD-ROM (the installer or live system) beside the VM's own empty disk. */
  #cdrom(rec: VmRecord): string | undefined {
    if (rec.config.boot.kind !== 'image') return undefined;
    const img = this.#requireImages().get(rec.config.boot.image);
    return img.kind === 'iso' ? img.path : undefined;
  }

  #seed(rec: VmRecord, eps: EndpointRecord[]): string {
    return writeCloudInitSeed(this.paths(rec.id).seedDir, {
      instanceId: rec.id,
      hostname: rec.config.hostname,
      ...(rec.config.cloudInit ? { userData: rec.config.cloudInit } : {}),
      sshKeys: rec.config.sshKeys,
      nics: eps.map((e) => {
        const n = this.#networks.record(e.networkId);
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

  // ---- stop / kill ---------------------------------------------------------------------------------------------

  /**
   * `vm stop`: ACPI power-down through QMP, then a hard stop (QMP `quit`, then SIGKILL) once `timeSeconds` pass.
   * Returns when QEMU is gone and its network and sockets are cleaned up.
   */
  async stop(ref: string, opts: { timeSeconds?: number } = {}): Promise<VmRecord> {
    const rec = this.#markStopping(ref, 'stop');
    if (!rec) return this.#store.get(ref);
    const grace = (opts.timeSeconds ?? 10) * 1000;
    const p = this.paths(rec.id);
    let qmp: QmpClient | undefined;
    try {
      qmp = await QmpClient.connect(p.qmpSocket, { timeoutMs: 2000 });
      await qmp.execute('system_powerdown');
    } catch {
      // No QMP (QEMU hung or gone): the deadline below decides.
    }
    let gone = grace > 0 ? await waitGone(rec.state.qemu, grace) : !isAlive(rec.state.qemu);
    const poweredOff = gone;
    if (!gone && qmp) {
      await qmp.execute('quit').catch(() => {});
      gone = await waitGone(rec.state.qemu, 2000);
    }
    qmp?.close();
    if (!gone) {
      if (rec.state.qemu) signalIfSame(rec.state.qemu);
      await waitGone(rec.state.qemu, 5000);
    }
    return this.#finalize(
      rec,
      poweredOff ? undefined : `the guest did not power off within ${grace / 1000} s`,
    );
  }

  /** `vm kill`: SIGKILL to QEMU (the very process started, checked by its start time). */
  async kill(ref: string): Promise<VmRecord> {
    const rec = this.#markStopping(ref, 'kill');
    if (!rec) return this.#store.get(ref);
    if (rec.state.qemu) signalIfSame(rec.state.qemu);
    await waitGone(rec.state.qemu, 5000);
    return this.#finalize(rec);
  }

  async restart(ref: string, opts: { timeSeconds?: number } = {}): Promise<VmRecord> {
    const rec = this.#store.get(ref);
    if (isVmActive(rec.state.status)) await this.stop(rec.id, opts);
    return this.start(rec.id);
  }

  /** Marks a running VM as stopping (busy by this process); undefined when it is not running (nothing to do). */
  #markStopping(ref: string, requested: 'stop' | 'kill'): VmRecord | undefined {
    return this.#db.transaction(() => {
      const r = this.#store.get(ref);
      if (r.state.status === 'created' || r.state.status === 'stopped') {
        throw new FailedPreconditionError(`VM ${r.name} is not running (state: ${r.state.status})`);
      }
      if (r.state.busyPid && r.state.busyPid !== process.pid && pidRuns(r.state.busyPid)) {
        throw new ConflictError(
          `VM ${r.name} is ${r.state.status} by another command (pid ${r.state.busyPid})`,
        );
      }
      const state: VmState = { ...r.state, status: 'stopping', requested, busyPid: process.pid };
      this.#store.setState(r.id, state);
      return { ...r, state };
    });
  }

  /** QEMU is gone: records why, removes the taps, sockets and exit file, frees the record for the next start. */
  async #finalize(rec: VmRecord, hardStop?: string): Promise<VmRecord> {
    const p = this.paths(rec.id);
    // The waiter writes the exit status a moment after QEMU exits.
    await waitGone(rec.state.waiter, 2000);
    const status = readExitFile(p.exitFile);
    const reason =
      exitReasonOf({
        status,
        requested: rec.state.requested,
        qemuComplaint: status !== undefined && status !== 0 ? lastComplaint(p.qemuLog) : undefined,
      }) + (hardStop ? `, hard stop: ${hardStop}` : '');
    await this.#networks.detachTaps(rec.id);
    fs.rmSync(p.runDir, { recursive: true, force: true });
    const { busyPid: _b, requested: _r, qemu: _q, waiter: _w, ...kept } = rec.state;
    const state: VmState = {
      ...kept,
      status: 'stopped',
      finishedAt: Date.now(),
      exitReason: reason,
      ...(status !== undefined ? { exitStatus: status } : {}),
    };
    this.#store.setState(rec.id, state);
    this.#events?.record('vm', 'die', rec.id, { name: rec.name, reason });
    return { ...rec, state };
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

  /**
   * The VMs a reconcile must look at: those that may have a QEMU. Busy in a live process, this one included, they
   * are left to it: in the daemon, another request of ours is starting or stopping it right now (a CLI reconciles
   * before it marks anything busy, so its own pid is never found here).
   */
  reconcileTargets(): VmRecord[] {
    return this.#store
      .all()
      .filter(
        (r) => isVmActive(r.state.status) && !(r.state.busyPid !== undefined && pidRuns(r.state.busyPid)),
      );
  }

  /** One VM of `reconcileTargets`. */
  async reconcileOne(id: string): Promise<void> {
    const rec = this.#store.find(id);
    if (!rec || !isVmActive(rec.state.status)) return;
    if (rec.state.busyPid !== undefined && pidRuns(rec.state.busyPid)) return;
    if (rec.state.status === 'starting' || rec.state.status === 'stopping') {
      // The command working on it died: whatever QEMU it left is killed, the VM recorded as stopped.
      if (rec.state.qemu) signalIfSame(rec.state.qemu);
      await this.#finalize(rec);
      return;
    }
    if (!isAlive(rec.state.qemu)) await this.#finalize(rec);
  }

  /** For a long-running engine: whether a running VM's QEMU is gone (killed, crashed, powered off by its guest). */
  hasDeadQemu(): boolean {
    return this.#store
      .all()
      .some((r) => r.state.status === 'running' && r.state.busyPid === undefined && !isAlive(r.state.qemu));
  }

  /** For network reconcile: whether this owner is a VM that may hold endpoints right now. */
  holdsNetwork(ownerId: string): boolean {
    const rec = this.#store.find(ownerId);
    if (!rec || rec.id !== ownerId) return false;
    return isVmActive(rec.state.status);
  }

  /** Everything `vm inspect` / `vm ls` show about a VM. */
  facts(rec: VmRecord): VmFacts {
    const p = this.paths(rec.id);
    return {
      id: rec.id,
      name: rec.name,
      createdAt: rec.createdAt,
      config: rec.config,
      state: rec.state,
      reservation: this.#ledger().get(rec.id),
      endpoints: this.#networks.endpoints(rec.id).map((e) => {
        const n = this.#networks.record(e.networkId);
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
    return this.#networks.endpoints(id);
  }

  reservation(id: string) {
    return this.#ledger().get(id);
  }

  /** The running VM's record, or a FailedPrecondition naming its state. */
  requireRunning(ref: string): VmRecord {
    const rec = this.#store.get(ref);
    if (rec.state.status !== 'running')
      throw new FailedPreconditionError(`VM ${rec.name} is not running (state: ${rec.state.status})`);
    return rec;
  }

  // ---- disks ---------------------------------------------------------------------------------------------------

  /** `vm disk resize NAME SIZE`: grows the disk (never shrinks: the guest's file system would be cut). */
  async resizeDisk(ref: string, bytes: number): Promise<VmRecord> {
    const rec = this.#store.get(ref);
    if (isVmActive(rec.state.status))
      throw new FailedPreconditionError(`VM ${rec.name} is ${rec.state.status}: stop it to resize its disk`);
    const p = this.paths(rec.id);
    if (!fs.existsSync(p.disk)) throw new FailedPreconditionError(`VM ${rec.name} has no disk`);
    if (bytes <= rec.config.diskBytes)
      throw new InvalidArgumentError(
        `new disk size ${bytes} bytes is not larger than the current ${rec.config.diskBytes}: disks only grow`,
      );
    this.#db.space.requireRoom(`cannot resize the disk of VM ${rec.name}`);
    const config: VmConfig = { ...rec.config, diskBytes: bytes };
    const res = this.#ledger().get(rec.id);
    // The larger reservation is taken first, in one transaction with the record: refused if the disk is short.
    this.#db.transaction(() => {
      this.#ledger().release(rec.id);
      this.#ledger().reserve({
        ownerId: rec.id,
        ownerName: rec.name,
        kind: 'vm',
        cpus: rec.config.cpus,
        ...(res ? { cpuList: res.cpus } : {}),
        memoryBytes: rec.config.memoryBytes,
        diskBytes: bytes,
      });
      this.#store.setConfig(rec.id, config);
    });
    await this.#qemuImg.resize(p.disk, bytes);
    return { ...rec, config };
  }

  async snapshots(ref: string) {
    const rec = this.#store.get(ref);
    return (await this.#qemuImg.info(this.#diskOf(rec))).snapshots;
  }

  /** Internal qcow2 snapshots of a stopped VM's disk (a running QEMU holds the image locked). */
  async snapshot(ref: string, action: 'create' | 'restore' | 'rm', name: string): Promise<void> {
    const rec = this.#store.get(ref);
    if (isVmActive(rec.state.status))
      throw new FailedPreconditionError(
        `VM ${rec.name} is ${rec.state.status}: stop it to ${action} a snapshot`,
      );
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/.test(name))
      throw new InvalidArgumentError(`invalid snapshot name "${name}": [a-zA-Z0-9_.-], up to 64`);
    const disk = this.#diskOf(rec);
    const exists = (await this.#qemuImg.info(disk)).snapshots.some((s) => s.name === name);
    if (action === 'create') {
      if (exists) throw new ConflictError(`VM ${rec.name} already has a snapshot named ${name}`);
      this.#db.space.requireRoom(`cannot snapshot VM ${rec.name}`);
      await this.#qemuImg.snapshotCreate(disk, name);
    } else {
      if (!exists) throw new NotFoundError(`VM ${rec.name} has no snapshot named ${name}`);
      if (action === 'restore') await this.#qemuImg.snapshotApply(disk, name);
      else await this.#qemuImg.snapshotDelete(disk, name);
    }
    this.#events?.record('vm', `snapshot-${action}`, rec.id, { name: rec.name, snapshot: name });
  }

  #diskOf(rec: VmRecord): string {
    const disk = this.paths(rec.id).disk;
    if (!fs.existsSync(disk)) throw new FailedPreconditionError(`VM ${rec.name} has no disk`);
    return disk;
  }

  #requireImages(): VmImageService {
    if (!this.#images) throw new UnavailableError('VM images are not available in this engine');
    return this.#images;
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
