import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { probeAccelerator, probeBoot, stageStory, stagesOf } from './kvm-probe.ts';

const qemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).stdout?.toString().trim() || undefined;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hbx-kvm-probe-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A stand-in QEMU for the failure paths: a script with the real one's calling convention. */
function fakeQemu(name: string, body: string): string {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

describe('accelerator probe', () => {
  it('reads the stages the guest reached from its serial output', () => {
    assert.equal(stagesOf('junk HYPERBOX-PROBE:RLI-OK\r\n'), 'RLI');
    assert.equal(stagesOf('HYPERBOX-PROBE:RL'), 'RL');
    assert.equal(stagesOf('SeaBIOS'), '');
    assert.match(stageStory('RL'), /long mode, then hung on its first interrupt/);
    assert.match(stageStory(''), /firmware never handed over/);
  });

  it('boots the probe guest under TCG: the probe itself can succeed', {
    skip: !qemu && 'no QEMU',
  }, async () => {
    const r = await probeBoot({ qemu: qemu!, accel: 'tcg', tmpDir: scratch });
    assert.equal(r.booted, true, JSON.stringify(r));
    assert.equal(r.stages, 'RLI');
    assert.equal(r.exitStatus, 33);
    assert.equal(r.timedOut, false);
    assert.ok(r.elapsedMs < 3000);
    assert.deepEqual(fs.readdirSync(scratch), [], 'boot sector file removed');
  });

  it('kills a guest that does not finish by the deadline, and says how far it got', async () => {
    const hang = fakeQemu('hang-qemu', `printf 'HYPERBOX-PROBE:RL'; exec sleep 30`);
    const started = Date.now();
    const r = await probeBoot({ qemu: hang, accel: 'kvm', timeoutMs: 500, tmpDir: scratch });
    assert.ok(Date.now() - started < 5000);
    assert.equal(r.booted, false);
    assert.equal(r.timedOut, true);
    assert.equal(r.stages, 'RL');
    assert.equal(r.exitStatus, undefined);
  });

  it('reports QEMU refusing the accelerator in the reason line', async () => {
    const refuse = fakeQemu(
      'refuse-qemu',
      `for a in "$@"; do [ "$a" = kvm ] && { echo "qemu-system-x86_64: warning: x" >&2; echo "qemu-system-x86_64: Could not access KVM kernel module: Permission denied" >&2; exit 1; }; done
printf 'HYPERBOX-PROBE:RLI-OK\\r\\n'; exit 33`,
    );
    const device = path.join(scratch, 'kvm');
    fs.writeFileSync(device, '');
    const info = await probeAccelerator({ qemu: refuse, kvmDevice: device, tmpDir: scratch });
    assert.equal(info.accel, 'tcg');
    assert.equal(info.kvmUsable, false);
    assert.match(info.reason, /QEMU refused it: Could not access KVM kernel module: Permission denied/);
    assert.match(info.reason, /TCG emulation works/);
    fs.rmSync(device);
  });

  it('chooses TCG without probing KVM when the device is absent, and names the missing QEMU', async () => {
    const info = await probeAccelerator({
      qemu: fakeQemu('ok-qemu', `printf 'HYPERBOX-PROBE:RLI-OK'; exit 33`),
      kvmDevice: path.join(scratch, 'no-such-kvm'),
    });
    assert.equal(info.accel, 'tcg');
    assert.match(info.reason, /no-such-kvm not present/);
    assert.equal(info.kvmProbe, undefined);
    const none = await probeAccelerator({ qemu: undefined, kvmDevice: '/dev/kvm' });
    assert.match(none.reason, /qemu-system-x86_64 not found/);
  });

  it('chooses KVM when the guest boots under it', async () => {
    const device = path.join(scratch, 'kvm-ok');
    fs.writeFileSync(device, '');
    const info = await probeAccelerator({
      qemu: fakeQemu('good-qemu', `printf 'HYPERBOX-PROBE:RLI-OK'; exit 33`),
      kvmDevice: device,
      tmpDir: scratch,
    });
    assert.equal(info.accel, 'kvm');
    assert.equal(info.kvmUsable, true);
    assert.match(info.reason, /probe guest booted in \d+ ms/);
    fs.rmSync(device);
  });
});
