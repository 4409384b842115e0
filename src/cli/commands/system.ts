import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { FailedPreconditionError, InvalidArgumentError } from '../../core/errors.ts';
import { cgroupFacts, parseCgroupMounts } from '../../core/host/cgroup-checks.ts';
import {
  installCommand,
  type PrerequisiteReport,
  type PrerequisiteResult,
} from '../../core/host/prerequisite-report.ts';
import { checkPrerequisites } from '../../core/host/prerequisites.ts';
import { humanBinarySize } from '../../core/human.ts';
import { LocalHostProbe } from '../../drivers/host/host-probe.ts';
import { readHostSummary } from '../../drivers/host/host-summary.ts';
import { readLogDefaults } from '../../engine/system/engine-config.ts';
import { installRoot, logWriterPath } from '../../wiring/self.ts';
import type { CliContext } from '../context.ts';
import { readAnswer } from '../prompt.ts';
import { formatTable } from '../table.ts';
import { registerSpaceCommands } from './system-space.ts';

/**
 * `hyperbox system check`, `hyperbox info` (also `system info`) and `hyperbox version`: what the host offers and what
 * this client is. None of them needs the engine or the state root to exist.
 */
export function registerSystemCommands(program: Command, ctx: CliContext): void {
  const system = program.command('system').description('Manage hyperbox and inspect the host');
  registerSpaceCommands(system, ctx);

  system
    .command('check')
    .description('Check the host for the prerequisites of containers and VMs')
    .option('--format <format>', 'output format: table or json', 'table')
    .action(async (opts: { format: string }) => {
      const format = outputFormat(opts.format);
      const report = await checkPrerequisites(new LocalHostProbe(), { logWriter: logWriterPath() });
      if (format === 'json') ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else ctx.stdout.write(checkTable(report));
      if (!report.ok) {
        const install = installCommand(report, 'required');
        throw new FailedPreconditionError(
          `missing required prerequisites: ${report.missingRequired.join(', ')}${install ? ` (run: ${install})` : ''}`,
        );
      }
    });

  system
    .command('reset')
    .description('Remove every container, network, volume and image, and the state root itself')
    .option('-f, --force', 'do not ask for confirmation')
    .action(async (opts: { force?: boolean }) => {
      const layout = ctx.layout();
      if (!opts.force) {
        if (!ctx.stdin.isTTY) {
          throw new FailedPreconditionError('system reset needs --force when stdin is not a terminal');
        }
        ctx.stdout.write(
          `WARNING! This will remove all containers, networks, volumes and images under ${layout.root}\nAre you sure you want to continue? [y/N] `,
        );
        const answer = await readAnswer(ctx.stdin);
        if (!/^y(es)?$/i.test(answer.trim())) return;
      }
      const done = await (await ctx.engine()).system.reset();
      ctx.stdout.write(
        `Removed ${done.containers} containers, ${done.vms} VMs, ${done.networks} networks, ${done.volumes} volumes, ${done.images} images\n`,
      );
      if (!done.rootRemoved) ctx.stdout.write('The daemon keeps running on its state root\n');
    });

  const info = async (opts: { format: string }) => {
    const format = outputFormat(opts.format);
    const data = await collectInfo(ctx);
    ctx.stdout.write(format === 'json' ? `${JSON.stringify(data, null, 2)}\n` : infoText(data));
  };
  system
    .command('info')
    .description('Display system-wide information')
    .option('--format <format>', 'output format: table or json', 'table')
    .action(info);
  program
    .command('info')
    .description('Display system-wide information')
    .option('--format <format>', 'output format: table or json', 'table')
    .action(info);

  program
    .command('version')
    .description('Show the hyperbox version information')
    .option('--format <format>', 'output format: table or json', 'table')
    .action((opts: { format: string }) => {
      const format = outputFormat(opts.format);
      const data = versionInfo();
      if (format === 'json') {
        ctx.stdout.write(`${JSON.stringify({ Client: data }, null, 2)}\n`);
        return;
      }
      ctx.stdout.write(
        keyValues('Client: hyperbox', [
          ['Version', data.Version],
          ['Node.js version', data.NodeVersion],
          ['OS/Arch', `${data.Os}/${data.Arch}`],
        ]),
      );
    });
}

function outputFormat(format: string): 'table' | 'json' {
  if (format === 'table' || format === 'json') return format;
  throw new InvalidArgumentError(
    `--format must be table or json: current value is ${JSON.stringify(format)}`,
  );
}

interface VersionInfo {
  Version: string;
  NodeVersion: string;
  Os: string;
  Arch: string;
}

function versionInfo(): VersionInfo {
  const pkgPath = path.join(installRoot(), 'package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8')) as { version?: unknown };
  return {
    Version: typeof pkg.version === 'string' ? pkg.version : 'unknown',
    NodeVersion: process.version,
    Os: process.platform,
    Arch: process.arch,
  };
}

