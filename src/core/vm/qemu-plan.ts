import type { VmMachine } from './config.ts';

/**
 * A VM as a QEMU command line: a pure function of the VM's resolved resources and the files it uses, so it can be
 * unit-tested and printed. The launcher runs it as is; nothing else decides a QEMU option.
 *
 * Choices: `-nodefaults -no-user-config` (no device or config file we did not name), `-display none`, the serial
 * port on a unix-socket chardev (the console) that also logs to a file (`vm logs`), QMP on its own unix socket,
 * `-S` so the vCPU threads can be pinned before the guest runs a single instruction.
 */
export interface QemuPlanInput {
  readonly name: string;
  readonly accel: 'kvm' | 'tcg';
  readonly machine: VmMachine;
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly memoryPrealloc: boolean;
  readonly kernel?: { readonly path: string; readonly initrd?: string; readonly cmdline: string };
  readonly disk?: { readonly path: string; readonly format: 'qcow2' | 'raw' };
  /** A cloud-init NoCloud seed directory, shown to the guest read-only as a FAT disk labelled cidata. */
  readonly seed?: string;
  /** An ISO shown as a CD-ROM (q35 only), booted before the disk. */
  readonly cdrom?: string;
  readonly nics: readonly { readonly tap: string; readonly mac: string }[];
  readonly qmpSocket: string;
  readonly consoleSocket: string;
  readonly serialLog: string;
  readonly pidFile: string;
  /** Start with the vCPUs stopped (`-S`); QMP `cont` lets them run. */
  readonly paused: boolean;
}

/** Unix socket paths are limited to 107 bytes (sun_path is 108 with the NUL); QEMU refuses longer ones. */
export const MAX_SOCKET_PATH = 107;

export function qemuArgv(p: QemuPlanInput): string[] {
  const mib = Math.floor(p.memoryBytes / (1024 * 1024));
  // A virtio device on microvm sits on virtio-mmio; on q35 on PCI.
  const bus = p.machine === 'microvm' ? 'device' : 'pci';
  const args: string[] = [
    '-name',
    `${p.name},debug-threads=on`,
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-machine',
    p.machine,
    '-accel',
    p.accel,
  ];
  if (p.accel === 'kvm') args.push('-cpu', 'host');
  args.push('-smp', String(p.cpus), '-m', `${mib}M`);
  if (p.memoryPrealloc) {
    args.push(
      '-object',
      `memory-backend-ram,id=hbx-mem,size=${mib}M,prealloc=on`,
      '-machine',
      'memory-backend=hbx-mem',
    );
  }
  if (p.kernel) {
    args.push('-kernel', p.kernel.path);
    if (p.kernel.initrd) args.push('-initrd', p.kernel.initrd);
    args.push('-append', p.kernel.cmdline);
  }
  if (p.disk) {
    args.push(
      '-drive',
      `file=${escapeOpt(p.disk.path)},format=${p.disk.format},if=none,id=hbx-disk,discard=unmap`,
      '-device',
      `virtio-blk-${bus},drive=hbx-disk`,
    );
  }
  if (p.seed) {
    args.push(
      '-drive',
      // QEMU's vvfat driver builds the FAT volume from the directory: no mkfs or ISO tool needed on the host.
      `if=none,id=hbx-seed,readonly=on,format=raw,file.driver=vvfat,file.dir=${escapeOpt(p.seed)},file.label=cidata`,
      '-device',
      `virtio-blk-${bus},drive=hbx-seed`,
    );
  }
  if (p.cdrom) {
    args.push(
      '-drive',
      `file=${escapeOpt(p.cdrom)},format=raw,if=none,id=hbx-cd,media=cdrom,readonly=on`,
      '-device',
      'ide-cd,drive=hbx-cd,bootindex=0',
    );
  }
  p.nics.forEach((n, i) => {
    args.push(
      '-netdev',
      `tap,id=hbx-net${i},ifname=${n.tap},script=no,downscript=no`,
      '-device',
      `virtio-net-${bus},netdev=hbx-net${i},mac=${n.mac}`,
    );
  });
  args.push(
    '-chardev',
    `socket,id=hbx-serial,path=${escapeOpt(p.consoleSocket)},server=on,wait=off,logfile=${escapeOpt(p.serialLog)},logappend=on`,
    '-serial',
    'chardev:hbx-serial',
    '-qmp',
    `unix:${escapeOpt(p.qmpSocket)},server=on,wait=off`,
    '-pidfile',
    p.pidFile,
  );
  if (p.paused) args.push('-S');
  return args;
}

/** QEMU's option syntax doubles a comma inside a value. */
function escapeOpt(value: string): string {
  return value.replaceAll(',', ',,');
}

/**
 * The kernel command line for a direct kernel boot, in the guest's contract: serial console, the kernel's own
 * `ip=` format for the first NIC, `hbx.dns=` for the resolver, and `tsc_early_khz=` under TCG on microvm (without
 * it the guest spins calibrating a TSC that TCG does not tick like hardware). The user's `--append` goes last, so
 * it wins where the kernel takes the last value.
 */
export function kernelCmdline(a: {
  hostname: string;
  accel: 'kvm' | 'tcg';
  machine: VmMachine;
  hostTscKhz: number | undefined;
  nic?: { address: string; gateway: string; prefix: number; dns?: string };
  formatDisk?: boolean;
  append?: string;
}): string {
  const parts = ['console=ttyS0', 'quiet'];
  if (a.accel === 'tcg' && a.machine === 'microvm' && a.hostTscKhz)
    parts.push(`tsc_early_khz=${a.hostTscKhz}`);
  if (a.nic) {
    parts.push(`ip=${a.nic.address}::${a.nic.gateway}:${netmaskOf(a.nic.prefix)}:${a.hostname}:eth0:off`);
    if (a.nic.dns) parts.push(`hbx.dns=${a.nic.dns}`);
  } else {
    // No address: the same parameter still names the guest (its NIC stays down).
    parts.push(`ip=::::${a.hostname}:eth0:off`);
  }
  if (a.formatDisk) parts.push('hbx.mkfs=1');
  if (a.append) parts.push(a.append);
  return parts.join(' ');
}

export function netmaskOf(prefix: number): string {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 0xff).join('.');
}
