/**
 * The default seccomp profile against the real kernel, through runc: a static probe (test/helpers/syscall-probe.c)
 * makes the calls docker's profile refuses or filters by argument, inside containers run by the CLI, and reports
 * each outcome. Sockets are only created and closed: no vsock port is ever bound.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason, TestRoot } from './helpers/cli.ts';
import { importProbeImage, probeResults, probeSkipReason } from './helpers/syscall-probe.ts';

const skip = privilegedSkipReason() ?? probeSkipReason();
if (skip) console.log(`# skipping seccomp tests: ${skip}`);

const AF_UNIX = 1;
const AF_INET = 2;
const AF_NETLINK = 16;
const AF_ALG = 38;
const AF_VSOCK = 40;
const SOCK_STREAM = 1;
const SOCK_RAW = 3;
const SOCK_SEQPACKET = 5;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWUSER = 0x10000000;
const ADDR_NO_RANDOMIZE = 0x0040000;

const vsock = `socket:${AF_VSOCK}:${SOCK_STREAM}`;
const alg = `socket:${AF_ALG}:${SOCK_SEQPACKET}`;
// io_uring_disabled (Linux 6.6+) may refuse io_uring to everyone: then only the filter's verdict can be checked.
const ioUringOpen = (() => {
  try {
    return fs.readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim() === '0';
  } catch {
    return true;
  }
})();

describe('seccomp: the default profile in real containers', { skip }, () => {
  let t: TestRoot;
  before(() => {
    t = new TestRoot();
    importProbeImage(t, 'probe:1');
  });
  after(() => {
    assert.deepEqual(t.cleanup(), []);
  });

  const probe = (flags: string[], checks: string[]) =>
    probeResults(t.ok(['run', '--rm', ...flags, 'probe:1', '/probe', ...checks]));

  it('refuses io_uring, vsock and AF_ALG sockets and namespaces, and leaves ordinary calls alone', () => {
    const got = probe(
      [],
      [
        'io_uring_setup',
        vsock,
        alg,
        `socket:${AF_INET}:${SOCK_STREAM}`,
        `socket:${AF_UNIX}:${SOCK_STREAM}`,
        `socket:${AF_NETLINK}:${SOCK_RAW}`,
        'clone:0',
        `clone:${CLONE_NEWUSER}`,
        'clone3',
        `unshare:${CLONE_NEWUTS}`,
        'personality:0',
        `personality:${ADDR_NO_RANDOMIZE}`,
      ],
    );
    assert.deepEqual(got, {
      io_uring_setup: 'EPERM',
      [vsock]: 'EPERM',
      [alg]: 'EPERM',
      [`socket:${AF_INET}:${SOCK_STREAM}`]: 'ok',
      [`socket:${AF_UNIX}:${SOCK_STREAM}`]: 'ok',
      [`socket:${AF_NETLINK}:${SOCK_RAW}`]: 'ok',
      'clone:0': 'ok',
      [`clone:${CLONE_NEWUSER}`]: 'EPERM',
      clone3: 'ENOSYS', // so that glibc falls back to clone, whose flags the filter can see
      [`unshare:${CLONE_NEWUTS}`]: 'EPERM',
      'personality:0': 'ok',
      [`personality:${ADDR_NO_RANDOMIZE}`]: 'EPERM',
    });
    assert.equal(
      t.ok(['run', '--rm', 'probe:1', 'sh', '-c', 'echo hello | wc -c; ls /bin >/dev/null && echo ran']),
      '6\nran\n',
    );
  });

  it("applies the same rules to 32-bit x86 programs, with docker's socketcall rule", () => {
    const got = probe(
      [],
      [
        'i386_io_uring_setup',
        `i386_socket:${AF_VSOCK}:${SOCK_STREAM}`,
        `i386_socket:${AF_INET}:${SOCK_STREAM}`,
        `i386_socketcall:${AF_INET}:${SOCK_STREAM}`,
      ],
    );
    assert.deepEqual(got, {
      i386_io_uring_setup: 'EPERM',
      [`i386_socket:${AF_VSOCK}:${SOCK_STREAM}`]: 'EPERM',
      [`i386_socket:${AF_INET}:${SOCK_STREAM}`]: 'ok',
      // As in docker: 32-bit libcs make every socket through socketcall, whose arguments seccomp cannot read.
      [`i386_socketcall:${AF_INET}:${SOCK_STREAM}`]: 'ok',
    });
  });

  it('lets CAP_SYS_ADMIN create namespaces but still refuses io_uring and vsock', () => {
    const got = probe(
      ['--cap-add', 'SYS_ADMIN'],
      ['io_uring_setup', vsock, `unshare:${CLONE_NEWUTS}`, 'clone3'],
    );
    assert.deepEqual(got, {
      io_uring_setup: 'EPERM',
      [vsock]: 'EPERM',
      [`unshare:${CLONE_NEWUTS}`]: 'ok',
      clone3: 'EINVAL', // reached the kernel, which refused the empty argument block
    });
  });

  for (const [label, flags] of [
    ['--security-opt seccomp=unconfined', ['--security-opt', 'seccomp=unconfined']],
    ['--privileged', ['--privileged']],
  ] as const) {
    it(`filters nothing with ${label}`, () => {
      const status = t.ok(['run', '--rm', ...flags, 'probe:1', 'grep', 'Seccomp:', '/proc/self/status']);
      assert.match(status, /Seccomp:\s+0/);
      const got = probe(
        [...flags],
        ['io_uring_setup', vsock, `i386_socket:${AF_VSOCK}:${SOCK_STREAM}`, 'clone3'],
      );
      assert.equal(got.clone3, 'EINVAL');
      // The kernel's own answer: the socket opens where vsock is built in (or "address family not supported").
      assert.notEqual(got[vsock], 'EPERM');
      assert.equal(got[`i386_socket:${AF_VSOCK}:${SOCK_STREAM}`], got[vsock]);
      if (ioUringOpen) assert.equal(got.io_uring_setup, 'ok');
    });
  }
});
