import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { listing } from '../src/drivers/rootfs/testing.ts';
import { HYPERBOX, privilegedSkipReason, TestRoot } from './helpers/cli.ts';
import { serveOn } from './helpers/serve.ts';

/**
 * CVE-2018-15664, the `docker cp` race: a running container swaps a directory and a symbolic link to a host
 * directory (by its host path) in tight loops while the user copies into and out of it. A copy that resolved the
 * path in user space and then opened it by name from the host's root would read the host's files, write into the
 * host directory or remove from it. 200 copies each way in-process and 200 each way through `docker cp` against
 * `hyperbox serve`: the host canary directory (names, modes, mtimes, inodes, contents) is the same after, and no
 * byte of its secret appears in anything copied out. Copies may fail when they lose the race (the path is gone or
 * is no directory at that instant); none may escape.
 *
 * On the code before the rootfs driver (user-space lstat, then open by name) this test failed within the first
 * few dozen copies: the canary's file was replaced or its secret copied out.
 */
const skip =
  privilegedSkipReason() ??
  (spawnSync('sh', ['-c', 'command -v docker']).status !== 0 ? 'the docker CLI is not installed' : undefined);
if (skip) console.log(`# skipping the cp race tests: ${skip}`);

const COPIES = Number(process.env.CP_RACE_COPIES ?? 200);
const PARALLEL = 4;

/** Whether any file below `p` holds `needle` (what was copied out). */
function holds(p: string, needle: string): boolean {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return false;
  }
  if (st.isFile()) return fs.readFileSync(p, 'utf8').includes(needle);
  if (st.isDirectory()) return fs.readdirSync(p).some((n) => holds(path.join(p, n), needle));
  return false;
}

function runAsync(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('close', (code) => resolve({ status: code ?? -1, err }));
  });
}

/** `n` jobs, `PARALLEL` at a time; the statuses and messages of the failures. */
async function many(n: number, job: (i: number) => Promise<{ status: number; err: string }>) {
  let next = 0;
  const failures: string[] = [];
  let ok = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let i = next++; i < n; i = next++) {
        const r = await job(i);
        if (r.status === 0) ok++;
        else failures.push(r.err.trim());
      }
    }),
  );
  return { ok, failures };
}

describe('cp against a container racing directory/link swaps (CVE-2018-15664)', { skip }, () => {
  let t: TestRoot;
  let work: string;
  let canary: string;
  let secret: string;
  let daemon: { stop(): Promise<void> } | undefined;
  let socket: string;
  let canaryBefore: string[];

  before(async () => {
    t = new TestRoot({ transport: 'local' });
    t.importBusybox();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-cp-race-'));
    canary = path.join(work, 'canary');
    secret = `HOST-SECRET-${crypto.randomBytes(6).toString('hex')}`;
    fs.mkdirSync(path.join(canary, 'sub/deeper'), { recursive: true });
    // The names a copy into or out of /race/d uses: `f`, `sub`, `in.txt`, `tree`.
    fs.writeFileSync(path.join(canary, 'f'), `${secret}\n`);
    fs.writeFileSync(path.join(canary, 'sub/deeper/g'), `${secret}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(canary, 'in.txt'), `${secret} (would be replaced)\n`);
    fs.mkdirSync(path.join(canary, 'tree'));
    canaryBefore = listing(canary);
    fs.writeFileSync(path.join(work, 'in.txt'), 'from the host\n');
    fs.mkdirSync(path.join(work, 'tree/x'), { recursive: true });
    fs.writeFileSync(path.join(work, 'tree/x/y'), 'tree file\n');
    // Two swappers on two directories, each a dir with the same names and a link to the canary in turn.
    const swap = (d: string) =>
      `mkdir -p /race/${d}/sub/deeper && echo inside > /race/${d}/f && echo inside > /race/${d}/in.txt && ` +
      `mkdir /race/${d}/tree && ln -s ${canary} /race/${d}.l && touch /race/${d}.ready && ` +
      `while :; do mv /race/${d} /race/${d}.t; mv /race/${d}.l /race/${d}; mv /race/${d} /race/${d}.l; mv /race/${d}.t /race/${d}; done`;
    t.ok([
      'run',
      '-d',
      '--name',
      'racer',
      '--cpus',
      '1',
      'busybox:1',
      'sh',
      '-c',
      `(${swap('d')}) & (${swap('e')}) & wait`,
    ]);
    for (let i = 0; i < 100 && t.run(['exec', 'racer', 'test', '-e', '/race/e.ready']).status !== 0; i++)
      await sleep(50);
    socket = path.join(work, 'hyperbox.sock');
    daemon = await serveOn(t.root, socket);
  });

  after(async () => {
    await daemon?.stop();
    const litter = t.cleanup();
    fs.rmSync(work, { recursive: true, force: true });
    assert.deepEqual(litter, [], 'nothing of the test root may stay on the host');
  });

  const hyperbox = (args: string[]) =>
    runAsync(HYPERBOX, ['--root', t.root, ...args], { ...process.env, HYPERBOX_HOST: '' });
  const docker = (args: string[]) =>
    runAsync('docker', args, { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: work });

  for (const via of ['in-process', 'docker cp through the daemon'] as const) {
    it(`${via}: ${COPIES} copies out of and ${COPIES} into the racing container leave the host untouched`, async () => {
      const cp = via === 'in-process' ? hyperbox : docker;
      const outDir = fs.mkdtempSync(path.join(work, 'out-'));
      const start = Date.now();
      const out = await many(COPIES, (i) => {
        const d = i % 2 === 0 ? 'd' : 'e';
        // A file, a directory's contents, and a directory: every way a copy out walks the path.
        const src = [`racer:/race/${d}/f`, `racer:/race/${d}/.`, `racer:/race/${d}/sub`][i % 3]!;
        return cp(['cp', src, path.join(outDir, `o${i}`)]);
      });
      const into = await many(COPIES, (i) => {
        const d = i % 2 === 0 ? 'd' : 'e';
        // Replacing an existing file (a removal), a new file in a directory, a tree (mkdir).
        const [src, dest] = [
          [path.join(work, 'in.txt'), `racer:/race/${d}/in.txt`],
          [path.join(work, 'in.txt'), `racer:/race/${d}/`],
          [path.join(work, 'tree'), `racer:/race/${d}/tree`],
        ][i % 3] as [string, string];
        return cp(['cp', src, dest]);
      });
      console.log(
        `# ${via}: out ${out.ok} ok / ${out.failures.length} failed, into ${into.ok} ok / ${into.failures.length} failed, ${Date.now() - start} ms`,
      );
      assert.deepEqual(listing(canary), canaryBefore, 'the host canary directory is unchanged');
      assert.equal(holds(outDir, secret), false, 'no host file content was copied out');
      assert.ok(out.ok > 0 && into.ok > 0, 'copies went through between the swaps');
      const kinds = new Set(
        [...out.failures, ...into.failures].map((f) =>
          f
            .replace(/\/race\/[de]\b/g, '/race/*')
            .replace(/^time=.*$/gm, '')
            .trim(),
        ),
      );
      console.log(`# failures seen: ${[...kinds].join(' | ')}`);
      for (const f of [...out.failures, ...into.failures]) {
        // Losing the race is a plain "not found" or "not a directory", in the container's words (no host path).
        assert.doesNotMatch(f, new RegExp(`${t.root}|/proc/`), f);
      }
    });
  }
});
