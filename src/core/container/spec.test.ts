import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailedPreconditionError, InvalidArgumentError } from '../errors.ts';
import { DEFAULT_CAPABILITIES } from './capabilities.ts';
import type { ContainerConfig } from './config.ts';
import { buildSpec, DEFAULT_PATH, type SpecInput } from './spec.ts';

const ID = 'abcdef0123456789'.repeat(4);

function config(overrides: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    image: 'busybox',
    imageId: 'sha256:1',
    env: [],
    labels: {},
    tty: false,
    openStdin: false,
    readOnly: false,
    init: false,
    autoRemove: false,
    restart: { name: 'no', maximumRetryCount: 0 },
    networkMode: 'loopback',
    privileged: false,
    capAdd: [],
    capDrop: [],
    noNewPrivileges: false,
    seccomp: 'default',
    mounts: [],
    resources: {},
    ulimits: [],
    ...overrides,
  };
}

function input(overrides: Partial<ContainerConfig> = {}, extra: Partial<SpecInput> = {}): SpecInput {
  return {
    id: ID,
    config: config(overrides),
    image: { Env: ['PATH=/usr/bin:/bin', 'LANG=C'], Cmd: ['sh'] },
    user: { uid: 0, gid: 0, additionalGids: [], home: '/root' },
    rootfs: '/var/lib/hyperbox/containers/x/merged',
    mounts: [],
    etcFiles: {},
    cgroupsPath: `/hyperbox/${ID}`,
    rlimitCaps: { nofile: 20000, nproc: 96365 },
    arch: 'x64',
    kernelRelease: '6.1.0-13-amd64',
    ...extra,
  };
}

const envOf = (spec: ReturnType<typeof buildSpec>) =>
  Object.fromEntries(spec.process.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));

describe('buildSpec: process', () => {
  it('runs the image command by default', () => {
    const spec = buildSpec(input());
    assert.equal(spec.ociVersion, '1.0.2');
    assert.deepEqual(spec.process.args, ['sh']);
    assert.equal(spec.process.cwd, '/');
    assert.equal(spec.root.path, '/var/lib/hyperbox/containers/x/merged');
  });

  it("merges entrypoint and cmd by docker's rules", () => {
    const image = { Entrypoint: ['/entry', '-v'], Cmd: ['serve'] };
    assert.deepEqual(buildSpec(input({}, { image })).process.args, ['/entry', '-v', 'serve']);
    assert.deepEqual(buildSpec(input({ cmd: ['run'] }, { image })).process.args, ['/entry', '-v', 'run']);
    // --entrypoint resets the image's Cmd
    assert.deepEqual(buildSpec(input({ entrypoint: ['/bin/echo'] }, { image })).process.args, ['/bin/echo']);
    assert.deepEqual(buildSpec(input({ entrypoint: [], cmd: ['ls'] }, { image })).process.args, ['ls']);
    assert.throws(() => buildSpec(input({ entrypoint: [] }, { image })), InvalidArgumentError);
    assert.throws(() => buildSpec(input({}, { image: {} })), /no command specified/);
  });

  it('merges the environment: defaults, image, user; HOSTNAME, HOME, TERM with a tty', () => {
    const spec = buildSpec(input({ env: ['LANG=en_US.UTF-8', 'FOO=bar=baz', 'BARE'], tty: true }));
    const env = envOf(spec);
    assert.equal(env.PATH, '/usr/bin:/bin');
    assert.equal(env.LANG, 'en_US.UTF-8');
    assert.equal(env.FOO, 'bar=baz');
    assert.equal(env.HOSTNAME, ID.slice(0, 12));
    assert.equal(env.HOME, '/root');
    assert.equal(env.TERM, 'xterm');
    assert.equal(env.BARE, undefined);
    assert.equal(spec.process.env.filter((e) => e.startsWith('LANG=')).length, 1);
    const plain = envOf(buildSpec(input({}, { image: { Cmd: ['sh'] } })));
    assert.equal(plain.PATH, DEFAULT_PATH);
    assert.equal(plain.TERM, undefined);
    assert.equal(envOf(buildSpec(input({ env: ['HOME=/x'] }))).HOME, '/x');
  });

  it('uses the resolved user and working dir, rejecting a relative one', () => {
    const spec = buildSpec(
      input(
        { workingDir: '/srv' },
        { user: { uid: 1000, gid: 100, additionalGids: [10], home: '/home/app' } },
      ),
    );
    assert.deepEqual(spec.process.user, { uid: 1000, gid: 100, additionalGids: [10] });
    assert.equal(spec.process.cwd, '/srv');
    assert.equal(envOf(spec).HOME, '/home/app');
    assert.equal(buildSpec(input({}, { image: { Cmd: ['sh'], WorkingDir: '/app' } })).process.cwd, '/app');
    assert.throws(() => buildSpec(input({ workingDir: 'rel' })), /"rel" is invalid/);
  });

  it('sets up a terminal with its size', () => {
    const spec = buildSpec(input({ tty: true }, { consoleSize: { rows: 30, cols: 100 } }));
    assert.equal(spec.process.terminal, true);
    assert.deepEqual(spec.process.consoleSize, { height: 30, width: 100 });
    assert.equal(buildSpec(input()).process.terminal, false);
  });

  it('wraps the command in the init for --init, and needs the binary', () => {
    const spec = buildSpec(input({ init: true }, { initPath: '/usr/bin/tini-static' }));
    assert.deepEqual(spec.process.args, ['/sbin/hyperbox-init', '--', 'sh']);
    assert.ok(
      spec.mounts.some((m) => m.destination === '/sbin/hyperbox-init' && m.source === '/usr/bin/tini-static'),
    );
    assert.throws(() => buildSpec(input({ init: true })), FailedPreconditionError);
  });
});

