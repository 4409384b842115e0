import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSeccompProfile } from './seccomp.ts';

const allowed = (caps: string[]) => {
  const profile = defaultSeccompProfile({ capabilities: caps, arch: 'x64' });
  return new Set(
    profile.syscalls.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names),
  );
};

describe('defaultSeccompProfile', () => {
  it('denies by default with EPERM and allows the ordinary calls', () => {
    const profile = defaultSeccompProfile({ capabilities: [], arch: 'x64' });
    assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(profile.defaultErrnoRet, 1);
    assert.deepEqual(profile.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    const names = allowed([]);
    for (const name of ['read', 'write', 'openat', 'execve', 'exit_group', 'socket', 'futex']) {
      assert.ok(names.has(name), name);
    }
    assert.ok(!names.has('chroot'));
    assert.ok(allowed(['CAP_SYS_CHROOT']).has('chroot'), 'the default capability set brings chroot');
  });

  it('keeps the host-reaching calls out unless the capability was granted', () => {
    const base = allowed([]);
    for (const name of [
      'mount',
      'unshare',
      'setns',
      'kexec_load',
      'init_module',
      'reboot',
      'bpf',
      'keyctl',
    ]) {
      assert.ok(!base.has(name), name);
    }
    assert.ok(allowed(['CAP_SYS_ADMIN']).has('mount'));
    assert.ok(allowed(['CAP_SYS_TIME']).has('settimeofday'));
  });

  it('filters clone namespace flags without CAP_SYS_ADMIN and makes clone3 fall back', () => {
    const profile = defaultSeccompProfile({ capabilities: [], arch: 'x64' });
    const clone = profile.syscalls.find((s) => s.names.includes('clone'));
    assert.equal(clone?.args?.[0]?.op, 'SCMP_CMP_MASKED_EQ');
    const clone3 = profile.syscalls.find((s) => s.names.includes('clone3'));
    assert.deepEqual([clone3?.action, clone3?.errnoRet], ['SCMP_ACT_ERRNO', 38]);
    const admin = defaultSeccompProfile({ capabilities: ['CAP_SYS_ADMIN'], arch: 'arm64' });
    assert.deepEqual(admin.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    const rules = admin.syscalls.filter((s) => s.names.includes('clone3'));
    assert.deepEqual(
      rules.map((r) => r.action),
      ['SCMP_ACT_ALLOW'],
      'one rule per call: libseccomp rejects conflicts',
    );
  });

  it('lists no call twice among the unconditional rules', () => {
    const profile = defaultSeccompProfile({
      capabilities: ['CAP_SYS_ADMIN', 'CAP_SYSLOG', 'CAP_BPF'],
      arch: 'x64',
    });
    const names = profile.syscalls[0]!.names;
    assert.equal(new Set(names).size, names.length);
  });
});
