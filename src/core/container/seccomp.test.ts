import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from './capabilities.ts';
import type { OciSeccomp } from './oci-types.ts';
import { DEFAULT_PROFILE, defaultSeccompProfile, deliberateDifferences } from './seccomp.ts';
import { type ConditionalProfile, kernelVersionOf, resolveProfile, seccompArchOf } from './seccomp-rules.ts';

const EPERM = 1;
const ENOSYS = 38;
const AF_INET = 2;
const AF_ALG = 38;
const AF_VSOCK = 40;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNET = 0x40000000;
const SIGCHLD = 17;
const CLONE_THREAD_FLAGS = 0x3d0f00; // what glibc's pthread_create passes

/** What a call with these arguments meets: 'allow', or the errno it fails with. */
function verdict(profile: OciSeccomp, name: string, args: number[] = []): 'allow' | number {
  const matching = profile.syscalls.filter(
    (rule) =>
      rule.names.includes(name) &&
      (rule.args ?? []).every((cmp) => {
        const arg = args[cmp.index] ?? 0;
        switch (cmp.op) {
          case 'SCMP_CMP_EQ':
            return arg === cmp.value;
          case 'SCMP_CMP_NE':
            return arg !== cmp.value;
          case 'SCMP_CMP_LT':
            return arg < cmp.value;
          case 'SCMP_CMP_GT':
            return arg > cmp.value;
          case 'SCMP_CMP_MASKED_EQ':
            return Number(BigInt(arg) & BigInt(cmp.value)) === (cmp.valueTwo ?? 0);
          default:
            throw new Error(`no evaluation for ${cmp.op}`);
        }
      }),
  );
  const outcomes = new Set(matching.map((r) => (r.action === 'SCMP_ACT_ALLOW' ? 'allow' : r.errnoRet)));
  assert.ok(outcomes.size <= 1, `${name}(${args}) matches rules with different actions`);
  if (outcomes.size === 1) return [...outcomes][0] as 'allow' | number;
  assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
  return profile.defaultErrnoRet ?? EPERM;
}

const NEW_KERNEL = '6.1.0-13-amd64';
const profileFor = (caps: readonly string[], opts: { arch?: string; kernelRelease?: string } = {}) =>
  defaultSeccompProfile({
    capabilities: caps,
    arch: opts.arch ?? 'x64',
    kernelRelease: opts.kernelRelease ?? NEW_KERNEL,
  });
const withCaps = (...caps: string[]) => [...DEFAULT_CAPABILITIES, ...caps];

