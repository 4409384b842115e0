import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const top = path.resolve(import.meta.dirname, '..');
const hyperbox = path.join(top, 'bin', 'hyperbox');
/** The state root the commands are pointed at; none of these commands may create it. */
const root = path.join('/tmp', `hyperbox-system-check-test-${process.pid}`);
/** The search path the check uses: the caller's, then the sbin directories. */
const searchPath = [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin']
  .filter(Boolean)
  .join(':');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      hyperbox,
      args,
      { env: { ...process.env, HYPERBOX_ROOT: root }, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Whether the shell finds `command`, as a user following the install hint would check. */
function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], {
      env: { ...process.env, PATH: searchPath },
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

interface Check {
  name: string;
  group: string;
  required: boolean;
  status: string;
  path?: string;
  version?: string;
  hint: string;
}

interface Report {
  ok: boolean;
  checks: Check[];
  missingRequired: string[];
}

describe('hyperbox system check', () => {
  it('reports every prerequisite in JSON and exits 0 exactly when the required ones are present', async () => {
    const { code, stdout } = await cli(['system', 'check', '--format', 'json']);
    const report = JSON.parse(stdout) as Report;
    assert.equal(typeof report.ok, 'boolean');
    assert.equal(code, report.ok ? 0 : 1);
    const names = report.checks.map((c) => c.name);
    for (const name of [
      'runc',
      'conmon',
      'tini',
      'overlayfs',
      'cgroups',
      'ip',
      'iptables',
      'nft',
      'skopeo',
    ]) {
      assert.ok(names.includes(name), `${name} is checked`);
    }
    for (const name of ['busybox-static', 'qemu-system-x86_64', 'qemu-img', 'kvm']) {
      assert.ok(names.includes(name), `${name} is checked`);
    }
    for (const c of report.checks) {
      assert.ok(['ok', 'missing'].includes(c.status), `${c.name}: status ${c.status}`);
      assert.ok(
        ['containers', 'networking', 'images', 'vms'].includes(c.group),
        `${c.name}: group ${c.group}`,
      );
      assert.equal(typeof c.required, 'boolean');
      assert.ok(c.hint.length > 0, `${c.name} has an install hint`);
    }
    assert.deepEqual(
      report.missingRequired,
      report.checks.filter((c) => c.required && c.status === 'missing').map((c) => c.name),
    );
    assert.equal(report.ok, report.missingRequired.length === 0);
    // VMs are optional on a host; the container runtime is not.
    const byName = new Map(report.checks.map((c) => [c.name, c]));
    assert.equal(byName.get('runc')?.required, true);
    assert.equal(byName.get('conmon')?.required, true);
    assert.equal(byName.get('qemu-system-x86_64')?.required, false);
    assert.equal(byName.get('qemu-system-x86_64')?.hint, 'apt-get install -y qemu-system-x86');
  });

  it('reports what the host has: each command present exactly when the shell finds it', async () => {
    const { stdout } = await cli(['system', 'check', '--format', 'json']);
    const byName = new Map((JSON.parse(stdout) as Report).checks.map((c) => [c.name, c]));
    const commands: Record<string, string[]> = {
      runc: ['runc'],
      conmon: ['conmon'],
      tini: ['tini-static'],
      ip: ['ip'],
      iptables: ['iptables'],
      nft: ['nft'],
      skopeo: ['skopeo'],
      'qemu-system-x86_64': ['qemu-system-x86_64'],
      'qemu-img': ['qemu-img'],
    };
    for (const [name, candidates] of Object.entries(commands)) {
      const expected = candidates.some(onPath) ? 'ok' : 'missing';
      assert.equal(byName.get(name)?.status, expected, `${name}: ${expected} as \`command -v\` says`);
    }
    assert.equal(byName.get('kvm')?.status, fs.existsSync('/dev/kvm') ? 'ok' : 'missing');
    const overlayListed = /\boverlay$/m.test(fs.readFileSync('/proc/filesystems', 'utf8'));
    if (overlayListed) assert.equal(byName.get('overlayfs')?.status, 'ok');
    if (onPath('runc')) {
      const version = /runc version (\S+)/.exec(
        execFileSync('runc', ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: searchPath } }),
      )?.[1];
      assert.equal(byName.get('runc')?.version, version);
    }
  });

  it('prints a table with one row per prerequisite and the verdict', async () => {
    const [{ stdout: table }, { stdout: json }] = await Promise.all([
      cli(['system', 'check']),
      cli(['system', 'check', '--format', 'json']),
    ]);
    const report = JSON.parse(json) as Report;
    const lines = table.split('\n');
    assert.match(lines[0] ?? '', /^PREREQUISITE\s+STATUS\s+NEEDED FOR\s+VERSION\s+DETAIL$/);
    for (const c of report.checks) {
      assert.ok(
        lines.some((l) => l.startsWith(`${c.name} `) && l.includes(` ${c.status} `)),
        `a row for ${c.name}: ${c.status}`,
      );
    }
    assert.match(table, report.ok ? /^Containers: ready$/m : /^Containers: not ready: missing /m);
  });

  it('rejects an unknown --format', async () => {
    const { code, stderr } = await cli(['system', 'check', '--format', 'yaml']);
    assert.equal(code, 125);
    assert.match(stderr, /--format must be table or json/);
  });
});

describe('hyperbox version and info', () => {
  it('version names this client and its Node 24', async () => {
    const { code, stdout } = await cli(['version', '--format', 'json']);
    assert.equal(code, 0);
    const { Client } = JSON.parse(stdout) as { Client: { Version: string; NodeVersion: string } };
    const pkg = JSON.parse(fs.readFileSync(path.join(top, 'package.json'), 'utf8')) as { version: string };
    assert.equal(Client.Version, pkg.version);
    assert.match(Client.NodeVersion, /^v24\./);
  });

  it('info shows the state root it was given and the host cgroup setup, without creating the root', async () => {
    const { code, stdout } = await cli(['info', '--format', 'json']);
    assert.equal(code, 0);
    const info = JSON.parse(stdout) as { RootDir: string; RunRoot: string; CgroupVersion: string };
    assert.equal(info.RootDir, root);
    assert.equal(info.RunRoot, path.join(root, 'run'));
    assert.ok(['v1', 'v2', 'hybrid'].includes(info.CgroupVersion), info.CgroupVersion);
    assert.equal(fs.existsSync(root), false);
  });
});
