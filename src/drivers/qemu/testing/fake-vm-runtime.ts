import { UnavailableError } from '../../../core/errors.ts';
import type { ProcessIdentity } from '../../../core/process.ts';
import { complaintIn } from '../launcher.ts';
import type { Launched, LaunchRequest, PinnedVcpu, VcpuThread, VmControl, VmRuntime } from '../vm-runtime.ts';

/** One QEMU the fake pretends to run. */
export interface FakeMachine {
  readonly request: LaunchRequest;
  readonly qemu: ProcessIdentity;
  readonly waiter: ProcessIdentity;
  readonly vcpus: number;
  paused: boolean;
  gone: boolean;
  pinned: PinnedVcpu[];
}

/** The machine types the fake knows, as QEMU's would. */
const MACHINES = new Set(['microvm', 'q35', 'pc', 'none']);
const UNSUPPORTED_MACHINE = 'unsupported machine type';

/**
 * A VmRuntime in memory, for unit tests of the VM service without root or QEMU: machines are records, their
 * "processes" identities no real process has (start time 0), the exit files and logs maps. It passes the same
 * suite as QEMU (vm-runtime.suite.ts). Tests steer it: a launch that fails with QEMU's complaint, a guest that
 * ignores the ACPI button, a QEMU that ends unasked (`exit`) or vanishes with its waiter (`vanish`).
 */
export class FakeVmRuntime implements VmRuntime {
  readonly #machines: FakeMachine[] = [];
  readonly #exits = new Map<string, number>();
  readonly #logs = new Map<string, string>();
  #nextPid = 1_000_000;
  /** The complaint of the next launch's QEMU, which then exits with status 1 (a bad kernel, a missing tap). */
  failNextLaunch: string | undefined;
  /** false: guests ignore the ACPI button (no ACPI support, or hung). */
  guestsObeyPowerDown = true;

  /** Every machine launched, oldest first. */
  get machines(): readonly FakeMachine[] {
    return this.#machines;
  }

  /** The machines still running. */
  running(): FakeMachine[] {
    return this.#machines.filter((m) => !m.gone);
  }

  async launch(req: LaunchRequest): Promise<Launched> {
    this.#exits.delete(req.exitFile);
    const logOffset = (this.#logs.get(req.logFile) ?? '').length;
    const machine = req.argv.find((a, i) => req.argv[i - 1] === '-machine' && !a.includes('='));
    const complaint =
      this.failNextLaunch ??
      (machine !== undefined && !MACHINES.has(machine)
        ? `unsupported machine type: "${machine}"`
        : undefined);
    this.failNextLaunch = undefined;
    if (complaint !== undefined) {
      this.#log(req.logFile, `qemu-system-x86_64: ${complaint}\n`);
      if (complaint === UNSUPPORTED_MACHINE)
        this.#log(req.logFile, 'Use -machine help to list supported machines\n');
      this.#exits.set(req.exitFile, 1);
      throw new UnavailableError(`QEMU failed to start: ${this.complaint(req.logFile, logOffset)}`);
    }
    const smp = Number(req.argv[req.argv.indexOf('-smp') + 1]);
    const m: FakeMachine = {
      request: req,
      qemu: { pid: this.#nextPid++, startTime: 0 },
      waiter: { pid: this.#nextPid++, startTime: 0 },
      vcpus: Number.isInteger(smp) && smp > 0 ? smp : 1,
      paused: req.argv.includes('-S'),
      gone: false,
      pinned: [],
    };
    this.#machines.push(m);
    return { qemu: m.qemu, waiter: m.waiter, logOffset };
  }

  async control(qmpSocket: string): Promise<VmControl> {
    const m = this.running().find((x) => x.request.qmpSocket === qmpSocket);
    if (!m) throw new UnavailableError(`QMP ${qmpSocket}: connect ECONNREFUSED ${qmpSocket}`);
    let closed = false;
    const live = () => {
      if (closed || m.gone) throw new UnavailableError('QEMU closed the QMP connection');
    };
    return {
      vcpuThreads: async () => {
        live();
        return Array.from({ length: m.vcpus }, (_, index) => ({ index, threadId: m.qemu.pid * 100 + index }));
      },
      resume: async () => {
        live();
        m.paused = false;
      },
      powerDown: async () => {
        live();
        // A paused guest runs no code: it cannot answer the button.
        if (this.guestsObeyPowerDown && !m.paused) this.#end(m, 0);
      },
      quit: async () => {
        live();
        this.#end(m, 0);
      },
      close: () => {
        closed = true;
      },
    };
  }

  async pin(vcpus: readonly VcpuThread[], cpus: readonly number[]): Promise<PinnedVcpu[]> {
    const out = [...vcpus]
      .sort((a, b) => a.index - b.index)
      .map((v) => ({ index: v.index, threadId: v.threadId, cpu: cpus[v.index % cpus.length]! }));
    const m = this.#machines.find((x) => out.some((v) => Math.floor(v.threadId / 100) === x.qemu.pid));
    if (m) m.pinned = out;
    return out;
  }

  isAlive(p: ProcessIdentity | undefined): boolean {
    return p !== undefined && this.#owner(p) !== undefined;
  }

  kill(p: ProcessIdentity): boolean {
    const m = this.#owner(p);
    if (!m || m.qemu.pid !== p.pid) return false;
    // The waiter's shell reports a signal as 128 + its number.
    this.#log(m.request.logFile, 'Killed\n');
    this.#end(m, 137);
    return true;
  }

  async waitExit(p: ProcessIdentity | undefined, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.isAlive(p)) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  exitStatus(exitFile: string): number | undefined {
    return this.#exits.get(exitFile);
  }

  complaint(logFile: string, fromOffset = 0): string | undefined {
    return complaintIn((this.#logs.get(logFile) ?? '').slice(fromOffset));
  }

  /** QEMU ends unasked (a crash, a guest that powered off, kill -9 from outside), saying `complaint` first. */
  exit(qemu: ProcessIdentity, status: number, complaint?: string): void {
    const m = this.#owner(qemu);
    if (!m) throw new Error(`no running fake QEMU with pid ${qemu.pid}`);
    if (complaint) this.#log(m.request.logFile, `qemu-system-x86_64: ${complaint}\n`);
    this.#end(m, status);
  }

  /** QEMU and its waiter both gone with no exit status written (the host rebooted, kill -9 of the group). */
  vanish(qemu: ProcessIdentity): void {
    const m = this.#owner(qemu);
    if (!m) throw new Error(`no running fake QEMU with pid ${qemu.pid}`);
    m.gone = true;
  }

  #owner(p: ProcessIdentity): FakeMachine | undefined {
    return this.running().find(
      (m) =>
        (m.qemu.pid === p.pid && m.qemu.startTime === p.startTime) ||
        (m.waiter.pid === p.pid && m.waiter.startTime === p.startTime),
    );
  }

  #end(m: FakeMachine, status: number): void {
    m.gone = true;
    this.#exits.set(m.request.exitFile, status);
  }

  #log(file: string, text: string): void {
    this.#logs.set(file, (this.#logs.get(file) ?? '') + text);
  }
}
