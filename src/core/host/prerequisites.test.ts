import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupFacts, parseCgroupMounts } from './cgroup-checks.ts';
import { elfLinkage, filesystemListed } from './feature-checks.ts';
import { type HostProbe, installCommand, parseVersion } from './prerequisite-report.ts';
import { checkPrerequisites } from './prerequisites.ts';

/** mountinfo of a Debian 12 host booted in systemd's hybrid mode. */
const HYBRID_MOUNTINFO = [
  '25 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
  '29 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
  '30 29 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate',
  '31 29 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd',
  '35 29 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct',
  '36 29 0:33 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory',
  '37 29 0:34 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,pids',
  '38 29 0:35 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,cpuset,noprefix',
  '39 29 0:36 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,freezer',
].join('\n');

const V2_MOUNTINFO =
  '30 25 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate\n';

/** A 64-bit little-endian ELF header with `phnum` program headers, the first of type `firstType`. */
function elf64(firstType: number, phnum = 2): Uint8Array {
  const buf = new Uint8Array(64 + 56 * phnum);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  const view = new DataView(buf.buffer);
  view.setBigUint64(32, 64n, true); // e_phoff
  view.setUint16(54, 56, true); // e_phentsize
  view.setUint16(56, phnum, true); // e_phnum
  view.setUint32(64, firstType, true);
  view.setUint32(64 + 56, 1, true); // PT_LOAD
  return buf;
}

interface FakeHost {
  commands?: Record<string, string>; // command name -> version output
  files?: Record<string, string>;
  heads?: Record<string, Uint8Array>;
  devices?: string[];
}

/** A host described by a table: a command exists when it has an output; files and devices likewise. */
function fakeProbe(host: FakeHost): HostProbe {
  const commands = host.commands ?? {};
  return {
    which: async (name) => (name in commands ? `/usr/bin/${name}` : undefined),
    output: async (file) => commands[file.replace('/usr/bin/', '')] ?? host.files?.[`output:${file}`],
    readText: async (file) => host.files?.[file],
    readHead: async (file) => host.heads?.[file],
    exists: async (file) => (host.devices ?? []).includes(file),
    kernelRelease: () => '6.1.0-test',
  };
}

const FULL_HOST: FakeHost = {
  commands: {
    runc: 'runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\n',
    conmon: 'conmon version 2.1.6\ncommit: unknown\n',
    'tini-static': 'tini version 0.19.0\n',
    ip: 'ip utility, iproute2-6.1.0, libbpf 1.1.0\n',
    iptables: 'iptables v1.8.9 (nf_tables)\n',
    nft: 'nftables v1.0.6 (Lester Gooch #5)\n',
    skopeo: 'skopeo version 1.9.3\n',
    'qemu-system-x86_64':
      'QEMU emulator version 7.2.15 (Debian 1:7.2+dfsg-7+deb12u12)\nCopyright (c) 2003-2022\n',
    'qemu-img': 'qemu-img version 7.2.15 (Debian 1:7.2+dfsg-7+deb12u12)\n',
  },
  files: {
    '/proc/filesystems': 'nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\toverlay\n',
    '/proc/self/mountinfo': HYBRID_MOUNTINFO,
    'output:/bin/busybox': 'BusyBox v1.35.0 (Debian 1:1.35.0-4+b3) multi-call binary.\n',
  },
  heads: { '/bin/busybox': elf64(1) },
  devices: ['/dev/kvm'],
};

