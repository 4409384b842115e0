import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { Launched, LaunchRequest, VmRuntime } from '../vm-runtime.ts';

/** What a VmRuntime implementation brings to the shared suite. */
export interface VmRuntimeFixture {
  readonly runtime: VmRuntime;
  /** A launch of a small machine (one vCPU, paused: `-S`) whose files live under `dir`. */
  request(dir: string): LaunchRequest;
  /** A CPU this process may pin a thread to. */
  readonly cpu: number;
}

/** The same request with another `-machine` type. */
function withMachine(req: LaunchRequest, machine: string): LaunchRequest {
  const at = req.argv.indexOf('-machine');
  return { ...req, argv: req.argv.map((a, i) => (i === at + 1 ? machine : a)) };
}

/**
 * The contract every VmRuntime keeps, run by the fake (a unit test) and by QEMU (test/vm-runtime.test.ts, root):
 * launch paused, QMP, pinning, the identities and what an ended machine says about itself.
 */
export function vmRuntimeSuite(
  name: string,
  fixture: () => VmRuntimeFixture,
  opts: { skip?: string } = {},
): void {
  describe(`VmRuntime: ${name}`, { ...(opts.skip ? { skip: opts.skip } : {}) }, () => {
    const started: { runtime: VmRuntime; launched: Launched; dir: string }[] = [];
    const launch = async (f: VmRuntimeFixture) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-vmrt-'));
      const req = f.request(dir);
      try {
        const launched = await f.runtime.launch(req);
        started.push({ runtime: f.runtime, launched, dir });
        return { launched, req };
      } catch (err) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    };

    afterEach(async () => {
      for (const s of started.splice(0)) {
        s.runtime.kill(s.launched.qemu);
        await s.runtime.waitExit(s.launched.qemu, 5000);
        await s.runtime.waitExit(s.launched.waiter, 2000);
        fs.rmSync(s.dir, { recursive: true, force: true });
      }
    });

    it('launches a paused machine that answers QMP, pins its vCPU, runs and quits with status 0', async () => {
      const f = fixture();
      const { launched, req } = await launch(f);
      assert.ok(f.runtime.isAlive(launched.qemu) && f.runtime.isAlive(launched.waiter));
      const control = await f.runtime.control(req.qmpSocket);
      try {
        const threads = await control.vcpuThreads();
        assert.deepEqual(
          threads.map((t) => t.index),
          [0],
        );
        const pinned = await f.runtime.pin(threads, [f.cpu]);
        assert.deepEqual(pinned, [{ ...threads[0]!, cpu: f.cpu }]);
        await control.resume();
        // QEMU may close the session before its answer to quit arrives: the exit status is what tells.
        await control.quit().catch(() => {});
      } finally {
        control.close();
      }
      assert.equal(await f.runtime.waitExit(launched.qemu, 10_000), true);
      assert.equal(await f.runtime.waitExit(launched.waiter, 5000), true);
      assert.equal(f.runtime.exitStatus(req.exitFile), 0);
      assert.equal(f.runtime.isAlive(launched.qemu), false);
    });

    it('kills the very process it launched (status 137, no complaint of its own), and only once', async () => {
      const f = fixture();
      const { launched, req } = await launch(f);
      assert.equal(f.runtime.kill(launched.qemu), true);
      assert.equal(await f.runtime.waitExit(launched.qemu, 5000), true);
      assert.equal(await f.runtime.waitExit(launched.waiter, 5000), true);
      assert.equal(f.runtime.exitStatus(req.exitFile), 137);
      assert.equal(f.runtime.complaint(req.logFile, launched.logOffset), undefined);
      assert.equal(f.runtime.kill(launched.qemu), false);
      await assert.rejects(f.runtime.control(req.qmpSocket, { timeoutMs: 500 }), { code: 'Unavailable' });
    });

    it('never takes a recycled pid for the machine: another start time is not alive and not signalled', async () => {
      const f = fixture();
      const { launched } = await launch(f);
      const other = { pid: launched.qemu.pid, startTime: launched.qemu.startTime + 1 };
      assert.equal(f.runtime.isAlive(other), false);
      assert.equal(f.runtime.kill(other), false);
      assert.equal(f.runtime.isAlive(launched.qemu), true);
    });

    it("fails a launch QEMU refuses with QEMU's own complaint and its exit status", async () => {
      const f = fixture();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-vmrt-'));
      try {
        const req = withMachine(f.request(dir), 'no-such-machine');
        const err = await f.runtime.launch(req).then(
          () => assert.fail('a machine of type no-such-machine launched'),
          (e: Error & { code?: string }) => e,
        );
        assert.equal(err.code, 'Unavailable');
        const complaint = f.runtime.complaint(req.logFile);
        assert.ok(complaint, 'QEMU said why in its log');
        assert.equal(err.message, `QEMU failed to start: ${complaint}`);
        assert.equal(f.runtime.exitStatus(req.exitFile), 1);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