interface Info {
  Client: VersionInfo;
  RootDir: string;
  RunRoot: string;
  StorageDriver: string;
  CgroupDriver: string;
  LoggingDriver: string;
  CgroupVersion: string;
  CgroupControllers: string[];
  Runtime: { Name: string; Path?: string; Version?: string };
  Monitor: { Name: string; Path?: string; Version?: string };
  KernelVersion: string;
  OperatingSystem: string;
  Architecture: string;
  NCPU: number;
  MemTotal: number;
}

async function collectInfo(ctx: CliContext): Promise<Info> {
  const probe = new LocalHostProbe();
  const layout = ctx.layout();
  const [report, host, mountinfo] = await Promise.all([
    checkPrerequisites(probe, { logWriter: logWriterPath() }),
    readHostSummary(),
    probe.readText('/proc/self/mountinfo'),
  ]);
  const mounts = parseCgroupMounts(mountinfo ?? '');
  const unified = mounts.find((m) => m.fsType === 'cgroup2');
  const cgroups = cgroupFacts(
    mounts,
    unified ? await probe.readText(`${unified.mountPoint}/cgroup.controllers`) : undefined,
  );
  const tool = (name: string) => {
    const c = report.checks.find((r) => r.name === name);
    return {
      Name: name,
      ...(c?.path ? { Path: c.path } : {}),
      ...(c?.version ? { Version: c.version } : {}),
    };
  };
  return {
    Client: versionInfo(),
    RootDir: layout.root,
    RunRoot: layout.runRoot,
    StorageDriver: 'overlay',
    CgroupDriver: 'cgroupfs',
    // engine.json's log-driver (the default new containers get); a malformed file says so when a container is made.
    LoggingDriver: (() => {
      try {
        return readLogDefaults(layout).type;
      } catch {
        return 'invalid engine.json';
      }
    })(),
    CgroupVersion: cgroups?.version ?? 'none',
    CgroupControllers: cgroups?.controllers ?? [],
    Runtime: tool('runc'),
    Monitor: tool('conmon'),
    KernelVersion: host.kernelVersion,
    OperatingSystem: host.operatingSystem,
    Architecture: host.architecture,
    NCPU: host.cpus,
    MemTotal: host.memTotal,
  };
}

function infoText(info: Info): string {
  const tool = (t: Info['Runtime']) =>
    t.Path ? `${t.Name} ${t.Version ?? '(unknown version)'} (${t.Path})` : `${t.Name} (missing)`;
  return (
    keyValues('Client: hyperbox', [
      ['Version', info.Client.Version],
      ['Node.js version', info.Client.NodeVersion],
    ]) +
    '\n' +
    keyValues('Host:', [
      ['Root Dir', info.RootDir],
      ['Run Root', info.RunRoot],
      ['Storage Driver', info.StorageDriver],
      ['Logging Driver', info.LoggingDriver],
      ['Cgroup Driver', info.CgroupDriver],
      ['Cgroup Version', info.CgroupVersion],
      ['Cgroup Controllers', info.CgroupControllers.join(' ') || '(none)'],
      ['Runtime', tool(info.Runtime)],
      ['Monitor', tool(info.Monitor)],
      ['Kernel Version', info.KernelVersion],
      ['Operating System', info.OperatingSystem],
      ['Architecture', info.Architecture],
      ['CPUs', String(info.NCPU)],
      ['Total Memory', humanBinarySize(info.MemTotal)],
    ])
  );
}

/** docker info's shape: a heading, then " Key: value" lines. */
function keyValues(heading: string, rows: [string, string][]): string {
  return `${heading}\n${rows.map(([k, v]) => ` ${k}: ${v}\n`).join('')}`;
}

const GROUP_LABEL: Record<PrerequisiteResult['group'], string> = {
  containers: 'containers',
  networking: 'networking',
  images: 'images',
  vms: 'VMs',
};

function checkTable(report: PrerequisiteReport): string {
  const rows = report.checks.map((c) => [
    c.name,
    c.status,
    `${GROUP_LABEL[c.group]}${c.required ? '' : ' (optional)'}`,
    c.version ?? '-',
    c.status === 'ok'
      ? [c.path, c.detail].filter(Boolean).join(' ')
      : `${c.detail ? `${c.detail}; ` : ''}${c.hint}`,
  ]);
  let out = formatTable(['PREREQUISITE', 'STATUS', 'NEEDED FOR', 'VERSION', 'DETAIL'], rows);
  const ready = (group: PrerequisiteResult['group']) => {
    const missing = report.checks
      .filter((c) => c.group === group && c.status === 'missing')
      .map((c) => c.name);
    return missing.length === 0 ? 'ready' : `missing ${missing.join(', ')}`;
  };
  out += `\nContainers: ${report.ok ? 'ready' : `not ready: missing ${report.missingRequired.join(', ')}`}\n`;
  out += `VMs (optional): ${ready('vms')}\n`;
  const install = installCommand(report, 'all');
  if (install) out += `To install the missing packages: ${install}\n`;
  return out;
}
