import type { OciDeviceRule, OciMount } from './oci-types.ts';

/**
 * What every container gets before the user's mounts: the kernel file systems a Linux program expects, as docker
 * sets them up. /sys and the cgroup tree are read-only so a container cannot reconfigure the host through them;
 * --privileged makes /sys writable.
 */
export function defaultMounts(opts: { privileged: boolean }): OciMount[] {
  const sysOptions = ['nosuid', 'noexec', 'nodev', opts.privileged ? 'rw' : 'ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      // newinstance: the container's ptys are its own; gid 5 is the conventional "tty" group.
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: sysOptions },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', opts.privileged ? 'rw' : 'ro'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${64 * 1024 * 1024}`],
    },
  ];
}

/** Files under /proc and /sys that leak host information or control the host: hidden (bind-mounted over). */
export const MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Visible but read-only: writing to them would reconfigure the host's kernel. */
export const READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

/**
 * The device cgroup rules: deny everything, then allow creating any node (it cannot be opened unless allowed
 * below) and using the harmless character devices. runc itself creates the nodes null, zero, full, random,
 * urandom, tty and the /dev/ptmx link, and /dev/console for a terminal.
 */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  charDevice(1, 3), // null
  charDevice(1, 5), // zero
  charDevice(1, 7), // full
  charDevice(1, 8), // random
  charDevice(1, 9), // urandom
  charDevice(5, 0), // tty
  charDevice(5, 1), // console
  charDevice(5, 2), // ptmx
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // pts/*
];

/** --privileged: every device of the host may be used. */
export const PRIVILEGED_DEVICE_RULES: readonly OciDeviceRule[] = [{ allow: true, access: 'rwm' }];

function charDevice(major: number, minor: number): OciDeviceRule {
  return { allow: true, type: 'c', major, minor, access: 'rwm' };
}
