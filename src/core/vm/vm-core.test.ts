import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cloudInitSeed } from './cloud-init.ts';
import { parseCpuPinning, type VmConfig, validateVmConfig } from './config.ts';
import { kernelCmdline, netmaskOf, qemuArgv } from './qemu-plan.ts';
import { canMove, exitReasonOf, requireMove } from './state.ts';

const base: VmConfig = {
  name: 'web1',
  hostname: 'web1',
  cpus: 1,
  memoryBytes: 256 * 1024 * 1024,
  diskBytes: 0,
  memoryPrealloc: false,
  cpuPinning: 'auto',
  boot: { kind: 'kernel', kernel: '/k/vmlinuz', initrd: '/k/initrd.img' },
  machine: 'microvm',
  networks: [],
  publish: [],
  sshKeys: [],
};

const plan = {
  name: 'web1',
  accel: 'tcg' as const,
  machine: 'microvm' as const,
  cpus: 2,
  memoryBytes: 512 * 1024 * 1024,
  memoryPrealloc: false,
  kernel: { path: '/k/vmlinuz', initrd: '/k/initrd.img', cmdline: 'console=ttyS0' },
  nics: [{ tap: 'hbxt0123abcd', mac: '02:42:0a:00:00:02' }],
  qmpSocket: '/run/x/qmp.sock',
  consoleSocket: '/run/x/console.sock',
  serialLog: '/var/x/serial.log',
  pidFile: '/run/x/qemu.pid',
  paused: true,
};

describe('VM config', () => {
  it('accepts a minimal kernel boot', () => {
    assert.equal(validateVmConfig(base).name, 'web1');
  });
  it('names the bad value', () => {
    assert.throws(() => validateVmConfig({ ...base, cpus: 0 }), /--cpus "0"/);
    assert.throws(() => validateVmConfig({ ...base, memoryBytes: 1000 }), /--memory 1000B/);
    assert.throws(() => validateVmConfig({ ...base, diskBytes: 1024 ** 5 * 10 }), /--disk 10240TiB/);
    assert.throws(() => validateVmConfig({ ...base, name: '-x' }), /invalid VM name "-x"/);
    assert.throws(() => validateVmConfig({ ...base, hostname: 'a_b' }), /invalid hostname "a_b"/);
    assert.throws(() => validateVmConfig({ ...base, cpuPinning: [1, 2] }), /lists 2 CPUs but --cpus is 1/);
    assert.throws(
      () =>
        validateVmConfig({
          ...base,
          publish: [{ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, proto: 'tcp' }],
        }),
      /-p needs --network/,
    );
    assert.throws(() => validateVmConfig({ ...base, sshKeys: ['not a key'] }), /not an OpenSSH public key/);
  });
  it('needs q35 and a disk for an image boot', () => {
    const img = { ...base, boot: { kind: 'image' as const, image: 'debian' } };
    assert.throws(() => validateVmConfig({ ...img, machine: 'q35' }), /needs a disk size/);
    assert.throws(() => validateVmConfig({ ...img, diskBytes: 1 << 30 }), /needs machine q35/);
    assert.equal(validateVmConfig({ ...img, machine: 'q35', diskBytes: 1 << 30 }).machine, 'q35');
  });
  it('parses --cpu-pinning', () => {
    assert.equal(parseCpuPinning('auto'), 'auto');
    assert.deepEqual(parseCpuPinning('1,3-4'), [1, 3, 4]);
    assert.throws(() => parseCpuPinning('x'), /--cpu-pinning/);
  });
});

