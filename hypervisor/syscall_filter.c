// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A seccomp filter for the running VMM: defence in depth against a guest that finds a
 * memory-safety bug in a device model. It is a deny list, installed once the machine is
 * built and before any vCPU runs, for every thread (TSYNC): the system calls a VMM never
 * needs and an attacker would want (debugging or patching other processes, namespaces
 * and mounts, loading kernel code, keys, kernel-wide settings, io_uring, BPF) fail with
 * EPERM. An allow list would be tighter, but the VMM's set is not small and not fixed (a
 * reboot re-executes it, restore and migration open sockets and files, the C library
 * varies), and a missed call would kill a guest on a path no test took; EPERM on a denied
 * call fails the one operation, never the domain.
 */
#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "log.h"
#include "syscall_filter.h"

static const char *const denied[] = {
	/* other processes: attach, read or write their memory, compare their files */
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	/* namespaces, mounts, the file-system root */
	"unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount",
	"fsconfig", "fspick", "move_mount", "open_tree", "mount_setattr",
	"open_by_handle_at", "name_to_handle_at",
	/* kernel code, BPF, perf, keys */
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "bpf",
	"perf_event_open", "add_key", "request_key", "keyctl",
	/* kernel-wide settings */
	"reboot", "swapon", "swapoff", "acct", "settimeofday", "clock_settime", "clock_adjtime",
	"adjtimex", "syslog", "quotactl", "sethostname", "setdomainname", "iopl", "ioperm",
	"personality", "lookup_dcookie", "vhangup", "nfsservctl",
	/* io_uring: a second system-call interface this filter would not see */
	"io_uring_setup", "io_uring_enter", "io_uring_register",
};

int vmm_seccomp_install(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int ret;

	if (!ctx)
		return -ENOMEM;
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	for (size_t i = 0; !ret && i < sizeof(denied) / sizeof(denied[0]); i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);

		/* A name this libseccomp or architecture does not know: nothing to deny. */
		if (nr != __NR_SCMP_ERROR)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret)
		pr_err("cannot install the seccomp filter: %s", strerror(-ret));
	else
		pr_debug("seccomp filter installed: %zu system calls denied",
			 sizeof(denied) / sizeof(denied[0]));
	return ret;
}
