/**
 * The guest of the accelerator probe: one 512-byte PC boot sector, assembled here from raw bytes so the probe needs
 * no image, kernel or assembler. The BIOS loads it at 0x7c00 in 16-bit real mode. It then does, in miniature, what
 * every kernel does first — identity-maps memory, enters 64-bit long mode, installs an interrupt table and takes an
 * interrupt through it — reporting each stage on the first serial port (0x3f8, which QEMU emits without any UART
 * set-up), and finally asks QEMU to quit through `isa-debug-exit`. Merely opening /dev/kvm, or running real-mode
 * code, proves little: a para-virtualized /dev/kvm may run the BIOS and then hang on the first interrupt.
 *
 * Serial output of a full run: `HYPERBOX-PROBE:RLI-OK` — R: real mode reached (the BIOS booted us), L: long mode,
 * I: interrupt handler ran, -OK: back from the interrupt.
 */

export const PROBE_PREFIX = 'HYPERBOX-PROBE:';
export const PROBE_MARKER = `${PROBE_PREFIX}RLI-OK`;
/** The I/O port given to `-device isa-debug-exit,iobase=...,iosize=4`; QEMU exits with (value << 1) | 1. */
export const PROBE_EXIT_PORT = 0xf4;
export const PROBE_EXIT_VALUE = 0x10;
export const PROBE_EXIT_STATUS = (PROBE_EXIT_VALUE << 1) | 1;

const LOAD_ADDRESS = 0x7c00;
const COM1 = 0x3f8;
/** Page tables at 0x1000 (PML4), 0x2000 (PDPT), 0x3000 (PD): one 2 MiB page maps the first 2 MiB onto itself. */
const PML4 = 0x1000;
const INT_VECTOR = 0x20;

type Part =
  | number
  | { kind: 'rel8' | 'abs16' | 'abs32'; label: string; addend: number }
  | { kind: 'u16' | 'u32'; value: number };

/** A one-byte jump displacement to `label`, relative to the end of this byte. */
const rel8 = (label: string): Part => ({ kind: 'rel8', label, addend: 0 });
/** The linear address of `label` (plus `addend`) once loaded at 0x7c00, in 2 or 4 little-endian bytes. */
const abs16 = (label: string): Part => ({ kind: 'abs16', label, addend: 0 });
const abs32 = (label: string, addend = 0): Part => ({ kind: 'abs32', label, addend });
const u16 = (value: number): Part => ({ kind: 'u16', value });
const u32 = (value: number): Part => ({ kind: 'u32', value });
const ascii = (text: string): number[] => [...text].map((ch) => ch.charCodeAt(0));

/** A few bytes of x86 with labels: each `emit` is one instruction; fix-ups are patched once every label is placed. */
class Assembler {
  readonly bytes: number[] = [];
  readonly #labels = new Map<string, number>();
  readonly #fixups: { at: number; kind: 'rel8' | 'abs16' | 'abs32'; label: string; addend: number }[] = [];

  emit(...parts: Part[]): void {
    for (const p of parts) {
      if (typeof p === 'number') this.bytes.push(p);
      else if ('value' in p) this.#little(p.value, p.kind === 'u16' ? 2 : 4);
      else {
        this.#fixups.push({ at: this.bytes.length, ...p });
        this.bytes.push(...new Array<number>(p.kind === 'rel8' ? 1 : p.kind === 'abs16' ? 2 : 4).fill(0));
      }
    }
  }
  label(name: string): void {
    this.#labels.set(name, this.bytes.length);
  }
  align(n: number): void {
    while (this.bytes.length % n !== 0) this.bytes.push(0x90);
  }
  #little(value: number, size: number): void {
    for (let i = 0; i < size; i++) this.bytes.push((value >>> (8 * i)) & 0xff);
  }
  link(): number[] {
    for (const f of this.#fixups) {
      const target = this.#labels.get(f.label);
      if (target === undefined) throw new Error(`probe boot sector: no label ${f.label}`);
      if (f.kind === 'rel8') {
        const rel = target - (f.at + 1);
        if (rel < -128 || rel > 127) throw new Error(`probe boot sector: jump to ${f.label} too far`);
        this.bytes[f.at] = rel & 0xff;
      } else {
        const addr = LOAD_ADDRESS + target + f.addend;
        for (let i = 0; i < (f.kind === 'abs16' ? 2 : 4); i++)
          this.bytes[f.at + i] = (addr >>> (8 * i)) & 0xff;
      }
    }
    return this.bytes;
  }
}