describe('QEMU plan', () => {
  it('builds a paused microvm with QMP, a logged serial socket, a tap NIC', () => {
    const argv = qemuArgv(plan);
    const joined = argv.join(' ');
    for (const want of [
      '-nodefaults',
      '-no-user-config',
      '-display none',
      '-machine microvm',
      '-accel tcg',
      '-smp 2',
      '-m 512M',
      '-kernel /k/vmlinuz',
      '-initrd /k/initrd.img',
      '-netdev tap,id=hbx-net0,ifname=hbxt0123abcd,script=no,downscript=no',
      '-device virtio-net-device,netdev=hbx-net0,mac=02:42:0a:00:00:02',
      '-qmp unix:/run/x/qmp.sock,server=on,wait=off',
      '-pidfile /run/x/qemu.pid',
    ])
      assert.ok(joined.includes(want), `missing ${want} in ${joined}`);
    assert.ok(argv.includes('-S'));
    assert.ok(
      joined.includes(
        'socket,id=hbx-serial,path=/run/x/console.sock,server=on,wait=off,logfile=/var/x/serial.log',
      ),
    );
    assert.ok(!joined.includes('-cpu host'));
    assert.ok(!joined.includes('prealloc'));
  });
  it('uses PCI devices on q35, -cpu host under KVM, a preallocated backend, and escapes commas', () => {
    const argv = qemuArgv({
      ...plan,
      machine: 'q35',
      accel: 'kvm',
      memoryPrealloc: true,
      paused: false,
      disk: { path: '/d/a,b.qcow2', format: 'qcow2' },
      seed: '/d/seed',
    }).join(' ');
    assert.ok(argv.includes('-cpu host'));
    assert.ok(argv.includes('virtio-net-pci'));
    assert.ok(argv.includes('virtio-blk-pci,drive=hbx-disk'));
    assert.ok(argv.includes('file=/d/a,,b.qcow2,format=qcow2'));
    assert.ok(argv.includes('memory-backend-ram,id=hbx-mem,size=512M,prealloc=on'));
    assert.ok(argv.includes('file.driver=vvfat,file.dir=/d/seed,file.label=cidata'));
    assert.ok(!argv.split(' ').includes('-S'));
  });
  it('gives the guest its address in the kernel ip= format and tsc_early_khz only under TCG microvm', () => {
    const nic = { address: '10.9.0.2', gateway: '10.9.0.1', prefix: 24, dns: '10.9.0.1' };
    const tcg = kernelCmdline({
      hostname: 'web1',
      accel: 'tcg',
      machine: 'microvm',
      hostTscKhz: 2596134,
      nic,
    });
    assert.match(tcg, /tsc_early_khz=2596134/);
    assert.match(tcg, /ip=10\.9\.0\.2::10\.9\.0\.1:255\.255\.255\.0:web1:eth0:off/);
    assert.match(tcg, /hbx\.dns=10\.9\.0\.1/);
    const kvm = kernelCmdline({
      hostname: 'web1',
      accel: 'kvm',
      machine: 'microvm',
      hostTscKhz: 2596134,
      append: 'x=1',
    });
    assert.doesNotMatch(kvm, /tsc_early_khz/);
    assert.ok(kvm.endsWith('x=1'));
    assert.equal(netmaskOf(16), '255.255.0.0');
    assert.equal(netmaskOf(30), '255.255.255.252');
  });
});

describe('VM state', () => {
  it('allows only the documented moves', () => {
    assert.ok(canMove('created', 'starting'));
    assert.ok(canMove('stopped', 'starting'));
    assert.ok(!canMove('running', 'starting'));
    assert.throws(() => requireMove('web1', 'running', 'starting'), /cannot start VM web1: it is running/);
  });
  it('tells a crash from a requested stop', () => {
    assert.equal(exitReasonOf({ status: 137, requested: undefined }), 'QEMU was killed by SIGKILL');
    assert.equal(exitReasonOf({ status: 137, requested: 'kill' }), 'killed by vm kill');
    assert.equal(exitReasonOf({ status: 0, requested: undefined }), 'the guest powered off');
    assert.equal(exitReasonOf({ status: 0, requested: 'stop' }), 'stopped by vm stop');
    assert.match(exitReasonOf({ status: 1, requested: undefined, qemuComplaint: 'boom' }), /status 1: boom/);
    assert.match(exitReasonOf({ status: undefined, requested: undefined }), /no exit status/);
  });
});

describe('cloud-init seed', () => {
  it('gives each NIC its leased address by MAC, the default route on the first', () => {
    const s = cloudInitSeed({
      instanceId: 'abc',
      hostname: 'web1',
      sshKeys: ['ssh-ed25519 AAAA me@host'],
      nics: [
        { mac: '02:42:0a:00:00:02', address: '10.9.0.2', prefix: 24, gateway: '10.9.0.1', dns: '10.9.0.1' },
      ],
    });
    assert.match(s.metaData, /local-hostname: web1/);
    assert.match(s.networkConfig, /macaddress: "02:42:0a:00:00:02"/);
    assert.match(s.networkConfig, /addresses: \[10\.9\.0\.2\/24\]/);
    assert.match(s.networkConfig, /via: 10\.9\.0\.1/);
    assert.match(s.userData, /^#cloud-config\nssh_authorized_keys:\n {2}- "ssh-ed25519 AAAA me@host"/);
  });
});