describe('buildSpec: isolation', () => {
  it('creates the namespaces, a network one unless host', () => {
    const types = (mode: ContainerConfig['networkMode']) =>
      buildSpec(input({ networkMode: mode }))
        .linux.namespaces.map((n) => n.type)
        .sort();
    assert.deepEqual(types('loopback'), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
    assert.deepEqual(types('none'), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']);
    assert.deepEqual(types('host'), ['cgroup', 'ipc', 'mount', 'pid', 'uts']);
  });

  it('sets the hostname: given, else the short id; none with host networking', () => {
    assert.equal(buildSpec(input()).hostname, ID.slice(0, 12));
    assert.equal(buildSpec(input({ hostname: 'web' })).hostname, 'web');
    assert.equal(buildSpec(input({ networkMode: 'host' })).hostname, undefined);
  });

  it('mounts the kernel file systems, /sys read-only', () => {
    const spec = buildSpec(input());
    const byDest = new Map(spec.mounts.map((m) => [m.destination, m]));
    for (const dest of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']) {
      assert.ok(byDest.has(dest), dest);
    }
    assert.ok(byDest.get('/sys')!.options!.includes('ro'));
    assert.ok(byDest.get('/sys/fs/cgroup')!.options!.includes('ro'));
    assert.ok(byDest.get('/dev/pts')!.options!.includes('newinstance'));
    assert.ok(byDest.get('/dev/pts')!.options!.includes('ptmxmode=0666'));
    assert.ok(byDest.get('/dev/pts')!.options!.includes('gid=5'));
    assert.ok(byDest.get('/dev/shm')!.options!.includes(`size=${64 << 20}`));
  });

  it('bind-mounts the etc files and the user mounts, which replace defaults at the same place', () => {
    const spec = buildSpec(
      input(
        { readOnly: true },
        {
          etcFiles: { hosts: '/run/h/hosts', resolvConf: '/run/h/resolv.conf' },
          mounts: [{ destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['size=1g'] }],
        },
      ),
    );
    const hosts = spec.mounts.find((m) => m.destination === '/etc/hosts');
    assert.deepEqual(hosts, {
      destination: '/etc/hosts',
      type: 'bind',
      source: '/run/h/hosts',
      options: ['rbind', 'rprivate', 'ro'],
    });
    assert.ok(spec.mounts.some((m) => m.destination === '/etc/resolv.conf'));
    assert.ok(!spec.mounts.some((m) => m.destination === '/etc/hostname'));
    const shm = spec.mounts.filter((m) => m.destination === '/dev/shm');
    assert.deepEqual(
      shm.map((m) => m.options),
      [['size=1g']],
    );
    assert.equal(spec.root.readonly, true);
  });

  it("applies docker's capabilities, seccomp, masked and read-only paths, devices", () => {
    const spec = buildSpec(input({ capAdd: ['NET_ADMIN'] }));
    assert.deepEqual(
      new Set(spec.process.capabilities!.bounding),
      new Set([...DEFAULT_CAPABILITIES, 'CAP_NET_ADMIN']),
    );
    assert.equal(spec.linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
    const allowed = (s: typeof spec) =>
      s.linux
        .seccomp!.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args)
        .flatMap((r) => r.names);
    assert.ok(!allowed(spec).includes('unshare'));
    assert.ok(
      allowed(buildSpec(input({ capAdd: ['SYS_ADMIN'] }))).includes('unshare'),
      'seccomp follows --cap-add',
    );
    assert.ok(allowed(spec).includes('ptrace'));
    assert.ok(
      !allowed(buildSpec(input({}, { kernelRelease: '4.4.0' }))).includes('ptrace'),
      'and the kernel',
    );
    assert.ok(spec.linux.maskedPaths!.includes('/proc/kcore'));
    assert.ok(spec.linux.readonlyPaths!.includes('/proc/sys'));
    const rules = spec.linux.resources!.devices!;
    assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
    assert.ok(rules.some((r) => r.allow && r.type === 'c' && r.major === 1 && r.minor === 3)); // /dev/null
    assert.ok(rules.some((r) => r.allow && r.type === 'c' && r.major === 136 && r.minor === undefined)); // pts
    assert.equal(spec.process.noNewPrivileges, false);
  });

  it('lifts the confinement for --privileged', () => {
    const devices = [{ path: '/dev/sda', type: 'b' as const, major: 8, minor: 0 }];
    const spec = buildSpec(input({ privileged: true }, { hostDevices: devices }));
    assert.ok(spec.process.capabilities!.bounding.includes('CAP_SYS_ADMIN'));
    assert.equal(spec.linux.seccomp, undefined);
    assert.equal(spec.linux.maskedPaths, undefined);
    assert.equal(spec.linux.readonlyPaths, undefined);
    assert.deepEqual(spec.linux.resources!.devices, [{ allow: true, access: 'rwm' }]);
    assert.deepEqual(spec.linux.devices, devices);
    assert.ok(spec.mounts.find((m) => m.destination === '/sys')!.options!.includes('rw'));
  });

  it('honours --security-opt seccomp=unconfined and no-new-privileges', () => {
    assert.equal(buildSpec(input({}, { securityOpt: ['seccomp=unconfined'] })).linux.seccomp, undefined);
    assert.equal(buildSpec(input({ seccomp: 'unconfined' })).linux.seccomp, undefined);
    assert.equal(buildSpec(input({}, { securityOpt: ['no-new-privileges'] })).process.noNewPrivileges, true);
    assert.equal(buildSpec(input({ noNewPrivileges: true })).process.noNewPrivileges, true);
    assert.throws(() => buildSpec(input({}, { securityOpt: ['apparmor=x'] })), /apparmor=x/);
  });
});

describe('buildSpec: resources and limits', () => {
  it('sets memory with docker swap defaults', () => {
    const mem = (r: ContainerConfig['resources'], swapLimitSupported = true) =>
      buildSpec(input({ resources: r }, { swapLimitSupported })).linux.resources!.memory;
    assert.deepEqual(mem({ memory: 64 << 20 }), { limit: 64 << 20, swap: 128 << 20 });
    assert.deepEqual(mem({ memory: 64 << 20, memorySwap: -1 }), { limit: 64 << 20, swap: -1 });
    assert.deepEqual(mem({ memory: 64 << 20, memorySwap: 100 << 20 }), { limit: 64 << 20, swap: 100 << 20 });
    assert.deepEqual(mem({ memory: 64 << 20 }, false), { limit: 64 << 20 });
    assert.equal(mem({}), undefined);
    assert.throws(() => mem({ memory: 64 << 20, memorySwap: 32 << 20 }), /must not be smaller/);
    assert.throws(() => mem({ memorySwap: 32 << 20 }), /needs a memory limit/);
    assert.throws(() => mem({ memory: 1024 }), /minimum/);
  });

  it('turns cpus into quota over a 100ms period, with shares, cpuset and pids', () => {
    const r = buildSpec(
      input({ resources: { nanoCpus: 1.5e9, cpuShares: 512, cpusetCpus: '0-1,3', pidsLimit: 100 } }),
    ).linux.resources!;
    assert.deepEqual(r.cpu, { period: 100000, quota: 150000, shares: 512, cpus: '0-1,3' });
    assert.deepEqual(r.pids, { limit: 100 });
    assert.equal(buildSpec(input({ resources: { pidsLimit: -1 } })).linux.resources!.pids, undefined);
    assert.throws(() => buildSpec(input({ resources: { cpusetCpus: 'a-b' } })), /invalid cpuset "a-b"/);
  });

  it('clamps the default rlimits to the host caps and checks the user ulimits against them', () => {
    const rl = (extra: Partial<SpecInput>, ulimits: ContainerConfig['ulimits'] = []) =>
      buildSpec(input({ ulimits }, extra)).process.rlimits;
    assert.deepEqual(rl({}), [
      { type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 },
      { type: 'RLIMIT_NPROC', soft: 96365, hard: 96365 },
    ]);
    assert.deepEqual(rl({ rlimitCaps: {} })![0], { type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 });
    assert.deepEqual(rl({}, [{ name: 'nofile', soft: 1024, hard: 4096 }])![0], {
      type: 'RLIMIT_NOFILE',
      soft: 1024,
      hard: 4096,
    });
    assert.ok(rl({}, [{ name: 'core', soft: 0, hard: 0 }])!.some((r) => r.type === 'RLIMIT_CORE'));
    assert.throws(
      () => rl({}, [{ name: 'nofile', soft: 30000, hard: 30000 }]),
      (err: unknown) =>
        err instanceof InvalidArgumentError &&
        /ulimit nofile=30000:30000/.test(err.message) &&
        /20000/.test(err.message),
    );
    assert.throws(() => rl({}, [{ name: 'files', soft: 1, hard: 1 }]), /invalid ulimit type: files/);
    assert.throws(
      () => rl({}, [{ name: 'nofile', soft: 10, hard: 5 }]),
      /soft limit must be less than or equal to hard limit: 10 > 5/,
    );
  });

  it('puts the container in its cgroup', () => {
    assert.equal(buildSpec(input()).linux.cgroupsPath, `/hyperbox/${ID}`);
  });
});