export function probeBootSector(): Uint8Array {
  const a = new Assembler();
  // --- 16-bit real mode ---
  a.emit(0xfa); // cli
  a.emit(0x31, 0xc0); // xor ax, ax
  a.emit(0x8e, 0xd8); // mov ds, ax
  a.emit(0x8e, 0xc0); // mov es, ax
  a.emit(0x8e, 0xd0); // mov ss, ax
  a.emit(0xbc, u16(LOAD_ADDRESS)); // mov sp, 0x7c00
  a.emit(0xfc); // cld
  a.emit(0xba, u16(COM1)); // mov dx, COM1
  a.emit(0xbe, abs16('hello')); // mov si, hello
  a.label('print16');
  a.emit(0xac); // lodsb
  a.emit(0x84, 0xc0); // test al, al
  a.emit(0x74, rel8('tables')); // jz tables
  a.emit(0xee); // out dx, al
  a.emit(0xeb, rel8('print16')); // jmp print16
  a.label('tables');
  a.emit(0xbf, u16(PML4)); // mov di, PML4
  a.emit(0xb9, u16(0x1800)); // mov cx, 3 pages in words
  a.emit(0x31, 0xc0); // xor ax, ax
  a.emit(0xf3, 0xab); // rep stosw
  a.emit(0xc7, 0x06, u16(PML4), u16(0x2003)); // mov word [PML4], PDPT | present | writable
  a.emit(0xc7, 0x06, u16(0x2000), u16(0x3003)); // mov word [PDPT], PD | present | writable
  a.emit(0xc7, 0x06, u16(0x3000), u16(0x0083)); // mov word [PD], 2 MiB page | present | writable
  a.emit(0x66, 0x0f, 0x01, 0x16, abs16('gdtr')); // lgdt [gdtr]
  a.emit(0x0f, 0x20, 0xe0); // mov eax, cr4
  a.emit(0x66, 0x83, 0xc8, 0x20); // or eax, PAE
  a.emit(0x0f, 0x22, 0xe0); // mov cr4, eax
  a.emit(0x66, 0xb8, u32(PML4)); // mov eax, PML4
  a.emit(0x0f, 0x22, 0xd8); // mov cr3, eax
  a.emit(0x66, 0xb9, u32(0xc0000080)); // mov ecx, EFER
  a.emit(0x0f, 0x32); // rdmsr
  a.emit(0x66, 0x0d, u32(0x100)); // or eax, LME
  a.emit(0x0f, 0x30); // wrmsr
  a.emit(0x0f, 0x20, 0xc0); // mov eax, cr0
  a.emit(0x66, 0x0d, u32(0x80000001)); // or eax, PG | PE
  a.emit(0x0f, 0x22, 0xc0); // mov cr0, eax
  a.emit(0x66, 0xea, abs32('long'), u16(0x08)); // jmp dword 0x08:long
  // --- 64-bit long mode ---
  a.label('long');
  a.emit(0x66, 0xba, u16(COM1)); // mov dx, COM1   (rdmsr/wrmsr clobbered edx)
  a.emit(0xb0, 'L'.charCodeAt(0)); // mov al, 'L'
  a.emit(0xee); // out dx, al
  a.emit(0x0f, 0x01, 0x1c, 0x25, abs32('idtr')); // lidt [idtr]
  a.emit(0xbc, u32(LOAD_ADDRESS)); // mov esp, 0x7c00
  a.emit(0xcd, INT_VECTOR); // int INT_VECTOR
  a.emit(0xbe, abs32('done')); // mov esi, done
  a.label('print64');
  a.emit(0xac); // lodsb
  a.emit(0x84, 0xc0); // test al, al
  a.emit(0x74, rel8('exit')); // jz exit
  a.emit(0xee); // out dx, al
  a.emit(0xeb, rel8('print64')); // jmp print64
  a.label('exit');
  a.emit(0x66, 0xba, u16(PROBE_EXIT_PORT)); // mov dx, PROBE_EXIT_PORT
  a.emit(0xb0, PROBE_EXIT_VALUE); // mov al, PROBE_EXIT_VALUE
  a.emit(0xee); // out dx, al     (QEMU quits here)
  a.label('halt');
  a.emit(0xf4); // hlt            (without the device: halt until killed)
  a.emit(0xeb, rel8('halt')); // jmp halt
  a.label('handler');
  a.emit(0xb0, 'I'.charCodeAt(0)); // mov al, 'I'
  a.emit(0xee); // out dx, al
  a.emit(0x48, 0xcf); // iretq
  // --- data ---
  a.align(8);
  a.label('gdt');
  a.emit(u32(0), u32(0)); // null descriptor
  a.emit(u32(0), u32(0x00209a00)); // 0x08: 64-bit code, present, ring 0
  a.emit(u32(0), u32(0x00009200)); // 0x10: data
  a.label('gdtr');
  a.emit(u16(23), abs32('gdt'));
  a.label('idtr');
  // Limit and base such that only INT_VECTOR's gate, at `idt`, exists: base = idt - vector * 16.
  a.emit(u16(INT_VECTOR * 16 + 15));
  a.emit(abs32('idt', -INT_VECTOR * 16));
  a.emit(u32(0));
  a.label('idt'); // interrupt gate: handler, selector 0x08, present, DPL 0
  a.emit(abs16('handler'), u16(0x08), 0, 0x8e, u16(0), u32(0), u32(0));
  a.label('hello');
  a.emit(...ascii(`${PROBE_PREFIX}R`), 0);
  a.label('done');
  a.emit(...ascii('-OK\r\n'), 0);
  const code = a.link();
  if (code.length > 510) throw new Error(`probe boot sector: ${code.length} bytes do not fit in 510`);
  const sector = new Uint8Array(512);
  sector.set(code);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}
