import type { OciSeccomp } from './oci-types.ts';
import {
  type ConditionalProfile,
  type ConditionalRule,
  resolveProfile,
  type SeccompArg,
  seccompArchOf,
} from './seccomp-rules.ts';

/**
 * hyperbox's default seccomp profile: docker's (moby's profiles/seccomp, Docker 25 and later) in meaning, rule by
 * rule, written here as groups the reader can check. An allowlist: every other call fails with EPERM (errno 1)
 * rather than killing the process, so programs can fall back. Left out: calls that reach beyond the container
 * (mount, kexec, module loading, clock setting, keyring, namespaces, BPF, perf, swap, reboot, io_uring); some come
 * back when the matching capability was added, because the capability is then the user's explicit wish.
 *
 * seccomp.test.ts resolves docker's own default.json and this profile for a set of capability sets and
 * architectures and fails on any difference, syscall by syscall, that `deliberateDifferences` does not list.
 * Names unknown to the host's libseccomp are skipped by runc; runc answers ENOSYS itself for calls newer than any
 * the profile names, so new programs see "not implemented" and fall back.
 */

/** Splits a list written one group per line; `# ...` lines name the group that follows. */
function words(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join(' ')
    .split(/\s+/)
    .filter(Boolean);
}

const ALLOWED = words(`
  # files and directories
  access cachestat chdir chmod chown chown32 close close_range copy_file_range creat dup dup2 dup3 faccessat
  faccessat2 fadvise64 fadvise64_64 fallocate fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl
  fcntl64 fdatasync flock fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futimesat getcwd
  getdents getdents64 lchown lchown32 link linkat listmount lseek _llseek lstat lstat64 mkdir mkdirat mknod mknodat
  name_to_handle_at newfstatat open openat openat2 pread64 preadv preadv2 pwrite64 pwritev pwritev2 read readahead
  readlink readlinkat readv rename renameat renameat2 rmdir sendfile sendfile64 splice stat stat64 statfs statfs64
  statmount statx symlink symlinkat sync sync_file_range syncfs tee truncate truncate64 umask unlink unlinkat utime
  utimensat utimensat_time64 utimes vmsplice write writev
  # extended attributes and file notifications
  fgetxattr flistxattr fremovexattr fsetxattr getxattr getxattrat lgetxattr listxattr listxattrat llistxattr
  lremovexattr lsetxattr removexattr removexattrat setxattr setxattrat inotify_add_watch inotify_init inotify_init1
  inotify_rm_watch fanotify_mark
  # polling, events, asynchronous I/O (io_uring is not here: its rings bypass this filter, Docker 25 took it out)
  epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd
  eventfd2 poll ppoll ppoll_time64 pselect6 pselect6_time64 select _newselect signalfd signalfd4 timerfd_create
  timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 io_cancel io_destroy io_getevents
  io_pgetevents io_pgetevents_time64 io_setup io_submit ioctl pipe pipe2
  # memory
  brk madvise map_shadow_stack membarrier memfd_create memfd_secret mincore mlock mlock2 mlockall mmap mmap2
  mprotect mremap mseal msync munlock munlockall munmap pkey_alloc pkey_free pkey_mprotect remap_file_pages
  # processes, threads, signals (clone, ptrace and personality are below, with conditions)
  capget capset execve execveat exit exit_group fork futex futex_requeue futex_time64 futex_wait futex_waitv
  futex_wake get_robust_list get_thread_area getcpu getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups
  getgroups32 getitimer getpgid getpgrp getpid getppid getpriority getresgid getresgid32 getresuid getresuid32
  getrlimit getrusage getsid gettid getuid getuid32 ioprio_get ioprio_set kill pause pidfd_open pidfd_send_signal
  prctl prlimit64 process_mrelease restart_syscall rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo
  rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_get_priority_max
  sched_get_priority_min sched_getaffinity sched_getattr sched_getparam sched_getscheduler sched_rr_get_interval
  sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield
  seccomp set_robust_list set_thread_area set_tid_address setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32
  setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
  setresuid32 setreuid setreuid32 setrlimit setsid setuid setuid32 sigaltstack sigprocmask sigreturn tgkill tkill
  ugetrlimit uretprobe vfork wait4 waitid waitpid landlock_add_rule landlock_create_ruleset landlock_restrict_self
  # time (setting the clocks takes CAP_SYS_TIME in the kernel as well: adjtimex with modes does)
  adjtimex alarm clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
  clock_nanosleep clock_nanosleep_time64 gettimeofday nanosleep time timer_create timer_delete timer_getoverrun
  timer_gettime timer_gettime64 timer_settime timer_settime64 times
  # System V and POSIX IPC (the container has its own IPC namespace)
  ipc mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64
  mq_unlink msgctl msgget msgrcv msgsnd semctl semget semop semtimedop semtimedop_time64 shmat shmctl shmdt shmget
  # sockets (socket itself is below, by address family)
  accept accept4 bind connect getpeername getsockname getsockopt listen recv recvfrom recvmmsg recvmmsg_time64
  recvmsg send sendmmsg sendmsg sendto setsockopt shutdown socketcall socketpair
  # system information
  getrandom riscv_hwprobe sysinfo uname
`);