describe('checkPrerequisites', () => {
  it("checks hyperbox's own log writer when told where it is: required, built by scripts/build.sh", async () => {
    const writer = '/opt/hyperbox/dist/native/hbx-logwriter';
    const built = fakeProbe({
      ...FULL_HOST,
      devices: [...(FULL_HOST.devices ?? []), writer],
      files: { ...FULL_HOST.files, [`output:${writer}`]: 'hbx-logwriter version 1\n' },
    });
    const ok = (await checkPrerequisites(built, { logWriter: writer })).checks.find(
      (c) => c.name === 'hbx-logwriter',
    );
    assert.equal(ok?.status, 'ok');
    assert.equal(ok?.version, '1');
    const missing = await checkPrerequisites(fakeProbe(FULL_HOST), { logWriter: writer });
    assert.deepEqual(missing.missingRequired, ['hbx-logwriter']);
    assert.match(missing.checks.find((c) => c.name === 'hbx-logwriter')!.hint, /scripts\/build.sh/);
  });

  it('reports every prerequisite present, with versions, on a fully set-up host', async () => {
    const report = await checkPrerequisites(fakeProbe(FULL_HOST));
    assert.equal(report.ok, true);
    assert.deepEqual(report.missingRequired, []);
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    assert.deepEqual(
      report.checks.map((c) => c.name),
      [
        'runc',
        'conmon',
        'tini',
        'overlayfs',
        'cgroups',
        'ip',
        'iptables',
        'nft',
        'busybox-static',
        'skopeo',
        'qemu-system-x86_64',
        'qemu-img',
        'kvm',
      ],
    );
    assert.ok(report.checks.every((c) => c.status === 'ok'));
    assert.equal(byName.runc?.version, '1.1.5+ds1');
    assert.equal(byName.conmon?.version, '2.1.6');
    assert.equal(byName.tini?.path, '/usr/bin/tini-static');
    assert.equal(byName.ip?.version, '6.1.0');
    assert.equal(byName.iptables?.version, '1.8.9 (nf_tables)');
    assert.equal(byName['qemu-system-x86_64']?.version, '7.2.15');
    assert.equal(byName['busybox-static']?.version, '1.35.0');
    assert.equal(byName.cgroups?.version, 'hybrid');
    assert.match(byName.cgroups?.detail ?? '', /cpu,cpuacct,cpuset,freezer,memory,pids/);
  });

  it('fails the verdict when a container prerequisite is missing, and names its package', async () => {
    const commands = { ...FULL_HOST.commands };
    delete commands.runc;
    const report = await checkPrerequisites(fakeProbe({ ...FULL_HOST, commands }));
    assert.equal(report.ok, false);
    assert.deepEqual(report.missingRequired, ['runc']);
    const runc = report.checks.find((c) => c.name === 'runc');
    assert.equal(runc?.status, 'missing');
    assert.equal(runc?.hint, 'apt-get install -y runc');
    assert.equal(installCommand(report, 'required'), 'apt-get install -y runc');
  });

  it('keeps the verdict ok when only VM prerequisites are missing', async () => {
    const commands = { ...FULL_HOST.commands };
    delete commands['qemu-system-x86_64'];
    delete commands['qemu-img'];
    const report = await checkPrerequisites(fakeProbe({ ...FULL_HOST, commands, devices: [] }));
    assert.equal(report.ok, true);
    const missing = report.checks.filter((c) => c.status === 'missing');
    assert.deepEqual(
      missing.map((c) => [c.name, c.group, c.required, c.hint]),
      [
        ['qemu-system-x86_64', 'vms', false, 'apt-get install -y qemu-system-x86'],
        ['qemu-img', 'vms', false, 'apt-get install -y qemu-utils'],
        ['kvm', 'vms', false, 'enable virtualization in the firmware, then modprobe kvm_intel (or kvm_amd)'],
      ],
    );
    assert.equal(installCommand(report, 'required'), undefined);
    assert.equal(installCommand(report, 'all'), 'apt-get install -y qemu-system-x86 qemu-utils');
  });

  it('needs tini-static for --init: a dynamically linked tini alone does not do', async () => {
    const commands: Record<string, string> = {
      ...FULL_HOST.commands,
      tini: 'tini version 0.19.0 - git.de40ad0\n',
    };
    delete commands['tini-static'];
    const report = await checkPrerequisites(fakeProbe({ ...FULL_HOST, commands }));
    const tini = report.checks.find((c) => c.name === 'tini');
    assert.equal(tini?.status, 'missing');
    assert.equal(tini?.hint, 'apt-get install -y tini');
    assert.equal(report.ok, true, 'tini is optional');
  });

  it('counts a dynamically linked busybox as missing busybox-static', async () => {
    const report = await checkPrerequisites(fakeProbe({ ...FULL_HOST, heads: { '/bin/busybox': elf64(3) } }));
    const busybox = report.checks.find((c) => c.name === 'busybox-static');
    assert.equal(busybox?.status, 'missing');
    assert.match(busybox?.detail ?? '', /dynamically linked/);
    assert.equal(report.ok, true, 'busybox-static is optional');
  });

  it('finds overlayfs as a loadable module when the kernel has not loaded it yet', async () => {
    const files = {
      ...FULL_HOST.files,
      '/proc/filesystems': 'nodev\tsysfs\n\text4\n',
      '/lib/modules/6.1.0-test/modules.dep':
        'kernel/fs/overlayfs/overlay.ko.xz:\nkernel/fs/fat/vfat.ko.xz:\n',
    };
    const report = await checkPrerequisites(fakeProbe({ ...FULL_HOST, files }));
    const overlay = report.checks.find((c) => c.name === 'overlayfs');
    assert.equal(overlay?.status, 'ok');
    assert.match(overlay?.detail ?? '', /loadable/);
  });

  it('reports overlayfs missing when neither listed nor loadable', async () => {
    const files = { ...FULL_HOST.files, '/proc/filesystems': 'nodev\tsysfs\n\text4\n' };
    const report = await checkPrerequisites(fakeProbe({ ...FULL_HOST, files }));
    assert.equal(report.ok, false);
    assert.deepEqual(report.missingRequired, ['overlayfs']);
  });

  it('reads cgroup v2 controllers from the unified root and reports missing ones', async () => {
    const files = {
      ...FULL_HOST.files,
      '/proc/self/mountinfo': V2_MOUNTINFO,
      '/sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory hugetlb\n',
    };
    const report = await checkPrerequisites(fakeProbe({ ...FULL_HOST, files }));
    const cgroups = report.checks.find((c) => c.name === 'cgroups');
    assert.equal(cgroups?.version, 'v2');
    assert.equal(cgroups?.status, 'missing');
    assert.match(cgroups?.detail ?? '', /missing pids/);
    assert.match(cgroups?.hint ?? '', /\+pids/);
  });
});

