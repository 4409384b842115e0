import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Every black-box test file runs in its own network namespace (only `lo`, no route out) and mount namespace, so no
 * bridge, veth, rule, DNS server or packet a test makes can reach the host's networks — a mistake cannot leak.
 *
 * Importing this module from a test file does it: as root, outside such a namespace, it runs the very same test
 * process again under scripts/in-private-netns.sh with the same arguments and stdio (node's test runner reads the
 * copy's report as if it were this process's) and exits with its status. /sys is remounted in there to show the namespace's links
 * (the network layer reads /sys/class/net), with the cgroup hierarchies moved over so that runc still finds them.
 */
export const INSIDE_PRIVATE_NETNS = process.env.HBX_PRIVATE_NETNS === '1';

const script = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'scripts',
  'in-private-netns.sh',
);

// Only a test file is run again: a program that imports a test helper (a benchmark using the registry helper) would
// otherwise run twice, the first copy exiting here without its own cleanup.
const IS_TEST_FILE = /\.test\.[cm]?[jt]s$/.test(process.argv[1] ?? '');

if (IS_TEST_FILE && !INSIDE_PRIVATE_NETNS && process.getuid?.() === 0) {
  const r = spawnSync('bash', [script, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, HBX_PRIVATE_NETNS: '1' },
  });
  process.exit(r.status ?? 1);
}
