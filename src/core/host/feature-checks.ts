import { apt, type HostProbe, type PrerequisiteResult, parseVersion } from './prerequisite-report.ts';

// Kernel features, files and devices: overlayfs, hyperbox's log writer, a static busybox, /dev/kvm.

/** Where scripts/make-busybox-rootfs.sh takes busybox from. */
export const BUSYBOX_PATH = '/bin/busybox';

export async function checkOverlay(probe: HostProbe): Promise<PrerequisiteResult> {
  const base = {
    name: 'overlayfs',
    group: 'containers' as const,
    required: true,
    purpose: 'container root file systems',
    hint: 'modprobe overlay',
  };
  const filesystems = (await probe.readText('/proc/filesystems')) ?? '';
  if (filesystemListed(filesystems, 'overlay'))
    return { ...base, status: 'ok', detail: 'in /proc/filesystems' };
  const modules = `/lib/modules/${probe.kernelRelease()}`;
  const builtin = (await probe.readText(`${modules}/modules.builtin`)) ?? '';
  if (/\/overlay\.ko\b/.test(builtin)) return { ...base, status: 'ok', detail: 'built into the kernel' };
  const dep = (await probe.readText(`${modules}/modules.dep`)) ?? '';
  if (/(^|\/)overlay\.ko(\.\w+)?:/m.test(dep)) {
    return { ...base, status: 'ok', detail: 'loadable module (loaded on first mount)' };
  }
  return {
    ...base,
    status: 'missing',
    detail: 'not in /proc/filesystems and no overlay module',
    hint: 'modprobe overlay (or use a kernel with CONFIG_OVERLAY_FS)',
  };
}

/** Whether /proc/filesystems lists `name` ("nodev\toverlay" or "\text4"). */
export function filesystemListed(procFilesystems: string, name: string): boolean {
  return procFilesystems.split('\n').some((line) => line.trim().split(/\s+/).at(-1) === name);
}

/**
 * hyperbox's own log writer (native/log-writer), built from source by scripts/build.sh: the default log drivers
 * (json-file, local) need it to start a container.
 */
export async function checkLogWriter(probe: HostProbe, file: string): Promise<PrerequisiteResult> {
  const base = {
    name: 'hbx-logwriter',
    group: 'containers' as const,
    required: true,
    purpose: 'log writer for the json-file and local log drivers',
    hint: 'bash scripts/build.sh (needs: apt-get install -y gcc libc6-dev zlib1g-dev)',
  };
  if (!(await probe.exists(file))) return { ...base, status: 'missing', detail: `${file}: not built` };
  const out = await probe.output(file, ['--version']);
  if (out === undefined) return { ...base, status: 'missing', path: file, detail: `${file} does not run` };
  const version = parseVersion(out, /hbx-logwriter version (\S+)/);
  return { ...base, status: 'ok', path: file, ...(version ? { version } : {}) };
}

export async function checkBusybox(probe: HostProbe): Promise<PrerequisiteResult> {
  const base = {
    name: 'busybox-static',
    group: 'images' as const,
    required: false,
    purpose: 'the offline busybox image (demo, tests)',
    hint: apt('busybox-static'),
    package: 'busybox-static',
  };
  const head = await probe.readHead(BUSYBOX_PATH, 64 * 1024);
  if (!head) return { ...base, status: 'missing', detail: `${BUSYBOX_PATH}: not found` };
  const linkage = elfLinkage(head);
  if (linkage !== 'static') {
    return {
      ...base,
      status: 'missing',
      path: BUSYBOX_PATH,
      detail:
        linkage === 'dynamic'
          ? `${BUSYBOX_PATH} is dynamically linked`
          : `${BUSYBOX_PATH} is not an ELF file`,
    };
  }
  const out = await probe.output(BUSYBOX_PATH, ['--help']);
  const version = out === undefined ? undefined : parseVersion(out, /BusyBox v(\S+)/);
  return { ...base, status: 'ok', path: BUSYBOX_PATH, ...(version ? { version } : {}) };
}

/**
 * Whether an ELF executable asks for a program interpreter (PT_INTERP: dynamically linked) or not (static), from
 * its first bytes; 'unknown' when they are not a 64- or 32-bit ELF header with its program headers.
 */
export function elfLinkage(head: Uint8Array): 'static' | 'dynamic' | 'unknown' {
  if (head.length < 52 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) {
    return 'unknown';
  }
  const is64 = head[4] === 2;
  const little = head[5] === 1;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const u16 = (o: number) => view.getUint16(o, little);
  const u32 = (o: number) => view.getUint32(o, little);
  if (is64 && head.length < 64) return 'unknown';
  const phoff = is64 ? Number(view.getBigUint64(32, little)) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  if (phentsize === 0 || phoff + phentsize * phnum > head.length) return 'unknown';
  const PT_INTERP = 3;
  for (let i = 0; i < phnum; i++) {
    if (u32(phoff + i * phentsize) === PT_INTERP) return 'dynamic';
  }
  return 'static';
}

export async function checkKvm(probe: HostProbe): Promise<PrerequisiteResult> {
  const base = {
    name: 'kvm',
    group: 'vms' as const,
    required: false,
    purpose: 'hardware-accelerated VMs',
    hint: 'enable virtualization in the firmware, then modprobe kvm_intel (or kvm_amd)',
  };
  if (await probe.exists('/dev/kvm')) {
    // Present is all a check can say: whether a guest boots is decided by a probe boot.
    return {
      ...base,
      status: 'ok',
      path: '/dev/kvm',
      detail: 'present (usability is decided by a probe boot)',
    };
  }
  return { ...base, status: 'missing', detail: '/dev/kvm: not found (VMs would run without acceleration)' };
}
