import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ContainerConfig } from '../../core/container/config.ts';
import { minimalConfig } from '../../core/container/config-example.ts';
import { CommandNotFoundError } from '../../core/errors.ts';
import { hostPlatform } from '../../core/image/platform.ts';
import { layoutFor } from '../../core/paths.ts';
import { identify } from '../../drivers/proc/process.ts';
import { FakeOciRuntime } from '../../drivers/runtime/testing/fake-oci-runtime.ts';
import { Database } from '../../drivers/store/database.ts';
import { EventLog } from '../events/service.ts';
import type { ImageService } from '../images/service.ts';
import type { NetworkService } from '../networks/service.ts';
import type { VolumeService } from '../volumes/service.ts';
import { ContainerService } from './service.ts';

const IMAGE_ID = `sha256:${'1'.repeat(64)}`;

/** The request of `run busybox CMD`, with no network and a log file (no log writer process). */
function config(overrides: Partial<ContainerConfig> = {}): Omit<ContainerConfig, 'imageId'> {
  return {
    ...minimalConfig(),
    cmd: ['sleep', '60'],
    logConfig: { type: 'k8s-file', config: {} },
    ...overrides,
  };
}

/** A dead process's pid (a busy mark or monitor left by a process that was killed). */
function deadPid(): number {
  return spawnSync('true').pid!;
}

