import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROBE_EXIT_STATUS, PROBE_PREFIX, probeBootSector } from './probe-boot-sector.ts';

describe('probe boot sector', () => {
  it('is one 512-byte sector with the BIOS boot signature', () => {
    const s = probeBootSector();
    assert.equal(s.length, 512);
    assert.equal(s[510], 0x55);
    assert.equal(s[511], 0xaa);
    assert.equal(s[0], 0xfa, 'starts with cli');
  });

  it('carries the stage prefix and points its string loads at it', () => {
    const s = probeBootSector();
    const text = Buffer.from(s).toString('latin1');
    const at = text.indexOf(`${PROBE_PREFIX}R\0`);
    assert.ok(at > 0, 'real-mode greeting present');
    // `mov si, imm16` (0xbe) at offset 0x10 loads the greeting's address once loaded at 0x7c00.
    assert.equal(s[0x10], 0xbe);
    assert.equal(s[0x11]! | (s[0x12]! << 8), 0x7c00 + at);
    assert.ok(text.includes('-OK\r\n\0'));
  });

  it('exits QEMU with status 33 through isa-debug-exit', () => {
    assert.equal(PROBE_EXIT_STATUS, 33);
  });
});
