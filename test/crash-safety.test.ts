import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { HYPERBOX, litterOf, privilegedSkipReason, TestRoot } from './helpers/cli.ts';

const skip = privilegedSkipReason();
if (skip) console.log(`# skipping crash-safety tests: ${skip}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('crash safety: kill -9 at any moment, dead monitors, parallel CLIs', { skip }, () => {
  let t: TestRoot;
  before(() => {
    t = new TestRoot();
    t.importBusybox();
  });
  after(() => {
    assert.deepEqual(t.cleanup(), []);
  });

  it('a container outlives a killed foreground CLI and is reconciled when it exits', async () => {
    const cli = spawn(
      HYPERBOX,
      ['--root', t.root, 'run', '--name', 'orphan', 'busybox:1', 'sh', '-c', 'sleep 1; exit 7'],
      {
        stdio: 'ignore',
      },
    );
    await waitUntil(() => t.run(['ps', '-q', '--filter', 'name=orphan']).stdout.trim() !== '');
    cli.kill('SIGKILL');
    assert.match(t.ok(['ps', '--filter', 'name=orphan']), /Up /, 'still running after its CLI died');
    await sleep(1500);
    assert.equal(t.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'orphan']), 'exited 7\n');
    assert.deepEqual(
      litterOf(t.root).filter((l) => l.startsWith('mount')),
      [],
      'the exit was cleaned up',
    );
    t.ok(['rm', 'orphan']);
  });

  it('a --rm container whose CLI was killed is removed by the next command', async () => {
    const cli = spawn(
      HYPERBOX,
      ['--root', t.root, 'run', '--rm', '--name', 'gone', 'busybox:1', 'sleep', '1'],
      {
        stdio: 'ignore',
      },
    );
    await waitUntil(() => t.run(['ps', '-q', '--filter', 'name=gone']).stdout.trim() !== '');
    cli.kill('SIGKILL');
    await sleep(1500);
    assert.equal(t.ok(['ps', '-aq', '--filter', 'name=gone']), '');
  });

  it('a container whose monitor died shows as exited', () => {
    t.ok(['run', '-d', '--name', 'lonely', 'busybox:1', 'sleep', '300']);
    const id = t.ok(['inspect', '-f', '{{.Id}}', 'lonely']).trim();
    const monitorPid = Number(fs.readFileSync(`${t.root}/containers/${id}/conmon.pid`, 'utf8'));
    process.kill(monitorPid, 'SIGKILL');
    const status = t.ok(['inspect', '-f', '{{.State.Status}} {{.State.Error}}', 'lonely']);
    assert.match(status, /^exited the container monitor died/);
    t.ok(['rm', 'lonely']);
    assert.deepEqual(litterOf(t.root), []);
  });

  it('kill -9 of run at random moments leaves nothing once reconciled', async () => {
    for (let i = 0; i < 8; i++) {
      const cli = spawn(HYPERBOX, ['--root', t.root, 'run', '--rm', 'busybox:1', 'true'], {
        stdio: 'ignore',
      });
      const exited = new Promise((resolve) => cli.once('exit', resolve));
      await sleep(40 + i * 25);
      if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
      const outcome = await Promise.race([exited.then(() => 'exited'), sleep(10_000).then(() => 'stuck')]);
      if (outcome === 'stuck') {
        const ps = spawnSync('ps', ['-eo', 'pid,ppid,stat,wchan:30,cmd'], { encoding: 'utf8' }).stdout;
        assert.fail(
          `run ${i} (pid ${cli.pid}) did not die from SIGKILL:\n${ps
            .split('\n')
            .filter((l) => l.includes(t.root))
            .join('\n')}`,
        );
      }
    }
    await sleep(500);
    t.ok(['ps', '-a']); // reconciles
    const left = t.ok(['ps', '-aq']).split('\n').filter(Boolean);
    if (left.length) t.ok(['rm', '-f', ...left]);
    assert.deepEqual(litterOf(t.root), []);
  });

  it('parallel CLIs never corrupt the store', async () => {
    const runs = Array.from({ length: 8 }, (_, i) =>
      run(['run', '-d', '--name', `par${i}`, 'busybox:1', 'sleep', '300'], t.root),
    );
    const results = await Promise.all(runs);
    assert.deepEqual(
      results.map((r) => r.status),
      Array(8).fill(0),
      results.map((r) => r.stderr).join(''),
    );
    assert.equal(t.ok(['ps', '-q']).split('\n').filter(Boolean).length, 8);
    const removals = await Promise.all(
      Array.from({ length: 8 }, (_, i) => run(['rm', '-f', `par${i}`], t.root)),
    );
    assert.deepEqual(
      removals.map((r) => r.status),
      Array(8).fill(0),
    );
    assert.equal(t.ok(['ps', '-aq']), '');
  });
});

function run(args: string[], root: string): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(HYPERBOX, ['--root', root, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('exit', (code) => resolve({ status: code ?? -1, stderr }));
  });
}

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return;
    await sleep(50);
  }
  assert.fail('condition not met in time');
}
