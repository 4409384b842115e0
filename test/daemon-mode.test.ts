import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { it } from 'node:test';
import { privilegedSkipReason, REPO } from './helpers/cli.ts';

/**
 * The CLI's main black-box suites again, with every command going through a daemon (`hyperbox serve` on each test
 * root's socket, reached through HYPERBOX_HOST: see TestRoot; the registry suite's commands find it on the root's
 * default socket). Left out, with the reason printed: the test that fakes a host reboot, which deletes the run
 * directory and the daemon's socket with it (a daemon reconciles when it starts: test/docker-cli.test.ts covers it).
 */
const SUITES = [
  'test/containers.test.ts',
  'test/cp.test.ts',
  'test/container-options.test.ts',
  'test/seccomp.test.ts',
  'test/networks.test.ts',
  'test/images-cli.test.ts',
  'test/vms.test.ts',
  'test/host.test.ts',
  'test/registry.test.ts',
];
// A simulated reboot removes the run directory, the daemon's socket with it.
const IN_PROCESS_ONLY = ['reconciles after a host reboot'];

const skip = privilegedSkipReason();
if (skip) console.log(`# skipping the daemon-mode run of the CLI suites: ${skip}`);

it(`runs ${SUITES.join(', ')} through the daemon`, { skip, timeout: 600_000 }, () => {
  console.log(`# daemon mode leaves out: ${IN_PROCESS_ONLY.join('; ')}`);
  const env: NodeJS.ProcessEnv = { ...process.env, HYPERBOX_TEST_TRANSPORT: 'daemon' };
  // A test file run by `node --test` is told so through NODE_TEST_CONTEXT; the nested runner must not think so.
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(
    process.execPath,
    [
      '--test',
      '--test-concurrency=1',
      '--test-reporter=spec',
      ...IN_PROCESS_ONLY.map((name) => `--test-skip-pattern=${name}`),
      ...SUITES.map((f) => path.join(REPO, f)),
    ],
    { cwd: REPO, env, encoding: 'utf8', timeout: 590_000 },
  );
  const out = `${r.stdout}${r.stderr}`;
  const passed = Number(/ℹ pass (\d+)/.exec(out)?.[1] ?? 0);
  const failed = Number(/ℹ fail (\d+)/.exec(out)?.[1] ?? -1);
  const skipped = Number(/ℹ skipped (\d+)/.exec(out)?.[1] ?? 0);
  console.log(`# daemon mode: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  assert.equal(r.status, 0, out);
  assert.equal(failed, 0, out);
  assert.ok(passed >= 40, `expected the suites' tests to run, got ${passed}:\n${out}`);
});
