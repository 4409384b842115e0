import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  PROBE_EXIT_PORT,
  PROBE_MARKER,
  PROBE_PREFIX,
  probeBootSector,
} from '../../core/host/probe-boot-sector.ts';

/**
 * Which accelerator VMs get, decided by booting a probe guest (core/host/probe-boot-sector.ts) under QEMU: KVM
 * counts as usable only when that guest gets all the way through within the timeout. The presence of /dev/kvm
 * is not enough: inside some clouds it is a para-virtualized device that runs the BIOS and then hangs the guest.
 */
export interface AcceleratorInfo {
  accel: 'kvm' | 'tcg';
  kvmUsable: boolean;
  /** One line, e.g. "KVM: /dev/kvm present but a probe guest did not boot within 3 s (...)". */
  reason: string;
  /** ISO date of the probe. */
  probedAt: string;
  /** The KVM probe boot, when one was run (not when /dev/kvm or QEMU is missing). */
  kvmProbe?: ProbeBootResult;
  /** The same probe under TCG: proves the probe (and QEMU) work, and that VMs can run at all. */
  tcgProbe?: ProbeBootResult;
}

export interface ProbeBootResult {
  accel: 'kvm' | 'tcg';
  booted: boolean;
  /** The stage letters the guest printed after PROBE_PREFIX: R real mode, L long mode, I interrupt taken. */
  stages: string;
  elapsedMs: number;
  /** True when QEMU was still running at the deadline and was killed. */
  timedOut: boolean;
  /** QEMU's exit status, or undefined when it was killed. */
  exitStatus?: number;
  /** QEMU's first line of complaint, when it failed on its own (e.g. "Could not access KVM kernel module"). */
  error?: string;
}

export const PROBE_TIMEOUT_MS = 3000;

/**
 * Boots the probe sector under `accel` and watches the serial port. Resolves once QEMU is gone: it quits by itself
 * after a full run; at the deadline it is killed (SIGKILL to its own pid, which this function started).
 */
export async function probeBoot(opts: {
  qemu: string;
  accel: 'kvm' | 'tcg';
  timeoutMs?: number;
  /** Where the boot sector file goes (a private directory is made below it and removed). */
  tmpDir?: string;
}): Promise<ProbeBootResult> {
  const timeoutMs = opts.timeoutMs ?? PROBE_TIMEOUT_MS;
  const base = opts.tmpDir ?? os.tmpdir();
  fs.mkdirSync(base, { recursive: true, mode: 0o711 });
  const dir = fs.mkdtempSync(path.join(base, 'accel-probe-'));
  const image = path.join(dir, 'probe.img');
  fs.writeFileSync(image, probeBootSector());
  try {
    return await runQemu(opts.qemu, opts.accel, image, timeoutMs);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function runQemu(
  qemu: string,
  accel: 'kvm' | 'tcg',
  image: string,
  timeoutMs: number,
): Promise<ProbeBootResult> {
  const args = [
    '-accel',
    accel,
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-m',
    '16',
    '-serial',
    'stdio',
    '-device',
    `isa-debug-exit,iobase=0x${PROBE_EXIT_PORT.toString(16)},iosize=0x04`,
    '-drive',
    `format=raw,file=${image}`,
  ];
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let serial = '';
    let stderr = '';
    let timedOut = false;
    let spawnError: string | undefined;
    child.stdout.setEncoding('latin1');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (serial.length < 4096) serial += chunk;
    });
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      spawnError = err.message;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const elapsedMs = Math.round(performance.now() - started);
      const booted = serial.includes(PROBE_MARKER);
      const error = spawnError ?? (booted || timedOut ? undefined : qemuComplaint(stderr));
      resolve({
        accel,
        booted,
        stages: stagesOf(serial),
        elapsedMs,
        timedOut: timedOut && !booted,
        ...(code !== null ? { exitStatus: code } : {}),
        ...(error ? { error } : {}),
      });
    });
  });
}

/** The stage letters after the prefix: "RL" when the guest reached long mode and stopped there. */
export function stagesOf(serial: string): string {
  const at = serial.indexOf(PROBE_PREFIX);
  if (at < 0) return '';
  return /^[RLI]*/.exec(serial.slice(at + PROBE_PREFIX.length))![0];
}

/** QEMU's error line without its program-name prefix; warnings (e.g. unsupported CPUID bits) are skipped. */
function qemuComplaint(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^qemu-system-\w+: /, '').trim())
    .filter((l) => l !== '' && !l.startsWith('warning:'));
  return lines[0] ?? (stderr.trim() === '' ? undefined : stderr.trim().split('\n')[0]);
}

/** What the stages reached say about how far the guest got, for the reason line. */
export function stageStory(stages: string): string {
  if (stages.includes('I')) return 'it took an interrupt but never returned from it';
  if (stages.includes('L')) return 'it reached 64-bit long mode, then hung on its first interrupt';
  if (stages.includes('R')) return 'it started in real mode but never reached 64-bit long mode';
  return 'the firmware never handed over to it';
}

/**
 * The accelerator decision: KVM when /dev/kvm exists and a probe guest boots under it within the timeout; else TCG,
 * with the reason in one line. `qemu` undefined means QEMU is not installed (VMs cannot run at all).
 */
export async function probeAccelerator(opts: {
  qemu: string | undefined;
  kvmDevice: string;
  timeoutMs?: number;
  tmpDir?: string;
  now?: () => Date;
}): Promise<AcceleratorInfo> {
  const probedAt = (opts.now?.() ?? new Date()).toISOString();
  const timeoutMs = opts.timeoutMs ?? PROBE_TIMEOUT_MS;
  const seconds = `${Number((timeoutMs / 1000).toFixed(1))} s`;
  if (!opts.qemu) {
    return {
      accel: 'tcg',
      kvmUsable: false,
      reason: 'QEMU: qemu-system-x86_64 not found, so no VM can run (apt-get install -y qemu-system-x86)',
      probedAt,
    };
  }
  const probeOpts = { qemu: opts.qemu, timeoutMs, ...(opts.tmpDir ? { tmpDir: opts.tmpDir } : {}) };
  const hasDevice = fs.existsSync(opts.kvmDevice);
  const kvmProbe = hasDevice ? await probeBoot({ ...probeOpts, accel: 'kvm' }) : undefined;
  if (kvmProbe?.booted) {
    return {
      accel: 'kvm',
      kvmUsable: true,
      reason: `KVM: ${opts.kvmDevice} present and a probe guest booted in ${kvmProbe.elapsedMs} ms`,
      probedAt,
      kvmProbe,
    };
  }
  const tcgProbe = await probeBoot({ ...probeOpts, accel: 'tcg' });
  const tcgNote = tcgProbe.booted
    ? `; TCG emulation works (probe booted in ${tcgProbe.elapsedMs} ms)`
    : `; TCG emulation failed too: ${tcgProbe.error ?? stageStory(tcgProbe.stages)}`;
  let why: string;
  if (!kvmProbe) why = `${opts.kvmDevice} not present (no kvm module, or no hardware virtualization)`;
  else if (kvmProbe.error) why = `${opts.kvmDevice} present but QEMU refused it: ${kvmProbe.error}`;
  else
    why = `${opts.kvmDevice} present but a probe guest did not boot within ${seconds} (${stageStory(kvmProbe.stages)})`;
  return {
    accel: 'tcg',
    kvmUsable: false,
    reason: `KVM: ${why}${tcgNote}`,
    probedAt,
    ...(kvmProbe ? { kvmProbe } : {}),
    tcgProbe,
  };
}
