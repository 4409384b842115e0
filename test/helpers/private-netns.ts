import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO } from './cli.ts';

/** Set by the outer run: this process is the copy inside the private namespaces. */
export const INSIDE_PRIVATE_NETNS = process.env.HBX_PRIVATE_NETNS === '1';

/**
 * Re-runs a test file under `unshare --net --mount`: its own network namespace with only `lo`, so no link, rule or
 * packet of the test can reach the host's networks. /sys is remounted to show this namespace's links (the network
 * layer reads /sys/class/net), with the cgroup hierarchies moved over so that runc still finds them
 * (scripts/in-private-netns.sh).
 */
export function runFileInPrivateNetns(file: string, timeoutMs = 300_000): void {
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(
    'bash',
    [
      path.join(REPO, 'scripts', 'in-private-netns.sh'),
      process.execPath,
      '--test',
      '--test-reporter=spec',
      file,
    ],
    { env: { ...env, HBX_PRIVATE_NETNS: '1' }, encoding: 'utf8', timeout: timeoutMs },
  );
  console.log(r.stdout, r.stderr);
  assert.equal(r.status, 0, 'the suite inside the private network namespace failed');
}