/** Calls only the given architectures have, or that are harmless only there. */
const BY_ARCHITECTURE: readonly [arches: string[], names: string[]][] = [
  [['amd64', 'x32'], ['arch_prctl']],
  [['amd64', 'x32', 'x86'], ['modify_ldt']],
  [
    ['arm', 'arm64'],
    words('arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls'),
  ],
  [['ppc64le'], words('sync_file_range2 swapcontext')],
  [['s390', 's390x'], words('s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr')],
  [['riscv64'], ['riscv_flush_icache']],
];

/** Calls that are harmless only because a capability the user explicitly granted already implies them. */
const BY_CAPABILITY: readonly [cap: string, names: string[]][] = [
  ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']],
  [
    'CAP_SYS_ADMIN',
    words(`
      bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie lsm_get_self_attr lsm_list_modules
      lsm_set_self_attr mount mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname
      sethostname setns syslog umount umount2 unshare
    `),
  ],
  ['CAP_SYS_BOOT', ['reboot']],
  ['CAP_SYS_CHROOT', ['chroot']],
  ['CAP_SYS_MODULE', words('delete_module init_module finit_module')],
  ['CAP_SYS_PACCT', ['acct']],
  ['CAP_SYS_PTRACE', words('kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace')],
  ['CAP_SYS_RAWIO', words('iopl ioperm')],
  ['CAP_SYS_TIME', words('settimeofday stime clock_settime clock_settime64')],
  ['CAP_SYS_TTY_CONFIG', ['vhangup']],
  ['CAP_SYS_NICE', words('get_mempolicy mbind set_mempolicy set_mempolicy_home_node')],
  ['CAP_SYSLOG', ['syslog']],
  ['CAP_BPF', ['bpf']],
  ['CAP_PERFMON', ['perf_event_open']],
];

// Before Linux 4.8 a traced process could change its system call after seccomp had checked it.
const PTRACE = { names: words('ptrace process_vm_readv process_vm_writev'), minKernel: '4.8' };

// Address families refused to socket(2). AF_ALG (38): the kernel's crypto API, a large attack surface, never needed
// by programs that have a user-space crypto library. AF_VSOCK (40): vsock ports are not namespaced, so a container
// could bind a port the host (or a VM's host channel) holds.
const AF_ALG = 38;
const AF_VSOCK = 40;
const REFUSED_FAMILIES = [AF_ALG, AF_VSOCK];

// personality(2) values that only change how the process sees itself: PER_LINUX, PER_LINUX32, UNAME26 and
// UNAME26|PER_LINUX32, and the query 0xffffffff.
const PERSONALITY_VALUES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

// clone(2) flags that create namespaces: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
// (CLONE_NEWTIME, 0x80, lies in clone's exit-signal byte: only clone3 and unshare take it). Without CAP_SYS_ADMIN a
// process may clone only with none of them set.
const CLONE_NAMESPACE_FLAGS =
  0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

const EPERM = 1;
const ENOSYS = 38;

