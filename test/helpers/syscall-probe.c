/*
 * Makes the system calls named on its command line, one after the other, and prints one line for each:
 * "<check> ok" or "<check> <errno name>". The seccomp tests run it inside containers (built static, so it needs
 * nothing from the image). A check is a name and numbers separated by colons:
 *
 *   io_uring_setup               io_uring_setup(2) with one entry
 *   socket:FAMILY:TYPE           socket(2), closed again at once (nothing is bound or connected)
 *   clone:FLAGS                  clone(2) with FLAGS|SIGCHLD; the child exits at once
 *   clone3                       clone3(2) with a zero size: EINVAL when the kernel sees it, ENOSYS from the filter
 *   unshare:FLAGS                unshare(2)
 *   personality:VALUE            personality(2)
 *   i386_io_uring_setup, i386_socket:FAMILY:TYPE, i386_socketcall:FAMILY:TYPE
 *                                the same through the 32-bit x86 system call gate (int 0x80), which seccomp checks
 *                                against its i386 rules; socketcall(2) is how 32-bit libcs create sockets
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define I386_SOCKETCALL 102
#define I386_SOCKET 359
#define I386_IO_URING_SETUP 425
#define SYS_SOCKET_CALL 1

/* Static, so that their addresses fit the 32-bit gate's registers (the binary is linked without PIE). */
static unsigned char ring_params[120];
static unsigned int socketcall_args[3];

/* Returns the result or -errno, as the kernel does. */
static long i386_call(long nr, long a, long b, long c) {
#if defined(__x86_64__)
  long ret;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "a"(nr), "b"(a), "c"(b), "d"(c)
                   : "memory", "r8", "r9", "r10", "r11");
  return ret;
#else
  (void)nr, (void)a, (void)b, (void)c;
  return -ENOSYS;
#endif
}

/* 0 on success (closing a returned fd), else -errno. */
static long from_libc(long r) {
  if (r < 0) return -errno;
  return 0;
}

static long closing(long fd) {
  if (fd < 0) return fd;
  close((int)fd);
  return 0;
}

static long run(const char *name, long x, long y) {
  if (!strcmp(name, "io_uring_setup")) {
    memset(ring_params, 0, sizeof ring_params);
    long fd = syscall(SYS_io_uring_setup, 1, ring_params);
    return fd < 0 ? -errno : closing(fd);
  }
  if (!strcmp(name, "socket")) {
    long fd = syscall(SYS_socket, x, y, 0);
    return fd < 0 ? -errno : closing(fd);
  }
  if (!strcmp(name, "clone")) {
    long pid = syscall(SYS_clone, x | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid < 0) return -errno;
    waitpid((pid_t)pid, NULL, 0);
    return 0;
  }
  if (!strcmp(name, "clone3")) return from_libc(syscall(SYS_clone3, NULL, 0));
  if (!strcmp(name, "unshare")) return from_libc(syscall(SYS_unshare, x));
  if (!strcmp(name, "personality")) return from_libc(syscall(SYS_personality, x));
  if (!strcmp(name, "i386_io_uring_setup")) {
    memset(ring_params, 0, sizeof ring_params);
    return closing(i386_call(I386_IO_URING_SETUP, 1, (long)ring_params, 0));
  }
  if (!strcmp(name, "i386_socket")) return closing(i386_call(I386_SOCKET, x, y, 0));
  if (!strcmp(name, "i386_socketcall")) {
    socketcall_args[0] = (unsigned int)x;
    socketcall_args[1] = (unsigned int)y;
    socketcall_args[2] = 0;
    return closing(i386_call(I386_SOCKETCALL, SYS_SOCKET_CALL, (long)socketcall_args, 0));
  }
  fprintf(stderr, "syscall-probe: unknown check \"%s\"\n", name);
  exit(2);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    char check[256];
    snprintf(check, sizeof check, "%s", argv[i]);
    char *rest = check;
    const char *name = strsep(&rest, ":");
    const char *first = rest ? strsep(&rest, ":") : NULL;
    const char *second = rest;
    long x = first ? strtol(first, NULL, 0) : 0;
    long y = second ? strtol(second, NULL, 0) : 0;
    long r = run(name, x, y);
    if (r == 0) printf("%s ok\n", argv[i]);
    else printf("%s %s\n", argv[i], strerrorname_np((int)-r));
    fflush(stdout);
  }
  return 0;
}
