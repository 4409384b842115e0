import fs from 'node:fs';
import type { Command } from 'commander';
import { HyperboxError, InvalidArgumentError } from '../../core/errors.ts';
import { parseGoDuration, parseSize } from '../../core/human.ts';
import { parsePublish } from '../../core/network/ports.ts';
import { parseCpuPinning, type VmBoot, type VmMachine } from '../../core/vm/config.ts';
import { vmInspectView, vmListRow } from '../../core/vm/views.ts';
import type { Engine } from '../../engine/api/engine.ts';
import type { VmCreateConfig } from '../../engine/api/vms.ts';
import type { CliContext } from '../context.ts';
import { parseDetachKeys } from '../detach-keys.ts';
import { ExitStatus } from '../exit-codes.ts';
import { type ListSpec, printInspect, printList } from '../output.ts';
import { attachConsole } from '../vm-console.ts';

const collect = (value: string, previous: string[]) => [...previous, value];

interface CreateFlags {
  name?: string;
  cpus: string;
  memory: string;
  disk?: string;
  image?: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  machine?: string;
  network: string[];
  ip?: string;
  publish: string[];
  cloudInit?: string;
  sshKey: string[];
  hostname?: string;
  cpuPinning: string;
  memoryPrealloc: boolean;
  start: boolean;
}

function size(text: string, flag: string): number {
  const n = parseSize(text);
  if (n === undefined)
    throw new InvalidArgumentError(`invalid ${flag} "${text}": expected a size such as 512M or 10G`);
  return n;
}

