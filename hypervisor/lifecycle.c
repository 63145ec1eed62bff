// SPDX-License-Identifier: GPL-2.0-or-later
/* Exit record, vCPU pinning and restart-by-exec (lifecycle.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lifecycle.h"
#include "log.h"
#include "vcpu.h"
#include "vm.h"

/* One machine per process: the affinities captured for the restart. */
static cpu_set_t *captured;
static unsigned int nr_captured;

static int parse_uint(const char **s, unsigned long max, unsigned long *out)
{
	char *end;

	if (**s < '0' || **s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(*s, &end, 10);
	if (errno || *out > max)
		return -EINVAL;
	*s = end;
	return 0;
}

int cpulist_parse(const char *s, cpu_set_t *set)
{
	CPU_ZERO(set);
	do {
		unsigned long lo, hi;

		if (parse_uint(&s, CPU_SETSIZE - 1, &lo))
			return -EINVAL;
		hi = lo;
		if (*s == '-' && (s++, parse_uint(&s, CPU_SETSIZE - 1, &hi) || hi < lo))
			return -EINVAL;
		for (unsigned long c = lo; c <= hi; c++)
			CPU_SET(c, set);
	} while (*s == ',' && *++s);
	return *s ? -EINVAL : 0;
}

int vcpu_pin_parse(const char *arg, struct vcpu_pin *pin)
{
	const char *s = arg;
	unsigned long id;

	if (parse_uint(&s, UINT_MAX, &id) || *s != '=')
		return -EINVAL;
	pin->vcpu = id;
	return cpulist_parse(s + 1, &pin->cpus);
}

int vcpu_pins_apply(struct vm *vm, const struct vcpu_pin *pins, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++) {
		const struct vcpu_pin *p = &pins[i];

		if (p->vcpu >= vm->nr_vcpus) {
			pr_err("--vcpu-pin %u=...: the domain has vCPUs 0 to %u", p->vcpu,
			       vm->nr_vcpus - 1);
			return -EINVAL;
		}
		if (sched_setaffinity(vcpu_tid(vm->vcpus[p->vcpu]), sizeof(p->cpus), &p->cpus)) {
			pr_err("cannot pin vcpu %u: %s", p->vcpu, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

void exit_record_write(int fd, int status, unsigned int reason, const char *message)
{
	char buf[512];
	int n;

	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "status=%d\nreason=%u\nmessage=%s\n", status, reason,
		     message);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	/* Newlines in the message would end its line early: the record is line-based. */
	for (char *p = strstr(buf, "message=") + 8; p < buf + n - 1; p++)
		if (*p == '\n')
			*p = ' ';
	if (ftruncate(fd, 0) || pwrite(fd, buf, n, 0) != n)
		pr_warn("cannot write the exit record: %s", strerror(errno));
}

void restart_capture_affinity(struct vm *vm)
{
	free(captured);
	nr_captured = 0;
	captured = calloc(vm->nr_vcpus, sizeof(*captured));
	if (!captured)
		return;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		pid_t tid = vcpu_tid(vm->vcpus[i]);

		if (tid <= 0 || sched_getaffinity(tid, sizeof(captured[i]), &captured[i]))
			CPU_ZERO(&captured[i]);
	}
	nr_captured = vm->nr_vcpus;
}

/* "--opt VALUE" or "--opt=VALUE": the value, or NULL if @arg is not @opt. */
static const char *opt_value(char **argv, int *i, const char *opt)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] || !argv[*i + 1])
		return NULL;
	return argv[++*i];
}

/* Keep an inherited descriptor open across the exec (we set FD_CLOEXEC when adopting it). */
static void keep_fd(const char *num)
{
	char *end;
	long fd = strtol(num, &end, 10);

	if (end != num && (*end == '\0' || *end == ',') && fd >= 0 && fd <= INT_MAX)
		fcntl((int)fd, F_SETFD, 0);
}

/* Descriptors inherited through options: fd=N inside --disk/--net/--kernel/--initrd, -fd N. */
static void keep_inherited_fds(char *const *argv, int argc)
{
	static const char *const fd_opts[] = { "--control-fd", "--kvm-fd", "--exit-fd" };

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *p;

		for (size_t k = 0; k < ARRAY_SIZE(fd_opts); k++)
			if (!strcmp(a, fd_opts[k]) && i + 1 < argc)
				keep_fd(argv[i + 1]);
			else if (!strncmp(a, fd_opts[k], strlen(fd_opts[k])) &&
				 a[strlen(fd_opts[k])] == '=')
				keep_fd(a + strlen(fd_opts[k]) + 1);
		for (p = a; (p = strstr(p, "fd=")); p += 3)
			if (p == a || p[-1] == ',' || p[-1] == '=')
				keep_fd(p + 3);
	}
}

static char *format_pin(unsigned int vcpu, const cpu_set_t *set)
{
	size_t cap = 64 + CPU_SETSIZE * 6, len;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	len = snprintf(s, cap, "--vcpu-pin=%u=", vcpu);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, set))
			len += snprintf(s + len, cap - len, "%s%d", s[len - 1] == '=' ? "" : ",", c);
	return s;
}

int restart_exec(struct vm *vm, int argc, char **argv)
{
	char **nargv = calloc(argc + nr_captured + 4, sizeof(*nargv));
	char mem[40], vcpus[24], console[48];
	const char *console_arg;
	bool restored = false;
	cpu_set_t all;
	int n = 0;

	if (!nargv)
		return -ENOMEM;
	sched_getaffinity(0, sizeof(all), &all);
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--paused"))
			continue;
		if (i && (opt_value(argv, &i, "--vcpu-pin") || opt_value(argv, &i, "--console-fds")))
			continue;
		if (i && (opt_value(argv, &i, "--restore") || opt_value(argv, &i, "--incoming"))) {
			restored = true;
			continue;
		}
		nargv[n++] = argv[i];
	}
	/*
	 * A restored machine took its size from the stream, where --memory and --vcpus may be
	 * left out: the rebooted one keeps it (the last option wins, and any given matched).
	 */
	if (restored) {
		snprintf(mem, sizeof(mem), "--memory=%lluK", (unsigned long long)(vm->mem_size >> 10));
		snprintf(vcpus, sizeof(vcpus), "--vcpus=%u", vm->nr_vcpus);
		nargv[n++] = mem;
		nargv[n++] = vcpus;
	}
	for (unsigned int v = 0; v < nr_captured; v++)
		if (CPU_COUNT(&captured[v]) && !CPU_EQUAL(&captured[v], &all))
			nargv[n++] = format_pin(v, &captured[v]);
	/* The same pty (or socket) on the other side: console sessions go on through the reboot. */
	console_arg = console_exec_arg(vm->console, console, sizeof(console));
	if (console_arg)
		nargv[n++] = (char *)console_arg;
	keep_inherited_fds(nargv, n);
	pr_info("restarting the machine (exec)");
	fflush(NULL);
	execv("/proc/self/exe", nargv);
	pr_err("cannot restart: exec /proc/self/exe: %s", strerror(errno));
	free(nargv);
	return -errno;
}
