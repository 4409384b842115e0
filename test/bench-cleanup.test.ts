/**
 * The benchmarks leave nothing behind: a run stopped by SIGTERM half-way removes its containers, monitors, mounts
 * and scratch directory and says it checked; a program that imports a test helper is not run a second time (the
 * first copy of a benchmark run used to exit there without cleaning up).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { litterOf, privilegedSkipReason, REPO } from './helpers/cli.ts';

const skip = privilegedSkipReason();
if (skip) console.log(`# skipping benchmark cleanup tests: ${skip}`);

/** What is left of a scratch directory: mounts below it, processes naming it, the directory itself. */
const leftOf = (base: string) => [...litterOf(base), ...(fs.existsSync(base) ? [`directory ${base}`] : [])];

describe('benchmark cleanup', { skip }, () => {
  it('removes everything when SIGTERM stops a run half-way, and checks it did', async () => {
    const child = spawn(
      process.execPath,
      [path.join(REPO, 'bench', 'run.ts'), 'monitor-memory', '--containers', '30'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // Wait until the run has its root and at least two containers' monitors, then stop it.
    let base = '';
    for (let i = 0; i < 600; i++) {
      base = /into (\/tmp\/hyperbox-bench-[^/\s]+)\/hyperbox-root/.exec(out)?.[1] ?? '';
      if (base && leftOf(base).filter((l) => l.includes('conmon')).length >= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(base, out);
    assert.ok(
      leftOf(base).some((l) => l.startsWith('mount')),
      'the run had mounted root file systems',
    );
    process.kill(child.pid!, 'SIGTERM');
    const code = await exited;
    assert.equal(code, 128 + os.constants.signals.SIGTERM, out);
    assert.match(out, /cleanup checked: no process, mount, network object or directory of this run is left/);
    assert.deepEqual(leftOf(base), []);
  });

  it('does not run a program that imports a test helper a second time', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-import-'));
    try {
      const script = path.join(dir, 'uses-helper.ts');
      fs.writeFileSync(
        script,
        `import ${JSON.stringify(path.join(REPO, 'test', 'helpers', 'registry.ts'))};\n` +
          "console.log(process.env.HBX_PRIVATE_NETNS === '1' ? 'ran again, in a namespace' : 'ran once');\n",
      );
      const env = { ...process.env };
      delete env.HBX_PRIVATE_NETNS; // as a program started by hand would be
      const r = spawnSync(process.execPath, [script], { encoding: 'utf8', env });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'ran once\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