function readInput(file: string, flag: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`${flag} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** The flags of `vm create` as the engine's request (validated again, fully, by the engine, which names it). */
export function vmConfigFromFlags(f: CreateFlags): VmCreateConfig {
  if (!!f.image === !!f.kernel)
    throw new InvalidArgumentError('give one boot source: --image NAME, or --kernel FILE [--initrd FILE]');
  if (f.image && (f.initrd || f.append))
    throw new InvalidArgumentError('--initrd and --append go with --kernel');
  const cpus = Number(f.cpus);
  if (!Number.isInteger(cpus))
    throw new InvalidArgumentError(`invalid --cpus "${f.cpus}": must be an integer`);
  const boot: VmBoot = f.image
    ? { kind: 'image', image: f.image }
    : {
        kind: 'kernel',
        kernel: fs.realpathSync.native(mustExist(f.kernel!, '--kernel')),
        ...(f.initrd ? { initrd: fs.realpathSync.native(mustExist(f.initrd, '--initrd')) } : {}),
        ...(f.append ? { append: f.append } : {}),
      };
  const machine = (f.machine ?? (f.image ? 'q35' : 'microvm')) as VmMachine;
  if (f.ip && f.network.length === 0) throw new InvalidArgumentError('--ip needs --network');
  return {
    ...(f.name !== undefined ? { name: f.name } : {}),
    ...(f.hostname !== undefined ? { hostname: f.hostname } : {}),
    cpus,
    memoryBytes: size(f.memory, '--memory'),
    diskBytes: f.disk ? size(f.disk, '--disk') : 0,
    memoryPrealloc: f.memoryPrealloc,
    cpuPinning: parseCpuPinning(f.cpuPinning),
    boot,
    machine,
    networks: f.network.map((n, i) => ({ network: n, ...(i === 0 && f.ip ? { ip: f.ip } : {}) })),
    publish: f.publish.flatMap(parsePublish),
    ...(f.cloudInit ? { cloudInit: readInput(f.cloudInit, '--cloud-init') } : {}),
    sshKeys: f.sshKey.flatMap((k) =>
      readInput(k, '--ssh-key')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#')),
    ),
  };
}

function mustExist(file: string, flag: string): string {
  if (!fs.existsSync(file)) throw new InvalidArgumentError(`${flag}: no such file: ${file}`);
  return file;
}

/** Runs `fn` on each named VM, printing the name; with several, reports each failure and exits 1 at the end. */
async function eachVm(ctx: CliContext, refs: string[], fn: (ref: string) => Promise<unknown>): Promise<void> {
  let failed = false;
  for (const ref of refs) {
    try {
      await fn(ref);
      ctx.stdout.write(`${ref}\n`);
    } catch (err) {
      if (refs.length === 1) throw err;
      ctx.stderr.write(`hyperbox: ${err instanceof HyperboxError ? err.message : String(err)}\n`);
      failed = true;
    }
  }
  if (failed) throw new ExitStatus(1);
}

function stopSeconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    const d = parseGoDuration(text);
    if (d === undefined) throw new InvalidArgumentError(`invalid --time "${text}": seconds, e.g. 10`);
    return d / 1000;
  }
  return n;
}

/** `hyperbox vm ...`: virtual machines, in docker's and virsh's shapes. */
export function registerVmCommands(program: Command, ctx: CliContext): void {
  const vm = program
    .command('vm')
    .description('Manage virtual machines (QEMU, dedicated CPUs, memory and disk)');

  vm.command('create')
    .description('Create a VM: reserves its CPUs, memory and disk, makes its disk')
    .option('--name <name>', 'VM name (default: generated)')
    .option('--cpus <n>', 'dedicated logical CPUs (one per vCPU)', '1')
    .option('-m, --memory <size>', 'dedicated memory, e.g. 512M, 1G', '256M')
    .option('--disk <size>', 'disk size (thin qcow2), e.g. 10G')
    .option('--image <name>', 'boot from a clone of this base image (vm image import)')
    .option('--kernel <file>', 'boot this Linux kernel directly')
    .option('--initrd <file>', 'initial ramdisk for --kernel')
    .option('--append <cmdline>', 'extra kernel command line for --kernel')
    .option('--machine <type>', 'microvm (default for --kernel) or q35 (default for --image)')
    .option('--network <name>', 'connect to a network (repeatable)', collect, [])
    .option('--ip <address>', 'IPv4 address on the first network')
    .option('-p, --publish <spec>', 'publish a guest port: [ip:]hostPort:guestPort[/udp]', collect, [])
    .option('--cloud-init <file>', 'cloud-init user-data for --image')
    .option('--ssh-key <file>', 'authorize this public key (cloud-init; repeatable)', collect, [])
    .option('--hostname <name>', 'guest hostname (default: the VM name)')
    .option('--cpu-pinning <auto|list>', 'which logical CPUs to dedicate, e.g. 2,3', 'auto')
    .option('--memory-prealloc', 'allocate all guest memory at start', false)
    .option('--start', 'start the VM once created', false)
    .action(async (f: CreateFlags) => {
      const engine = await ctx.engine();
      const rec = await engine.vms.create({ config: vmConfigFromFlags(f) });
      if (f.start) await engine.vms.start(rec.id);
      ctx.stdout.write(`${rec.id}\n`);
    });

  vm.command('start')
    .description('Start one or more VMs')
    .argument('<vms...>')
    .action(async (refs: string[]) => {
      const engine = await ctx.engine();
      await eachVm(ctx, refs, (r) => engine.vms.start(r));
    });

  vm.command('stop')
    .description('Stop VMs: ACPI power-down, then a hard stop after --time seconds')
    .argument('<vms...>')
    .option('-t, --time <seconds>', 'seconds to wait for the guest to power off', '10')
    .action(async (refs: string[], f: { time: string }) => {
      const engine = await ctx.engine();
      const timeSeconds = stopSeconds(f.time);
      await eachVm(ctx, refs, (r) =>
        engine.vms.stop(r, { ...(timeSeconds !== undefined ? { timeSeconds } : {}) }),
      );
    });

  vm.command('kill')
    .description('Kill the QEMU of one or more VMs')
    .argument('<vms...>')
    .action(async (refs: string[]) => {
      const engine = await ctx.engine();
      await eachVm(ctx, refs, (r) => engine.vms.kill(r));
    });

  vm.command('restart')
    .description('Stop (if running) and start VMs')
    .argument('<vms...>')
    .option('-t, --time <seconds>', 'seconds to wait for the guest to power off', '10')
    .action(async (refs: string[], f: { time: string }) => {
      const engine = await ctx.engine();
      const timeSeconds = stopSeconds(f.time);
      await eachVm(ctx, refs, (r) =>
        engine.vms.restart(r, { ...(timeSeconds !== undefined ? { timeSeconds } : {}) }),
      );
    });

  vm.command('rm')
    .alias('remove')
    .description('Remove VMs: their disk, files and reservation')
    .argument('<vms...>')
    .option('-f, --force', 'kill a running VM first', false)
    .action(async (refs: string[], f: { force: boolean }) => {
      const engine = await ctx.engine();
      await eachVm(ctx, refs, (r) => engine.vms.remove(r, { force: f.force }));
    });

  vm.command('ls')
    .alias('list')
    .description('List VMs')
    .option('-q, --quiet', 'only display VM IDs', false)
    .option('--format <format>', "'table', 'json' or a Go template")
    .action((f: { quiet: boolean; format?: string }) => listVms(ctx, f));

  vm.command('inspect')
    .description('Display detailed information on one or more VMs')
    .argument('<vms...>')
    .option('-f, --format <template>', 'format output using a Go template')
    .action(async (refs: string[], f: { format?: string }) => {
      const engine = await ctx.engine();
      const views = [];
      for (const r of refs) views.push(vmInspectView(await engine.vms.describe(r)));
      printInspect(ctx.stdout, views, f.format);
    });

  vm.command('logs')
    .description("Print a VM's serial console log")
    .argument('<vm>')
    .option('-f, --follow', 'follow the log while the VM runs', false)
    .action(async (ref: string, f: { follow: boolean }) => {
      const engine = await ctx.engine();
      for await (const chunk of engine.vms.serialLog(ref, { follow: f.follow })) ctx.stdout.write(chunk);
    });

  vm.command('console')
    .description("Attach to a VM's serial console (detach with Ctrl-P Ctrl-Q)")
    .argument('<vm>')
    .option('--detach-keys <keys>', 'key sequence to detach, e.g. ctrl-p,ctrl-q', 'ctrl-p,ctrl-q')
    .action(async (ref: string, f: { detachKeys: string }) => {
      const engine = await ctx.engine();
      const keys = parseDetachKeys(f.detachKeys);
      const connection = await engine.vms.console(ref);
      if (ctx.stdin.isTTY) ctx.stderr.write(`Connected to VM ${ref}; detach with ${f.detachKeys}\r\n`);
      await attachConsole({ connection, stdin: ctx.stdin, stdout: ctx.stdout, detachKeys: keys });
    });

  const disk = vm.command('disk').description("Manage a VM's disk");
  disk
    .command('resize')
    .description("Grow a stopped VM's disk (the ledger reserves the new size)")
    .argument('<vm>')
    .argument('<size>')
    .action(async (ref: string, text: string) => {
      const engine = await ctx.engine();
      await engine.vms.resizeDisk(ref, size(text, 'size'));
    });

  const snap = vm.command('snapshot').description("Snapshots of a stopped VM's disk");
  for (const action of ['create', 'restore', 'rm'] as const) {
    snap
      .command(action)
      .description(`${action === 'rm' ? 'Remove' : action === 'create' ? 'Create' : 'Restore'} a snapshot`)
      .argument('<vm>')
      .argument('<name>')
      .action(async (ref: string, name: string) => {
        const engine = await ctx.engine();
        await engine.vms.snapshot(ref, action, name);
        ctx.stdout.write(`${name}\n`);
      });
  }
  snap
    .command('ls')
    .description("List a VM's snapshots")
    .argument('<vm>')
    .option('--format <format>', "'table' or 'json'")
    .action(async (ref: string, f: { format?: string }) => {
      const engine = await ctx.engine();
      printList(ctx.stdout, await engine.vms.snapshots(ref), SNAPSHOT_LIST, f);
    });

  const image = vm.command('image').description('Base images for vm create --image');
  image
    .command('import')
    .description('Import a disk image (qcow2, raw) or an ISO as a base image')
    .argument('<file>')
    .argument('<name>')
    .action(async (file: string, name: string) => {
      const engine = await ctx.engine();
      const rec = await engine.vms.images.import(file, name);
      ctx.stdout.write(`${rec.name}\n`);
    });
  image
    .command('ls')
    .alias('list')
    .description('List base images')
    .option('--format <format>', "'table' or 'json'")
    .action(async (f: { format?: string }) => {
      const engine = await ctx.engine();
      printList(ctx.stdout, await engine.vms.images.list(), BASE_IMAGE_LIST, f);
    });
  image
    .command('rm')
    .alias('remove')
    .description('Remove base images (refused while a VM uses one)')
    .argument('<names...>')
    .action(async (names: string[]) => {
      const engine = await ctx.engine();
      await eachVm(ctx, names, async (n) => engine.vms.images.remove(n));
    });
}

async function listVms(ctx: CliContext, f: { quiet: boolean; format?: string }): Promise<void> {
  const engine = await ctx.engine();
  const now = Date.now();
  const rows = (await engine.vms.describeAll()).map((f) => vmListRow(f, now));
  printList(ctx.stdout, rows, VM_LIST, f);
}

const VM_LIST: ListSpec<Record<string, string>> = {
  columns: (
    [
      ['VM ID', 'ID'],
      ['NAME', 'Name'],
      ['STATUS', 'Status'],
      ['CPUS', 'Cpus'],
      ['MEMORY', 'Memory'],
      ['DISK', 'Disk'],
      ['ADDRESSES', 'Addresses'],
      ['PORTS', 'Ports'],
    ] as const
  ).map(([header, field]) => ({ header, cell: (r: Record<string, string>) => r[field] ?? '' })),
  id: (r) => r.ID ?? '',
  headers: { ID: 'VM ID' },
};

// The engine's records, named through its interface (wherever the engine keeps their types).
type Snapshot = Awaited<ReturnType<Engine['vms']['snapshots']>>[number];
type BaseImage = Awaited<ReturnType<Engine['vms']['images']['list']>>[number];

const SNAPSHOT_LIST: ListSpec<Snapshot> = {
  columns: [
    { header: 'ID', cell: (s) => s.id },
    { header: 'NAME', cell: (s) => s.name },
    { header: 'CREATED', cell: (s) => new Date(s.date).toISOString() },
  ],
  id: (s) => s.id,
};

const BASE_IMAGE_LIST: ListSpec<BaseImage> = {
  columns: [
    { header: 'NAME', cell: (i) => i.name },
    { header: 'KIND', cell: (i) => i.kind },
    { header: 'VIRTUAL SIZE', cell: (i) => String(i.virtualSize) },
    { header: 'CREATED', cell: (i) => new Date(i.created).toISOString() },
  ],
  id: (i) => i.name,
};
