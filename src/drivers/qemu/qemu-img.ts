import { InternalError } from '../../core/errors.ts';
import type { QemuSnapshot } from '../../core/vm/snapshot.ts';
import { runCommand } from '../proc/run.ts';

/**
 * qemu-img, for the VMs' disks: thin qcow2 clones of base images (a backing file, nothing copied), empty disks,
 * resizing, internal snapshots, and `info` (validated: only the fields used are read).
 */
export interface ImageInfo {
  readonly format: string;
  readonly virtualSize: number;
  readonly actualSize: number;
  readonly backingFile?: string;
  readonly snapshots: readonly QemuSnapshot[];
}

export class QemuImg {
  readonly #bin: string;
  constructor(bin = 'qemu-img') {
    this.#bin = bin;
  }

  async info(file: string): Promise<ImageInfo> {
    const { stdout } = await runCommand(this.#bin, ['info', '--force-share', '--output=json', file]);
    let doc: unknown;
    try {
      doc = JSON.parse(stdout);
    } catch {
      throw new InternalError(`qemu-img info ${file}: output is not JSON`);
    }
    if (typeof doc !== 'object' || doc === null)
      throw new InternalError(`qemu-img info ${file}: not an object`);
    const d = doc as Record<string, unknown>;
    if (typeof d.format !== 'string' || typeof d['virtual-size'] !== 'number')
      throw new InternalError(`qemu-img info ${file}: no format or virtual-size`);
    const snaps = Array.isArray(d.snapshots) ? d.snapshots : [];
    return {
      format: d.format,
      virtualSize: d['virtual-size'],
      actualSize: typeof d['actual-size'] === 'number' ? d['actual-size'] : 0,
      ...(typeof d['backing-filename'] === 'string' ? { backingFile: d['backing-filename'] } : {}),
      snapshots: snaps.map((s: Record<string, unknown>) => ({
        id: String(s.id),
        name: String(s.name),
        date: Number(s['date-sec'] ?? 0) * 1000,
        vmStateSize: Number(s['vm-state-size'] ?? 0),
      })),
    };
  }

  /** An empty qcow2 disk of `bytes` (thin: nothing is allocated until written). */
  async create(file: string, bytes: number): Promise<void> {
    await runCommand(this.#bin, ['create', '-q', '-f', 'qcow2', file, String(bytes)]);
  }

  /** A qcow2 whose reads fall through to `backing` until written: the base image is shared, never changed. */
  async createClone(file: string, backing: { path: string; format: string }, bytes: number): Promise<void> {
    await runCommand(this.#bin, [
      'create',
      '-q',
      '-f',
      'qcow2',
      '-b',
      backing.path,
      '-F',
      backing.format,
      file,
      String(bytes),
    ]);
  }

  /** A base image in qcow2 (raw and other inputs are converted; qcow2 is copied compactly). */
  async convert(input: string, inputFormat: string, output: string): Promise<void> {
    await runCommand(this.#bin, ['convert', '-q', '-f', inputFormat, '-O', 'qcow2', input, output]);
  }

  async resize(file: string, bytes: number): Promise<void> {
    await runCommand(this.#bin, ['resize', '-q', file, String(bytes)]);
  }

  async snapshotCreate(file: string, name: string): Promise<void> {
    await runCommand(this.#bin, ['snapshot', '-c', name, file]);
  }
  async snapshotApply(file: string, name: string): Promise<void> {
    await runCommand(this.#bin, ['snapshot', '-a', name, file]);
  }
  async snapshotDelete(file: string, name: string): Promise<void> {
    await runCommand(this.#bin, ['snapshot', '-d', name, file]);
  }
}
