import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { CreateOptions, ExitLocation, OciRuntime } from '../oci-runtime.ts';

/** What the suite needs of an implementation: the runtime, and fresh containers' create options (bundle ready). */
export interface OciRuntimeHarness {
  runtime: () => OciRuntime;
  /** A container whose process runs until a signal ends it (and exits 42 on SIGUSR1). */
  sleeper(): Promise<CreateOptions>;
  /** A container whose process exits at once with status `code`. */
  exiting(code: number): Promise<CreateOptions>;
}

const location = (o: CreateOptions): ExitLocation => ({ id: o.id, exitDir: o.exitDir, bundle: o.bundle });

/**
 * The OciRuntime contract (oci-runtime.ts) as tests that every implementation passes, the fake and runc + conmon:
 * the life cycle and its states, exit statuses through the exit file, signals, pause and resume, and an idempotent
 * delete. Call it inside a `describe`.
 */
export function ociRuntimeSuite(h: OciRuntimeHarness): void {
  it('creates a container waiting for start, then runs it', async () => {
    const rt = h.runtime();
    const o = await h.sleeper();
    const { pid } = await rt.create(o);
    assert.ok(pid > 0);
    assert.equal((await rt.state(o.id))?.status, 'created');
    await rt.start(o.id);
    assert.equal((await rt.state(o.id))?.status, 'running');
    assert.equal(await rt.readExit(location(o)), undefined, 'no exit record while it runs');
    assert.ok((await rt.pids(o.id)).length >= 1);
    await rt.delete(o.id, { force: true });
    assert.equal(await rt.state(o.id), undefined);
  });

  it('reports the exit status of a process that ends by itself, by waiting and by reading', async () => {
    const rt = h.runtime();
    const o = await h.exiting(3);
    await rt.create(o);
    await rt.start(o.id);
    const exit = await rt.waitExit(location(o));
    assert.equal(exit.exitCode, 3);
    assert.equal(exit.oomKilled, false);
    assert.ok(exit.finishedAt > 0);
    assert.equal((await rt.readExit(location(o)))?.exitCode, 3);
    assert.equal((await rt.state(o.id))?.status, 'stopped');
    await rt.delete(o.id);
  });

  it('delivers signals: SIGKILL ends the process with 137, a trapped one with its own status', async () => {
    const rt = h.runtime();
    const killed = await h.sleeper();
    await rt.create(killed);
    await rt.start(killed.id);
    await rt.kill(killed.id, 'SIGKILL');
    assert.equal((await rt.waitExit(location(killed))).exitCode, 137);
    await rt.delete(killed.id);
    const trapped = await h.sleeper();
    await rt.create(trapped);
    await rt.start(trapped.id);
    // The trap may not be set the instant start returns: send until the process answers.
    const waited = rt.waitExit(location(trapped));
    for (let i = 0; i < 100 && (await rt.readExit(location(trapped))) === undefined; i++) {
      await rt.kill(trapped.id, 'USR1').catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await waited).exitCode, 42);
    await rt.delete(trapped.id);
  });

  it('pauses and resumes a running container', async () => {
    const rt = h.runtime();
    const o = await h.sleeper();
    await rt.create(o);
    await rt.start(o.id);
    await rt.pause(o.id);
    assert.equal((await rt.state(o.id))?.status, 'paused');
    await rt.resume(o.id);
    assert.equal((await rt.state(o.id))?.status, 'running');
    await rt.delete(o.id, { force: true });
  });

  it('waits for an exit until aborted', async () => {
    const rt = h.runtime();
    const o = await h.sleeper();
    await rt.create(o);
    await rt.start(o.id);
    const abort = new AbortController();
    const waited = rt.waitExit({ ...location(o), signal: abort.signal });
    abort.abort(new Error('gave up'));
    await assert.rejects(waited, /gave up/);
    await rt.delete(o.id, { force: true });
  });

  it('deletes idempotently, and knows no state of an unknown id', async () => {
    const rt = h.runtime();
    const unknown = 'e'.repeat(64);
    await rt.delete(unknown);
    await rt.delete(unknown, { force: true });
    assert.equal(await rt.state(unknown), undefined);
  });
}