describe('parsers', () => {
  it('parseVersion takes the pattern group, else the first line', () => {
    assert.equal(parseVersion('runc version 1.2.0\n', /runc version (\S+)/), '1.2.0');
    assert.equal(parseVersion('\nsomething 3\n', /nope (\S+)/), 'something 3');
  });

  it('filesystemListed matches whole names', () => {
    assert.equal(filesystemListed('nodev\toverlay\n', 'overlay'), true);
    assert.equal(filesystemListed('nodev\toverlayish\n', 'overlay'), false);
  });

  it('classifies cgroup v1, v2 and hybrid hosts', () => {
    assert.deepEqual(cgroupFacts(parseCgroupMounts(HYBRID_MOUNTINFO))?.version, 'hybrid');
    assert.deepEqual(cgroupFacts(parseCgroupMounts(V2_MOUNTINFO), 'cpu memory pids'), {
      version: 'v2',
      controllers: ['cpu', 'memory', 'pids'],
      unifiedMount: '/sys/fs/cgroup',
    });
    const v1Only = HYBRID_MOUNTINFO.split('\n')
      .filter((l) => !l.includes('cgroup2'))
      .join('\n');
    assert.equal(cgroupFacts(parseCgroupMounts(v1Only))?.version, 'v1');
    assert.equal(cgroupFacts(parseCgroupMounts('')), undefined);
  });

  it('reads v1 controllers from super options, not from names or generic options', () => {
    const mounts = parseCgroupMounts(HYBRID_MOUNTINFO);
    assert.deepEqual(
      mounts.map((m) => m.controllers),
      [[], [], ['cpu', 'cpuacct'], ['memory'], ['pids'], ['cpuset'], ['freezer']],
    );
  });

  it('elfLinkage tells static from dynamic executables', () => {
    assert.equal(elfLinkage(elf64(1)), 'static');
    assert.equal(elfLinkage(elf64(3)), 'dynamic');
    assert.equal(elfLinkage(new TextEncoder().encode('#!/bin/sh\necho hi\n'.padEnd(80))), 'unknown');
  });
});
