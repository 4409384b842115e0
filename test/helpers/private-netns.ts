import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/** Set by the outer run: this process is the copy inside the private namespaces. */
export const INSIDE_PRIVATE_NETNS = process.env.HBX_PRIVATE_NETNS === '1';

/**
 * Re-runs a test file under `unshare --net --mount`: its own network namespace with only `lo`, so no link, rule or
 * packet of the test can reach the host's networks. /sys is remounted to show this namespace's links (the network
 * layer reads /sys/class/net), with the cgroup hierarchies moved over so that runc still finds them.
 */
export function runFileInPrivateNetns(file: string, timeoutMs = 300_000): void {
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const prepare = [
    'mount -t tmpfs hbx-ns-prep /mnt',
    'mkdir /mnt/cg',
    'mount --rbind /sys/fs/cgroup /mnt/cg',
    'mount -t sysfs sysfs /sys',
    'mount --move /mnt/cg /sys/fs/cgroup',
    'umount /mnt',
    'ip link set lo up',
  ].join(' && ');
  const r = spawnSync(
    'unshare',
    [
      '--net',
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      `${prepare} && exec "$0" --test --test-reporter=spec "$1"`,
      process.execPath,
      file,
    ],
    { env: { ...env, HBX_PRIVATE_NETNS: '1' }, encoding: 'utf8', timeout: timeoutMs },
  );
  console.log(r.stdout, r.stderr);
  assert.equal(r.status, 0, 'the suite inside the private network namespace failed');
}
