import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { NotFoundError, UnavailableError } from '../../core/errors.ts';
import { syntheticHost } from '../../core/ledger/synthetic-host.ts';
import { DEFAULT_POLICY } from '../../core/ledger/types.ts';
import { layoutFor } from '../../core/paths.ts';
import type { QemuImg } from '../../drivers/qemu/qemu-img.ts';
import { FakeVmRuntime } from '../../drivers/qemu/testing/fake-vm-runtime.ts';
import { Database } from '../../drivers/store/database.ts';
import type { VmCreateConfig } from '../api/vms.ts';
import { Ledger } from '../host/ledger.ts';
import type { VmNetworks } from './context.ts';
import { VmService } from './service.ts';
import { VmStore } from './store.ts';

const G = 1024 ** 3;
/** A pid no process has (above the kernel's largest pid_max). */
const DEAD_PID = 2 ** 22 + 1;

/** VMs without networks: the service never asks for a tap. */
const noNetworks: VmNetworks = {
  record: (ref) => {
    throw new NotFoundError(`no such network: ${ref}`);
  },
  attachTaps: async () => [],
  detachTaps: async () => {},
  endpoints: () => [],
};

describe('VmService against the fake VmRuntime', () => {
  let dir: string;
  let db: Database;
  let ledger: Ledger;
  let runtime: FakeVmRuntime;
  let vms: VmService;
  let kernel: string;
  let admit: () => Promise<unknown>;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-vms-'));
    const layout = layoutFor(dir);
    db = new Database(layout.db);
    // Two CPUs, one kept for the host: room for exactly one single-CPU VM.
    ledger = new Ledger({
      db,
      host: syntheticHost({ cores: 2, threads: 1, memoryBytes: 8 * G, diskBytes: 100 * G }),
      policy: DEFAULT_POLICY,
    });
    runtime = new FakeVmRuntime();
    kernel = path.join(dir, 'vmlinuz');
    fs.writeFileSync(kernel, 'not a real kernel: the fake runtime never reads it');
    admit = async () => {};
    vms = new VmService({
      layout,
      db,
      ledger: () => ledger,
      networks: noNetworks,
      host: {
        qemuBinary: () => 'qemu-system-x86_64',
        hostTscKhz: () => undefined,
        accelerator: async () => ({
          accel: 'tcg',
          kvmUsable: false,
          reason: 'no /dev/kvm',
          probedAt: new Date(0).toISOString(),
        }),
      },
      qemuImg: {} as QemuImg,
      runtime,
      onReserved: () => admit(),
    });
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const config = (change: Partial<VmCreateConfig> = {}): VmCreateConfig => ({
    cpus: 1,
    memoryBytes: 64 * 1024 * 1024,
    diskBytes: 0,
    memoryPrealloc: false,
    cpuPinning: 'auto',
    boot: { kind: 'kernel', kernel },
    machine: 'microvm',
    networks: [],
    publish: [],
    sshKeys: [],
    ...change,
  });
  const running = async (name = 'vm1') => vms.start((await vms.create({ config: config({ name }) })).id);
  const status = (ref: string) => vms.get(ref).state;

  describe('create', () => {
    it('names a VM created without a name, as containers are named, with a hostname from it', async () => {
      const rec = await vms.create({ config: config() });
      assert.match(rec.name, /^[a-z]+_[a-z]+\d*$/);
      assert.equal(rec.config.hostname, rec.name.replace(/_/g, '-'));
      assert.equal(vms.get(rec.name).id, rec.id);
    });

    it('keeps the name and hostname asked for', async () => {
      const rec = await vms.create({ config: config({ name: 'web.1', hostname: 'frontend' }) });
      assert.equal(rec.name, 'web.1');
      assert.equal(rec.config.hostname, 'frontend');
    });

    it('refuses a VM the ledger has no dedicated CPU left for, leaving no record', async () => {
      await vms.create({ config: config({ name: 'first' }) });
      await assert.rejects(vms.create({ config: config({ name: 'second' }) }), {
        code: 'ResourceExhausted',
        message: /needs 1 CPU, 0 free/,
      });
      assert.deepEqual(
        vms.list().map((v) => v.name),
        ['first'],
      );
      assert.equal(ledger.list().length, 1);
    });

    it('refuses a name in use, and the refused VM holds nothing', async () => {
      await vms.create({ config: config({ name: 'twin' }) });
      ledger.release(vms.get('twin').id);
      await assert.rejects(vms.create({ config: config({ name: 'twin' }) }), { code: 'Conflict' });
      assert.equal(ledger.list().length, 0);
    });

    it('frees the reservation when the running containers cannot leave its CPUs (not admitted)', async () => {
      admit = async () => {
        throw new UnavailableError('no CPU would be left for containers');
      };
      await assert.rejects(vms.create({ config: config({ name: 'greedy' }) }), /no CPU would be left/);
      assert.deepEqual(vms.list(), []);
      assert.deepEqual(ledger.list(), []);
    });
  });

  describe('start', () => {
    it('launches QEMU paused, pins each vCPU to its reserved CPU, then lets it run', async () => {
      const rec = await running();
      assert.equal(rec.state.status, 'running');
      const [m] = runtime.machines;
      assert.ok(m && !m.gone && !m.paused, 'one QEMU, resumed');
      assert.ok(m.request.argv.includes('-S'), 'launched paused');
      assert.deepEqual(rec.state.qemu, m.qemu);
      const cpus = ledger.get(rec.id)!.cpus;
      assert.deepEqual(
        rec.state.vcpus?.map((v) => v.cpu),
        cpus,
      );
      assert.deepEqual(m.pinned, rec.state.vcpus);
      assert.equal(rec.state.accel, 'tcg');
      assert.equal(status(rec.id).busyPid, undefined);
    });

    it("records why a start failed (QEMU's complaint) and leaves nothing running", async () => {
      const rec = await vms.create({ config: config({ name: 'broken' }) });
      runtime.failNextLaunch = 'could not load kernel';
      await assert.rejects(vms.start(rec.id), /QEMU failed to start: could not load kernel/);
      const state = status(rec.id);
      assert.equal(state.status, 'stopped');
      assert.match(state.exitReason ?? '', /^failed to start: QEMU failed to start: could not load kernel/);
      assert.equal(state.busyPid, undefined);
      assert.deepEqual(runtime.running(), []);
    });

    it('names what QEMU said when it died after the launch, and kills nothing else', async () => {
      const rec = await vms.create({ config: config({ name: 'dies' }) });
      const control = runtime.control.bind(runtime);
      runtime.control = async (socket) => {
        const m = runtime.running().at(-1)!;
        runtime.exit(m.qemu, 1, 'could not open tap hbxt0: No such device');
        return control(socket);
      };
      await assert.rejects(vms.start(rec.id), {
        code: 'Unavailable',
        message: 'QEMU failed to start VM dies: could not open tap hbxt0: No such device',
      });
      assert.equal(status(rec.id).status, 'stopped');
      assert.deepEqual(runtime.running(), []);
    });

    it('refuses to start a running VM', async () => {
      const rec = await running();
      await assert.rejects(vms.start(rec.id), { code: 'FailedPrecondition' });
      assert.equal(runtime.running().length, 1);
    });
  });

  describe('stop, kill, restart', () => {
    it('stop presses the ACPI button: the guest powers off, QEMU is gone and the reason recorded', async () => {
      const rec = await running();
      const stopped = await vms.stop(rec.id);
      assert.equal(stopped.state.status, 'stopped');
      assert.equal(stopped.state.exitReason, 'stopped by vm stop');
      assert.equal(stopped.state.exitStatus, 0);
      assert.equal(stopped.state.qemu, undefined);
      assert.deepEqual(runtime.running(), []);
    });

    it('stop of a guest that ignores the button ends QEMU once the time is up, and says so', async () => {
      runtime.guestsObeyPowerDown = false;
      const rec = await running();
      const stopped = await vms.stop(rec.id, { timeSeconds: 0 });
      assert.equal(
        stopped.state.exitReason,
        'stopped by vm stop, hard stop: the guest did not power off within 0 s',
      );
      assert.deepEqual(runtime.running(), []);
    });

    it('kill ends the very QEMU it started', async () => {
      const rec = await running();
      const killed = await vms.kill(rec.id);
      assert.equal(killed.state.exitReason, 'killed by vm kill');
      assert.equal(killed.state.exitStatus, 137);
      assert.deepEqual(runtime.running(), []);
    });

    it('stop and kill of a VM that is not running are refused with its state', async () => {
      const rec = await vms.create({ config: config({ name: 'idle' }) });
      await assert.rejects(vms.stop(rec.id), { message: 'VM idle is not running (state: created)' });
      await assert.rejects(vms.kill(rec.id), { code: 'FailedPrecondition' });
    });

    it('restart stops the running QEMU and starts a new one on the same CPUs', async () => {
      const rec = await running();
      const again = await vms.restart(rec.id);
      assert.equal(again.state.status, 'running');
      assert.equal(runtime.machines.length, 2);
      assert.ok(runtime.machines[0]!.gone);
      assert.notEqual(again.state.qemu?.pid, rec.state.qemu?.pid);
      assert.deepEqual(again.state.vcpus, runtime.machines[1]!.pinned);
    });

    it('rm refuses a running VM; rm -f kills it and gives back its reservation', async () => {
      const rec = await running();
      await assert.rejects(vms.remove(rec.id), { code: 'Conflict' });
      await vms.remove(rec.id, { force: true });
      assert.deepEqual(runtime.running(), []);
      assert.deepEqual(vms.list(), []);
      assert.equal(ledger.get(rec.id), undefined);
    });
  });

  describe('reconcile', () => {
    it('finalizes a VM whose guest powered off on its own', async () => {
      const rec = await running();
      runtime.exit(rec.state.qemu!, 0);
      assert.equal(vms.hasDeadQemu(), true);
      await vms.reconcile();
      assert.equal(status(rec.id).status, 'stopped');
      assert.equal(status(rec.id).exitReason, 'the guest powered off');
      assert.equal(vms.hasDeadQemu(), false);
    });

    it('names the signal that killed QEMU, and a QEMU that vanished without a status', async () => {
      const a = await running('a');
      runtime.exit(a.state.qemu!, 128 + 11);
      await vms.reconcile();
      assert.equal(status(a.id).exitReason, 'QEMU was killed by SIGSEGV');
      const b = await vms.start(a.id);
      runtime.vanish(b.state.qemu!);
      await vms.reconcile();
      assert.match(status(a.id).exitReason ?? '', /^QEMU vanished and no exit status was recorded/);
    });

    it('finishes a start cut short by a command that died: its QEMU is killed, the VM stopped', async () => {
      const rec = await running();
      new VmStore(db).setState(rec.id, { ...rec.state, status: 'starting', busyPid: DEAD_PID });
      assert.deepEqual(
        vms.reconcileTargets().map((r) => r.id),
        [rec.id],
      );
      await vms.reconcile();
      assert.equal(status(rec.id).status, 'stopped');
      assert.deepEqual(runtime.running(), []);
    });

    it('leaves alone a VM a live command is working on, and a VM whose QEMU runs', async () => {
      const a = await running();
      new VmStore(db).setState(a.id, { ...a.state, status: 'stopping', busyPid: process.pid });
      assert.deepEqual(vms.reconcileTargets(), []);
      await vms.reconcile();
      assert.equal(status(a.id).status, 'stopping');
      new VmStore(db).setState(a.id, a.state);
      await vms.reconcile();
      assert.equal(status(a.id).status, 'running');
      assert.equal(runtime.running().length, 1);
    });
  });
});