/** Rules allowing a call when argument `index` has any value but the refused ones (each comparison is one rule). */
function allowExcept(name: string, index: number, refused: readonly number[]): ConditionalRule[] {
  const sorted = [...refused].sort((a, b) => a - b);
  const allow = (value: number, op: string): ConditionalRule => ({
    names: [name],
    action: 'SCMP_ACT_ALLOW',
    args: [{ index, value, op }],
  });
  const rules = [allow(sorted[0]!, 'SCMP_CMP_LT')];
  for (let i = 0; i + 1 < sorted.length; i++) {
    for (let v = sorted[i]! + 1; v < sorted[i + 1]!; v++) rules.push(allow(v, 'SCMP_CMP_EQ'));
  }
  rules.push(allow(sorted.at(-1)!, 'SCMP_CMP_GT'));
  return rules;
}

function cloneWithoutNamespaces(index: number): SeccompArg[] {
  return [{ index, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }];
}

const S390 = ['s390', 's390x'];

/** The profile with its conditions: what `defaultSeccompProfile` resolves for one container. */
export const DEFAULT_PROFILE: ConditionalProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: EPERM,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    { architecture: 'SCMP_ARCH_MIPS64', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64N32'] },
    { architecture: 'SCMP_ARCH_MIPS64N32', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64'] },
    { architecture: 'SCMP_ARCH_MIPSEL64', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32'] },
    { architecture: 'SCMP_ARCH_MIPSEL64N32', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64'] },
    { architecture: 'SCMP_ARCH_S390X', subArchitectures: ['SCMP_ARCH_S390'] },
    { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: null },
    { architecture: 'SCMP_ARCH_LOONGARCH64', subArchitectures: null },
  ],
  syscalls: [
    { names: ALLOWED, action: 'SCMP_ACT_ALLOW' },
    { names: PTRACE.names, action: 'SCMP_ACT_ALLOW', includes: { minKernel: PTRACE.minKernel } },
    ...allowExcept('socket', 0, REFUSED_FAMILIES),
    ...PERSONALITY_VALUES.map(
      (value): ConditionalRule => ({
        names: ['personality'],
        action: 'SCMP_ACT_ALLOW',
        args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }],
      }),
    ),
    ...BY_ARCHITECTURE.map(
      ([arches, names]): ConditionalRule => ({ names, action: 'SCMP_ACT_ALLOW', includes: { arches } }),
    ),
    ...BY_CAPABILITY.map(
      ([cap, names]): ConditionalRule => ({ names, action: 'SCMP_ACT_ALLOW', includes: { caps: [cap] } }),
    ),
    {
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: cloneWithoutNamespaces(0),
      excludes: { caps: ['CAP_SYS_ADMIN'], arches: S390 },
    },
    {
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: cloneWithoutNamespaces(1),
      comment: "s390's clone takes the stack first and the flags second",
      includes: { arches: S390 },
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
    {
      // glibc falls back to clone(2) when clone3 reports ENOSYS; clone3's flags are in memory, where no filter can
      // check them the way it checks clone's.
      names: ['clone3'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: ENOSYS,
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
  ],
};

/** A way in which hyperbox's resolved profile differs from docker's on purpose, for the named calls. */
export interface DeliberateDifference {
  syscalls: readonly string[];
  reason: string;
}

/**
 * Every difference from docker's default profile that seccomp.test.ts accepts. Empty: hyperbox matches docker
 * call by call. Kept as a table so that a difference is a decision written down with its reason, never an accident.
 *
 * Shared with docker, not a difference: socketcall(2) stays allowed. 32-bit x86 programs (glibc and musl on i386)
 * create every socket through it, and its arguments are behind a pointer that seccomp cannot read, so an i386
 * program can still ask for AF_VSOCK or AF_ALG that way. Refusing socketcall took networking from every 32-bit
 * program (docker tried it and went back); closing that path takes an LSM rule at socket creation, as docker's
 * AppArmor profile has, which hyperbox does not load.
 */
export const deliberateDifferences: readonly DeliberateDifference[] = [];

/** The profile for a container with these capabilities, on a host of this Node.js `process.arch` and kernel. */
export function defaultSeccompProfile(opts: {
  capabilities: readonly string[];
  arch: string;
  kernelRelease: string;
}): OciSeccomp {
  return resolveProfile(DEFAULT_PROFILE, {
    arch: seccompArchOf(opts.arch),
    capabilities: opts.capabilities,
    kernelRelease: opts.kernelRelease,
  });
}
