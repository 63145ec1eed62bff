// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domus-vmm's seccomp filter (hypervisor/syscall_filter.c), installed in a child process:
 * the calls it denies fail with EPERM in every thread, including threads that existed
 * before it was installed (TSYNC); what a VMM does all day (files, sockets, memory,
 * threads, ioctls, re-exec) still works.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syscall_filter.h"

int log_verbose;	/* log.h */
static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL (line %d): " #cond ": ", __LINE__);                           \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* The denied calls, each expected to fail with EPERM. */
static void check_denied(const char *who)
{
	errno = 0;
	CHECK(ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0 && errno == EPERM, "%s: ptrace: %m", who);
	errno = 0;
	CHECK(unshare(CLONE_NEWUTS) < 0 && errno == EPERM, "%s: unshare: %m", who);
	errno = 0;
	CHECK(mount("none", "/", "tmpfs", 0, NULL) < 0 && errno == EPERM, "%s: mount: %m", who);
	errno = 0;
	CHECK(syscall(SYS_bpf, 0, NULL, 0) < 0 && errno == EPERM, "%s: bpf: %m", who);
	errno = 0;
	CHECK(syscall(SYS_io_uring_setup, 1, NULL) < 0 && errno == EPERM, "%s: io_uring: %m",
	      who);
	errno = 0;
	CHECK(syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL, 0, 0) < 0 &&
	      errno == EPERM, "%s: process_vm_readv: %m", who);
}

static void *thread_check(void *who)
{
	check_denied(who);
	return NULL;
}

/* Kept waiting from before the filter to after it: TSYNC must have reached it too. */
static pthread_mutex_t go = PTHREAD_MUTEX_INITIALIZER;

static void *early_thread(void *unused)
{
	pthread_mutex_lock(&go);
	check_denied("a thread from before the filter");
	pthread_mutex_unlock(&go);
	return NULL;
}

static void check_allowed(void)
{
	char buf[16];
	int sv[2], fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) > 0, "open/read: %m");
	close(fd);
	CHECK(m != MAP_FAILED && !madvise(m, 1 << 20, MADV_DONTNEED) && !munmap(m, 1 << 20),
	      "mmap/madvise/munmap: %m");
	CHECK(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) && write(sv[0], "x", 1) == 1 &&
	      read(sv[1], buf, 1) == 1, "socketpair: %m");
	fd = memfd_create("ram", MFD_CLOEXEC);
	CHECK(fd >= 0 && !ftruncate(fd, 1 << 20) &&
	      !fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096),
	      "memfd/fallocate: %m");
	close(fd);
}

static int child(const char *self)
{
	pthread_t early, late;

	pthread_mutex_lock(&go);
	pthread_create(&early, NULL, early_thread, NULL);
	if (vmm_seccomp_install()) {
		printf("FAIL: vmm_seccomp_install failed\n");
		return 1;
	}
	pthread_mutex_unlock(&go);
	pthread_join(early, NULL);
	check_denied("the installing thread");
	pthread_create(&late, NULL, thread_check, "a thread from after the filter");
	pthread_join(late, NULL);
	check_allowed();
	/* A reboot re-executes the VMM: execve stays allowed (and the filter with it). */
	fflush(stdout);
	execl(self, self, "--after-exec", (char *)NULL);
	printf("FAIL: execve: %m\n");
	return 1;
}

int main(int argc, char **argv)
{
	int status;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "--after-exec")) {
		check_denied("after execve");
		return failures ? 1 : 0;
	}
	pid = fork();
	if (pid == 0)
		_exit(child(argv[0]) || failures ? 1 : 0);
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		printf("FAIL: fork/wait: %m\n");
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("FAIL: the filtered child ended with status %#x\n", status);
		return 1;
	}
	/* And the parent, never filtered, is not: unshare works for root (or EPERM otherwise). */
	printf("ok: ptrace, unshare, mount, bpf, io_uring, process_vm_readv denied (EPERM) in the "
	       "installing thread, threads from before and after, and after execve; files, "
	       "memory, sockets, memfd and execve still work\n");
	return 0;
}