describe('defaultSeccompProfile', () => {
  it('denies by default with EPERM on x86_64 and its i386 and x32 ABIs, and allows the ordinary calls', () => {
    const profile = profileFor(DEFAULT_CAPABILITIES);
    assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(profile.defaultErrnoRet, EPERM);
    assert.deepEqual(profile.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    for (const name of ['read', 'write', 'openat', 'execve', 'exit_group', 'futex', 'arch_prctl', 'chroot']) {
      assert.equal(verdict(profile, name), 'allow', name);
    }
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
      assert.equal(verdict(profile, name), EPERM, name);
    }
    assert.equal(verdict(profileFor([]), 'chroot'), EPERM, 'chroot comes with CAP_SYS_CHROOT');
  });

  it('refuses io_uring whatever the capabilities', () => {
    for (const caps of [[], DEFAULT_CAPABILITIES, ALL_CAPABILITIES]) {
      for (const name of ['io_uring_setup', 'io_uring_enter', 'io_uring_register']) {
        assert.equal(verdict(profileFor(caps), name), EPERM, `${name} with ${caps.length} capabilities`);
      }
    }
  });

  it('refuses socket(2) for AF_VSOCK and AF_ALG only, even with every capability', () => {
    for (const caps of [DEFAULT_CAPABILITIES, ALL_CAPABILITIES]) {
      const profile = profileFor(caps);
      assert.equal(verdict(profile, 'socket', [AF_VSOCK, 1, 0]), EPERM);
      assert.equal(verdict(profile, 'socket', [AF_ALG, 5, 0]), EPERM);
      for (const family of [0, 1, AF_INET, 10, 16, 17, 37, 39, 41, 45]) {
        assert.equal(verdict(profile, 'socket', [family, 1, 0]), 'allow', `family ${family}`);
      }
    }
    // The i386 ABI's socketcall(2) carries the family behind a pointer; docker allows it too (see seccomp.ts).
    assert.equal(verdict(profileFor(DEFAULT_CAPABILITIES), 'socketcall', [1]), 'allow');
  });

  it('lets clone create namespaces only with CAP_SYS_ADMIN, and makes clone3 fall back to clone', () => {
    const plain = profileFor(DEFAULT_CAPABILITIES);
    assert.equal(verdict(plain, 'clone', [SIGCHLD]), 'allow', 'fork');
    assert.equal(verdict(plain, 'clone', [CLONE_THREAD_FLAGS]), 'allow', 'a thread');
    assert.equal(verdict(plain, 'clone', [CLONE_NEWUSER | SIGCHLD]), EPERM);
    assert.equal(verdict(plain, 'clone', [CLONE_NEWNET]), EPERM);
    assert.equal(verdict(plain, 'clone3'), ENOSYS);
    const admin = profileFor(withCaps('CAP_SYS_ADMIN'));
    assert.equal(verdict(admin, 'clone', [CLONE_NEWUSER | SIGCHLD]), 'allow');
    assert.equal(verdict(admin, 'clone3'), 'allow');
    assert.equal(verdict(admin, 'unshare'), 'allow');
    // s390 takes the flags as clone's second argument.
    const s390 = profileFor(DEFAULT_CAPABILITIES, { arch: 's390x' });
    assert.deepEqual(s390.architectures, ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390']);
    assert.equal(verdict(s390, 'clone', [0, CLONE_NEWNET]), EPERM);
    assert.equal(verdict(s390, 'clone', [CLONE_NEWNET, SIGCHLD]), 'allow');
  });

  it('allows only the personality values that do not change what the process can do', () => {
    const profile = profileFor(DEFAULT_CAPABILITIES);
    for (const value of [0, 8, 0x20000, 0x20008, 0xffffffff]) {
      assert.equal(verdict(profile, 'personality', [value]), 'allow', `0x${value.toString(16)}`);
    }
    assert.equal(verdict(profile, 'personality', [0x0040000]), EPERM, 'ADDR_NO_RANDOMIZE');
  });

  it('gates calls by capability, kernel and architecture', () => {
    assert.equal(verdict(profileFor(DEFAULT_CAPABILITIES), 'ptrace'), 'allow', 'safe from Linux 4.8');
    assert.equal(
      verdict(profileFor(DEFAULT_CAPABILITIES, { kernelRelease: '4.4.0-210-generic' }), 'ptrace'),
      EPERM,
    );
    const old = profileFor(withCaps('CAP_SYS_PTRACE'), { kernelRelease: '4.4.0-210-generic' });
    assert.equal(verdict(old, 'ptrace'), 'allow', 'CAP_SYS_PTRACE allows it on any kernel');
    assert.equal(verdict(profileFor(DEFAULT_CAPABILITIES), 'kcmp'), EPERM);
    assert.equal(verdict(profileFor(withCaps('CAP_SYS_PTRACE')), 'kcmp'), 'allow');
    assert.equal(verdict(profileFor(withCaps('CAP_SYS_MODULE')), 'finit_module'), 'allow');
    assert.equal(verdict(profileFor(withCaps('CAP_DAC_READ_SEARCH')), 'open_by_handle_at'), 'allow');
    assert.equal(verdict(profileFor(withCaps('CAP_SYS_TIME')), 'clock_settime'), 'allow');
    assert.equal(verdict(profileFor(withCaps('CAP_SYS_NICE')), 'mbind'), 'allow');
    const arm = profileFor(DEFAULT_CAPABILITIES, { arch: 'arm64' });
    assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    assert.equal(verdict(arm, 'arch_prctl'), EPERM);
    assert.equal(verdict(arm, 'set_tls'), 'allow');
    assert.deepEqual(
      profileFor([], { arch: 'sparc' }).architectures,
      [],
      'an unknown arch: the native ABI only',
    );
  });

  it('never gives one call conflicting actions for the same arguments (libseccomp refuses those)', () => {
    for (const arch of ['x64', 'arm64', 's390x']) {
      for (const caps of [[], DEFAULT_CAPABILITIES, withCaps('CAP_SYS_ADMIN'), ALL_CAPABILITIES]) {
        const seen = new Map<string, string>();
        for (const rule of profileFor(caps, { arch }).syscalls) {
          for (const name of rule.names) {
            const key = `${name} ${JSON.stringify(rule.args ?? [])}`;
            const outcome = `${rule.action} ${rule.errnoRet ?? ''}`;
            assert.ok((seen.get(key) ?? outcome) === outcome, `${key}: ${seen.get(key)} and ${outcome}`);
            seen.set(key, outcome);
          }
        }
      }
    }
  });
});

describe('resolveProfile', () => {
  const profile: ConditionalProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: null }],
    syscalls: [
      { names: ['both'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_A', 'CAP_B'] } },
      { names: ['neither'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_A', 'CAP_B'] } },
      { names: ['new'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5.10' } },
      { names: ['old'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '5.10' } },
      { names: ['x86'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
    ],
  };
  const names = (caps: string[], kernelRelease: string, arch = 'amd64') =>
    resolveProfile(profile, { arch, capabilities: caps, kernelRelease }).syscalls.flatMap((s) => s.names);

  it('includes a rule when all its conditions hold and excludes it when any of its exclusions does', () => {
    assert.deepEqual(names(['CAP_A', 'CAP_B'], '5.10.0'), ['both', 'new', 'x86']);
    assert.deepEqual(names(['CAP_A'], '5.9.1'), ['old', 'x86']);
    assert.deepEqual(names([], '6.0', 'arm64'), ['neither', 'new']);
    assert.deepEqual(
      resolveProfile(profile, { arch: 'arm64', capabilities: [], kernelRelease: '6.0' }).architectures,
      [],
    );
  });

  it('reads kernel releases as docker does and names one it cannot read', () => {
    assert.deepEqual(kernelVersionOf('6.18.44-fc-v1045'), [6, 18]);
    assert.deepEqual(kernelVersionOf('3.12-1-amd64'), [3, 12]);
    assert.throws(() => names([], 'five'), /"five"/);
    assert.equal(seccompArchOf('x64'), 'amd64');
    assert.equal(seccompArchOf('ppc64'), 'ppc64le');
  });
});

/**
 * docker's profile: moby's profiles/seccomp/default.json (Apache-2.0; the module github.com/moby/profiles/seccomp,
 * vendored in github.com/moby/moby at vendor/github.com/moby/profiles/seccomp/default.json; compared at moby commit
 * b985e2313a8676e18072b442911fc8f64f17d440, module v0.2.3). Not kept in this repository: it is read from the path in
 * HYPERBOX_MOBY_SECCOMP_PROFILE, or from shared/fixtures/seccomp/moby-default.json in a folder above the checkout
 * (where the project keeps outside data files, with their license note).
 */
function mobyProfilePath(): string | undefined {
  const fromEnv = process.env.HYPERBOX_MOBY_SECCOMP_PROFILE;
  if (fromEnv) return fromEnv;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'shared', 'fixtures', 'seccomp', 'moby-default.json');
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

// Strict: a field docker adds later (a new kind of condition) must fail here, not be ignored.
const condition = z.strictObject({
  arches: z.array(z.string()).optional(),
  caps: z.array(z.string()).optional(),
  minKernel: z.string().optional(),
});
const mobySchema = z.strictObject({
  defaultAction: z.string(),
  defaultErrnoRet: z.number().int().optional(),
  archMap: z.array(
    z.strictObject({ architecture: z.string(), subArchitectures: z.array(z.string()).nullable() }),
  ),
  syscalls: z.array(
    z.strictObject({
      names: z.array(z.string()),
      action: z.string(),
      errnoRet: z.number().int().optional(),
      args: z
        .array(
          z.strictObject({
            index: z.number().int(),
            value: z.number(),
            valueTwo: z.number().optional(),
            op: z.string(),
          }),
        )
        .nullable()
        .optional()
        .transform((a) => a ?? undefined),
      comment: z.string().optional(),
      includes: condition.optional(),
      excludes: condition.optional(),
    }),
  ),
});

/** Per call, its rules as comparable strings (a missing valueTwo is runc's 0; duplicates change nothing). */
function rulesByCall(profile: OciSeccomp): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const rule of profile.syscalls) {
    const args = (rule.args ?? [])
      .map((a) => ({ index: a.index, op: a.op, value: a.value, valueTwo: a.valueTwo ?? 0 }))
      .sort((a, b) => a.index - b.index || a.op.localeCompare(b.op));
    const text = JSON.stringify({ action: rule.action, errnoRet: rule.errnoRet, args });
    for (const name of rule.names) out.set(name, (out.get(name) ?? new Set()).add(text));
  }
  return new Map([...out].map(([name, rules]) => [name, [...rules].sort()]));
}

const MOBY = mobyProfilePath();

describe("the default profile against docker's", {
  skip: MOBY ? false : "docker's default.json not found (set HYPERBOX_MOBY_SECCOMP_PROFILE)",
}, () => {
  const moby = (): ConditionalProfile => mobySchema.parse(JSON.parse(fs.readFileSync(MOBY!, 'utf8')));
  const capabilitySets: [string, readonly string[]][] = [
    ['docker defaults', DEFAULT_CAPABILITIES],
    ['none (--cap-drop ALL)', []],
    ...[
      'CAP_SYS_ADMIN',
      'CAP_SYS_PTRACE',
      'CAP_SYS_MODULE',
      'CAP_SYS_BOOT',
      'CAP_SYS_PACCT',
      'CAP_SYS_RAWIO',
      'CAP_SYS_TIME',
      'CAP_SYS_TTY_CONFIG',
      'CAP_SYS_NICE',
      'CAP_SYSLOG',
      'CAP_BPF',
      'CAP_PERFMON',
      'CAP_DAC_READ_SEARCH',
    ].map((cap): [string, readonly string[]] => [`defaults + ${cap}`, withCaps(cap)]),
    ['every capability (--cap-add ALL)', ALL_CAPABILITIES],
  ];
  const hosts = [
    { arch: 'x64', kernelRelease: NEW_KERNEL },
    { arch: 'x64', kernelRelease: '4.4.0-210-generic' },
    { arch: 'arm64', kernelRelease: NEW_KERNEL },
    { arch: 's390x', kernelRelease: NEW_KERNEL },
    { arch: 'ppc64', kernelRelease: NEW_KERNEL },
    { arch: 'riscv64', kernelRelease: NEW_KERNEL },
  ];

  it('resolves to the same rules, call by call, but for the deliberate differences', () => {
    const docker = moby();
    // "call: ours / docker" -> where it shows, so that one difference is reported once with every place it shows in.
    const undeclared = new Map<string, string[]>();
    const used = new Set<string>();
    let compared = 0;
    for (const host of hosts) {
      for (const [label, caps] of capabilitySets) {
        const where = `${label} on ${host.arch}, kernel ${host.kernelRelease}`;
        const ours = profileFor(caps, host);
        const theirs = resolveProfile(docker, {
          ...host,
          arch: seccompArchOf(host.arch),
          capabilities: caps,
        });
        assert.deepEqual(
          [ours.defaultAction, ours.defaultErrnoRet, ours.architectures],
          [theirs.defaultAction, theirs.defaultErrnoRet, theirs.architectures],
          where,
        );
        const a = rulesByCall(ours);
        const b = rulesByCall(theirs);
        for (const name of new Set([...a.keys(), ...b.keys()])) {
          compared++;
          const [mine, their] = [
            a.get(name)?.join(' | ') ?? 'default',
            b.get(name)?.join(' | ') ?? 'default',
          ];
          if (mine === their) continue;
          if (deliberateDifferences.some((d) => d.syscalls.includes(name))) used.add(name);
          else {
            const key = `${name}\n  ours:   ${mine}\n  docker: ${their}`;
            undeclared.set(key, [...(undeclared.get(key) ?? []), where]);
          }
        }
      }
    }
    assert.ok(compared > 5000, `compared only ${compared} calls`);
    assert.deepEqual(
      [...undeclared].map(([what, where]) => `${what}\n  in: ${where.join('; ')}`),
      [],
      'differences from docker not in deliberateDifferences',
    );
    const stale = deliberateDifferences.flatMap((d) => d.syscalls).filter((name) => !used.has(name));
    assert.deepEqual(stale, [], 'deliberateDifferences lists calls that no longer differ');
  });

  it('holds the same conditional rules: every syscall docker names is one ours names', () => {
    const ours = new Set(DEFAULT_PROFILE.syscalls.flatMap((r) => r.names));
    const missing = moby()
      .syscalls.flatMap((r) => r.names)
      .filter((name) => !ours.has(name) && !deliberateDifferences.some((d) => d.syscalls.includes(name)));
    assert.deepEqual([...new Set(missing)], []);
  });
});