describe('ContainerService against fakes', () => {
  // A fresh root (store, events, runtime) per test: each sees only its own containers.
  let root = '';
  let layout = layoutFor('/nonexistent');
  let db: Database;
  let events: EventLog;
  let runtime: FakeOciRuntime;
  let svc: ContainerService;
  let gcCalls = 0;
  const images = {
    resolve: async () => ({ id: IMAGE_ID, ref: 'busybox', platform: hostPlatform(), config: {} }),
    lowerDirs: async () => [path.join(root, 'layer')],
    gc: async () => {
      gcCalls += 1;
      return { deleted: [], spaceReclaimed: 0 };
    },
  } as unknown as ImageService;
  const volumes = { list: () => [], ensure: () => '', remove: () => {} } as unknown as VolumeService;
  const networks = {} as unknown as NetworkService;
  const deps = () => ({
    layout,
    db,
    events,
    images,
    volumes,
    networks,
    runtime,
    selfCommand: ['hyperbox'],
    logWriter: '/nonexistent',
    logDefaults: () => ({ type: 'k8s-file' as const, config: {} }),
    // No root here: the "overlay" is a directory.
    mountRootfs: async (plan: { target: string }) => {
      fs.mkdirSync(plan.target, { recursive: true });
    },
  });
  const service = () => new ContainerService(deps());
  const actions = (id: string) =>
    events
      .list({ type: ['container'] })
      .events.filter((e) => e.actorId === id)
      .map((e) => e.action);

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-ctr-'));
    layout = layoutFor(root);
    db = new Database(layout.db);
    events = new EventLog(db);
    runtime = new FakeOciRuntime({ stateDir: layout.runcRoot });
    svc = service();
    gcCalls = 0;
  });
  afterEach(() => {
    db.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  describe('create, rename, remove', () => {
    it('creates a record with a generated name, in created state, with a create event', async () => {
      const { id, warnings } = await svc.create({ config: config() });
      const rec = svc.get(id);
      assert.equal(rec.state.status, 'created');
      assert.match(rec.name, /^[a-z]+_[a-z]+$/);
      assert.equal(rec.imageId, IMAGE_ID);
      assert.deepEqual(warnings, []);
      assert.deepEqual(actions(id), ['create']);
    });

    it('refuses a name in use, at create and at rename', async () => {
      await svc.create({ name: 'first', config: config() });
      const { id } = await svc.create({ name: 'second', config: config() });
      await assert.rejects(svc.create({ name: 'first', config: config() }), /"\/first" is already in use/);
      assert.throws(() => svc.rename(id, 'first'), /the container name "\/first" is already in use/);
      svc.rename(id, 'third');
      assert.equal(svc.get('third').id, id);
      assert.deepEqual(actions(id), ['create', 'rename']);
    });

    it('removes a running container only by force, tearing its run down', async () => {
      const { id } = await svc.create({ config: config() });
      await svc.start(id, { detached: true });
      await assert.rejects(svc.remove(id), /container is running.*force remove/);
      await svc.remove(id, { force: true });
      assert.equal(svc.store.find(id), undefined);
      assert.equal(await runtime.state(id), undefined, 'the runtime forgot it');
      assert.equal(fs.existsSync(svc.paths(id).dir), false);
      assert.equal(actions(id).at(-1), 'destroy');
      await assert.rejects(svc.remove(id), /No such container/);
    });

    it('prunes only containers that do not run', async () => {
      const stopped = (await svc.create({ config: config() })).id;
      const running = (await svc.create({ config: config() })).id;
      await svc.start(running, { detached: true });
      assert.deepEqual(await svc.prune(), [stopped]);
      assert.equal(svc.get(running).state.status, 'running');
      await svc.remove(running, { force: true });
    });
  });

  describe('start and stop', () => {
    it('starts through the runtime and records the run; starting it again changes nothing', async () => {
      const { id } = await svc.create({ config: config() });
      const { record } = await svc.start(id, { detached: false });
      assert.equal(record.state.status, 'running');
      assert.ok(record.state.pid > 0);
      assert.equal(record.state.busyPid, undefined);
      assert.deepEqual(
        runtime.calls.filter((c) => c.startsWith('create') || c.startsWith('start')),
        [`create ${id}`, `start ${id}`],
      );
      await svc.start(id, { detached: false });
      assert.equal(runtime.calls.filter((c) => c.startsWith('start')).length, 1);
      assert.ok(fs.existsSync(path.join(svc.paths(id).bundle, 'config.json')), 'the spec was written');
      await svc.remove(id, { force: true });
    });

    it('records why a start failed (127 for a missing command), and removes an --rm container', async () => {
      const kept = (await svc.create({ config: config() })).id;
      runtime.failNextCreate = new CommandNotFoundError('exec: "nosuch": executable file not found');
      await assert.rejects(svc.start(kept, { detached: true }), /executable file not found/);
      const rec = svc.get(kept);
      assert.equal(rec.state.status, 'created');
      assert.equal(rec.state.exitCode, 127);
      assert.match(rec.state.error ?? '', /executable file not found/);
      assert.equal(rec.state.busyPid, undefined);
      const rm = (await svc.create({ config: config({ autoRemove: true }) })).id;
      runtime.failNextCreate = new CommandNotFoundError('exec: "nosuch": executable file not found');
      await assert.rejects(svc.start(rm, { detached: true }), /executable file not found/);
      assert.equal(svc.store.find(rm), undefined, 'the --rm container went with its failed start');
    });

    it('stops with the stop signal and records the exit, stopped by the user', async () => {
      const { id } = await svc.create({ config: config() });
      await svc.start(id, { detached: false });
      assert.equal(await svc.stop(id), true);
      const rec = svc.get(id);
      assert.equal(rec.state.status, 'exited');
      assert.equal(rec.state.exitCode, 143);
      assert.equal(rec.state.stoppedByUser, true);
      assert.ok(runtime.calls.includes(`kill ${id} SIGTERM`));
      assert.deepEqual(actions(id).slice(-2), ['die', 'stop']);
      assert.equal(await svc.stop(id), false, 'stopping it again: it was not running');
    });

    it('pauses and unpauses, refuses to start a paused one, and kill ends it with 137', async () => {
      const { id } = await svc.create({ config: config() });
      await svc.start(id, { detached: false });
      await svc.pause(id);
      assert.equal(svc.get(id).state.status, 'paused');
      await assert.rejects(svc.start(id, { detached: true }), /paused container .* try unpause/);
      await svc.unpause(id);
      await svc.kill(id, 'SIGKILL');
      assert.equal(await svc.wait(id), 137);
      assert.equal(svc.get(id).state.status, 'exited');
    });
  });

  describe('exits', () => {
    it('records one exit once when two finalizers race: one die event, one teardown', async () => {
      const { id } = await svc.create({ config: config() });
      await svc.start(id, { detached: false });
      runtime.exitNow(id, 3);
      const exit = { exitCode: 3, finishedAt: Date.now(), oomKilled: false };
      const other = service();
      await Promise.all([svc.finalize(id, exit), other.finalize(id, exit)]);
      assert.equal(svc.get(id).state.status, 'exited');
      assert.equal(svc.get(id).state.exitCode, 3);
      assert.equal(actions(id).filter((a) => a === 'die').length, 1);
      assert.equal(runtime.calls.filter((c) => c === `delete ${id} force`).length, 1, 'one teardown');
    });

    it('removes an --rm container when its process exits, and wait reports its status', async () => {
      const { id } = await svc.create({ name: 'brief', config: config({ autoRemove: true }) });
      runtime.processes.set('brief', { exitAtStart: 4 });
      await svc.start(id, { detached: false });
      assert.equal(await svc.wait(id, 'removed'), 4);
      assert.equal(svc.store.find(id), undefined);
      assert.equal(svc.exitCodeOfRemoved(id), 4);
      assert.equal(gcCalls, 1, 'a removal lets the image store reclaim hidden images');
    });

    it('restarts an on-failure container after a failure, counting it, and not after success', async () => {
      const policy = { name: 'on-failure', maximumRetryCount: 2 } as const;
      const { id } = await svc.create({ name: 'flaky', config: config({ restart: policy }) });
      runtime.processes.set('flaky', { exitAtStart: 1 });
      await svc.start(id, { detached: false });
      runtime.processes.set('flaky', {});
      await svc.finalize(id, (await runtime.readExit({ id, exitDir: layout.exits, bundle: '' }))!);
      const rec = svc.get(id);
      assert.equal(rec.state.status, 'running', 'started again');
      assert.equal(rec.state.restartCount, 1);
      assert.ok(actions(id).includes('restart'));
      await svc.stop(id);
      assert.equal(svc.get(id).state.status, 'exited', 'stopped by the user: no restart');
      const ok = (await svc.create({ name: 'done', config: config({ restart: policy }) })).id;
      runtime.processes.set('done', { exitAtStart: 0 });
      await svc.start(ok, { detached: false });
      assert.equal(await svc.wait(ok), 0);
      assert.equal(svc.get(ok).state.status, 'exited');
      assert.equal(actions(ok).includes('restart'), false);
    });

    it('waits for the next run with next-exit, and returns at once for a stopped one with not-running', async () => {
      const { id } = await svc.create({ name: 'later', config: config() });
      assert.equal(await svc.wait(id, 'not-running'), 0);
      runtime.processes.set('later', { exitAtStart: 7 });
      const waited = svc.wait(id, 'next-exit');
      await svc.start(id, { detached: true });
      assert.equal(await waited, 7);
    });
  });

  describe("the monitor's exit command and CPUs", () => {
    it('onExit leaves an exit to a live process that is on it, and records it otherwise', async () => {
      const { id } = await svc.create({ config: config() });
      await svc.start(id, { detached: true });
      runtime.exitNow(id, 5);
      // Another live process (here: our parent) marked it busy, by its pid and start time.
      const parent = identify(process.ppid)!;
      svc.store.updateState(id, (r) => ({ ...r.state, busyPid: parent.pid, busyStart: parent.startTime }));
      await svc.onExit(id);
      assert.equal(svc.get(id).state.status, 'running', 'left to the busy process');
      svc.store.updateState(id, (r) => ({ ...r.state, busyPid: undefined, busyStart: undefined }));
      await svc.onExit(id);
      assert.equal(svc.get(id).state.status, 'exited');
      assert.equal(svc.get(id).state.exitCode, 5);
    });

    it('moves running containers without a cpuset of their own onto the shared CPUs', async () => {
      svc = new ContainerService({
        ...deps(),
        cpuPool: { containerCpus: () => [0, 1], checkCpuset: () => {} },
      });
      const free = (await svc.create({ config: config() })).id;
      const pinned = (await svc.create({ config: config({ resources: { cpusetCpus: '0' } }) })).id;
      const idle = (await svc.create({ config: config() })).id;
      await svc.start(free, { detached: true });
      await svc.start(pinned, { detached: true });
      assert.deepEqual(await svc.confineToSharedCpus(), [free]);
      assert.ok(
        runtime.calls.some((c) => c.startsWith(`update ${free} 0`)),
        runtime.calls.join('; '),
      );
      assert.equal(
        runtime.calls.some((c) => c.startsWith(`update ${idle}`)),
        false,
      );
    });
  });

  describe('reconcile', () => {
    it('stops and records a container whose monitor died (exit 255, says so)', async () => {
      const { id } = await svc.create({ config: config() });
      await svc.start(id, { detached: false });
      svc.store.updateState(id, (r) => ({ ...r.state, monitorPid: deadPid() }));
      assert.equal(svc.hasDeadMonitor(), true);
      await svc.reconcile();
      const rec = svc.get(id);
      assert.equal(rec.state.status, 'exited');
      assert.equal(rec.state.exitCode, 255);
      assert.equal(rec.state.error, 'the container monitor died');
      assert.ok(runtime.calls.includes(`kill ${id} SIGKILL all`));
      assert.equal(svc.hasDeadMonitor(), false);
    });

    it('records an exit nobody recorded (the exit file is there) and leaves healthy containers alone', async () => {
      const { id } = await svc.create({ config: config() });
      const healthy = (await svc.create({ config: config() })).id;
      await svc.start(id, { detached: true });
      await svc.start(healthy, { detached: true });
      runtime.exitNow(id, 9);
      assert.deepEqual(
        svc
          .reconcileTargets()
          .map((r) => r.id)
          .sort(),
        [id, healthy].sort(),
      );
      await svc.reconcile();
      assert.equal(svc.get(id).state.status, 'exited');
      assert.equal(svc.get(id).state.exitCode, 9);
      assert.equal(svc.get(healthy).state.status, 'running');
      await svc.remove(healthy, { force: true });
    });

    it('clears a start cut short by a dead process, and removes it when it was --rm', async () => {
      const { id } = await svc.create({ config: config() });
      const rm = (await svc.create({ config: config({ autoRemove: true }) })).id;
      for (const x of [id, rm]) svc.store.updateState(x, (r) => ({ ...r.state, busyPid: deadPid() }));
      await svc.reconcile();
      const rec = svc.get(id);
      assert.equal(rec.state.busyPid, undefined);
      assert.match(rec.state.error ?? '', /the start was cut short: process \d+ died/);
      assert.equal(svc.store.find(rm), undefined);
      assert.equal(svc.holdsNetwork(id), false);
    });
  });
});
