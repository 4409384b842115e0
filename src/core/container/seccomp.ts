import type { OciSeccomp, OciSeccompSyscall } from './oci-types.ts';

/**
 * hyperbox's default seccomp profile, in the spirit of docker's: an allowlist of the system calls ordinary programs
 * use; everything else fails with EPERM (errno 1) rather than killing the process, so programs can fall back.
 * Left out on purpose: calls that reach beyond the container (mount, kexec, module loading, clock setting, keyring,
 * namespaces, BPF, perf, swap, reboot). Some come back when the matching capability was added, because the
 * capability is then the user's explicit wish. Names unknown to the host's libseccomp are skipped by runc.
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

const BASE_SYSCALLS = words(`
  # files and directories
  access chdir chmod chown chown32 close close_range copy_file_range creat dup dup2
  dup3 faccessat faccessat2 fadvise64 fadvise64_64 fallocate fchdir fchmod fchmodat
  fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync flock fstat fstat64
  fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futimesat getcwd getdents
  getdents64 lchown lchown32 link linkat lseek _llseek lstat lstat64 mkdir mkdirat
  mknod mknodat newfstatat open openat openat2 pread64 preadv preadv2 pwrite64 pwritev
  pwritev2 read readahead readlink readlinkat readv rename renameat renameat2 rmdir
  sendfile sendfile64 splice stat stat64 statfs statfs64 statx symlink symlinkat sync
  sync_file_range syncfs tee truncate truncate64 umask unlink unlinkat utime utimensat
  utimensat_time64 utimes vmsplice write writev
  # extended attributes and file notifications
  fgetxattr flistxattr fremovexattr fsetxattr getxattr lgetxattr listxattr llistxattr
  lremovexattr lsetxattr removexattr setxattr inotify_add_watch inotify_init inotify_init1
  inotify_rm_watch fanotify_mark
  # polling, events, asynchronous I/O
  epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait
  epoll_wait_old eventfd eventfd2 poll ppoll ppoll_time64 pselect6 pselect6_time64 select
  _newselect signalfd signalfd4 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
  timerfd_settime64 io_cancel io_destroy io_getevents io_pgetevents io_pgetevents_time64 io_setup
  io_submit io_uring_enter io_uring_register io_uring_setup ioctl pipe pipe2
  # memory
  brk madvise membarrier memfd_create memfd_secret mincore mlock mlock2 mlockall mmap
  mmap2 mprotect mremap msync munlock munlockall munmap pkey_alloc pkey_free pkey_mprotect
  remap_file_pages
  # processes, threads, signals
  arch_prctl capget capset execve execveat exit exit_group fork futex futex_time64
  futex_waitv get_robust_list get_thread_area getcpu getegid getegid32 geteuid geteuid32
  getgid getgid32 getgroups getgroups32 getitimer getpgid getpgrp getpid getppid
  getpriority getresgid getresgid32 getresuid getresuid32 getrlimit getrusage getsid gettid
  getuid getuid32 ioprio_get ioprio_set kill pause pidfd_open pidfd_send_signal prctl
  prlimit64 process_mrelease ptrace restart_syscall rseq rt_sigaction rt_sigpending
  rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64
  rt_tgsigqueueinfo sched_get_priority_max sched_get_priority_min sched_getaffinity sched_getattr
  sched_getparam sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
  sched_setattr sched_setparam sched_setscheduler sched_yield seccomp set_robust_list
  set_thread_area set_tid_address setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32
  setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid
  setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit setsid setuid setuid32
  sigaltstack sigprocmask sigreturn tgkill tkill ugetrlimit vfork wait4 waitid waitpid
  landlock_add_rule landlock_create_ruleset landlock_restrict_self modify_ldt
  # time (reading only)
  alarm clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep
  clock_nanosleep_time64 gettimeofday nanosleep time timer_create timer_delete timer_getoverrun
  timer_gettime timer_gettime64 timer_settime timer_settime64 times
  # System V and POSIX IPC (the container has its own IPC namespace)
  ipc mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
  mq_timedsend_time64 mq_unlink msgctl msgget msgrcv msgsnd semctl semget semop semtimedop
  semtimedop_time64 shmat shmctl shmdt shmget
  # sockets
  accept accept4 bind connect getpeername getsockname getsockopt listen recv recvfrom
  recvmmsg recvmmsg_time64 recvmsg send sendmmsg sendmsg sendto setsockopt shutdown
  socket socketcall socketpair
  # system information
  getrandom sysinfo uname
`);

/** Calls that are harmless only because a capability the user explicitly granted already implies them. */
const BY_CAPABILITY: Readonly<Record<string, readonly string[]>> = {
  CAP_SYS_ADMIN: words(`
    bpf fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr move_mount name_to_handle_at
    open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare
  `),
  CAP_SYS_BOOT: words('reboot'),
  CAP_SYS_CHROOT: words('chroot'),
  CAP_SYS_MODULE: words('delete_module init_module finit_module'),
  CAP_SYS_PACCT: words('acct'),
  CAP_SYS_PTRACE: words('kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev'),
  CAP_SYS_RAWIO: words('iopl ioperm'),
  CAP_SYS_TIME: words(
    'settimeofday stime clock_settime clock_settime64 adjtimex clock_adjtime clock_adjtime64',
  ),
  CAP_SYS_TTY_CONFIG: words('vhangup'),
  CAP_SYS_NICE: words('get_mempolicy mbind set_mempolicy set_mempolicy_home_node move_pages'),
  CAP_SYSLOG: words('syslog'),
  CAP_BPF: words('bpf'),
  CAP_PERFMON: words('perf_event_open'),
};

// personality(2) values that only change how the process sees itself: PER_LINUX, PER_LINUX32, UNAME26 variants, and
// the query value 0xffffffff.
const PERSONALITY_VALUES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

// clone(2) flags that create namespaces (CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET): without
// CAP_SYS_ADMIN a process may clone only when none is set.
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

const ARCHITECTURES: Readonly<Record<string, string[]>> = {
  x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

const EPERM = 1;
const ENOSYS = 38;

/** The profile for a process with these capabilities on a host of this Node.js `process.arch`. */
export function defaultSeccompProfile(opts: { capabilities: readonly string[]; arch: string }): OciSeccomp {
  const extra = new Set<string>();
  for (const cap of opts.capabilities) for (const name of BY_CAPABILITY[cap] ?? []) extra.add(name);
  const syscalls: OciSeccompSyscall[] = [
    { names: [...BASE_SYSCALLS, ...[...extra].sort()], action: 'SCMP_ACT_ALLOW' },
    ...PERSONALITY_VALUES.map(
      (value): OciSeccompSyscall => ({
        names: ['personality'],
        action: 'SCMP_ACT_ALLOW',
        args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }],
      }),
    ),
  ];
  if (opts.capabilities.includes('CAP_SYS_ADMIN')) {
    syscalls.push({ names: ['clone', 'clone3'], action: 'SCMP_ACT_ALLOW' });
  } else {
    // glibc falls back to clone(2) when clone3 reports ENOSYS; clone3's flags are in memory, where no filter can
    // check them the way it checks clone's.
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
    syscalls.push({
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    });
  }
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures: ARCHITECTURES[opts.arch] ?? [],
    syscalls,
  };
}
