import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { complaintIn } from './launcher.ts';

describe('QEMU log complaints', () => {
  it("is QEMU's last error line, warnings and the waiter shell's own lines left out", () => {
    const log = [
      "qemu-system-x86_64: warning: host doesn't support requested feature",
      'qemu-system-x86_64: -netdev tap,ifname=hbxt1: could not configure /dev/net/tun (hbxt1): Device or resource busy',
      'Killed',
      '',
    ].join('\n');
    assert.equal(
      complaintIn(log),
      '-netdev tap,ifname=hbxt1: could not configure /dev/net/tun (hbxt1): Device or resource busy',
    );
  });

  it("takes the loaders' `qemu: ` lines too", () => {
    assert.equal(complaintIn('qemu: invalid kernel header\n'), 'invalid kernel header');
  });

  it('is nothing when QEMU said nothing but a signal ended it', () => {
    assert.equal(complaintIn('Segmentation fault (core dumped)\n'), undefined);
    assert.equal(complaintIn('Killed\n'), undefined);
    assert.equal(
      complaintIn("qemu-system-x86_64: warning: TCG doesn't support requested feature\n"),
      undefined,
    );
  });
});
