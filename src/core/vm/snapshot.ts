/** An internal qcow2 snapshot of a VM's disk, as `qemu-img snapshot -l` lists it. */
export interface QemuSnapshot {
  readonly id: string;
  readonly name: string;
  readonly date: number;
  readonly vmStateSize: number;
}
