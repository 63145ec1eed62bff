// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domains-driver: the timing half of tests/bench/domains, on libxc. It creates domains one
 * after another and times each create from the call to the running domain, then (another
 * run, another process: the registry is how it finds them) destroys them all.
 *
 *   domains-driver create COUNT KERNEL MEMORY        xc_domain_create() in this process
 *   domains-driver create COUNT KERNEL MEMORY --cli DOMUS_XC
 *                                                    one `DOMUS_XC create` process each
 *   domains-driver destroy                           every domain in the registry
 *
 * The registry and the VMM are libxc's usual $DOMUS_RUN_DIR and $DOMUS_VMM. Domains are
 * named bench-1 ... bench-COUNT, have no console and the given MEMORY (like 2M).
 *
 * SIGINT and SIGTERM stay blocked: a create or destroy in progress always completes (a create
 * cut short could leave a VMM the registry does not name yet). `create` stops, with status
 * 130, before the next domain when one is pending; `destroy` finishes regardless. The VMMs
 * start with no signal blocked (libxc sees to it); `domus-xc` children inherit the mask.
 *
 * Output, one line per domain: "created DOMID NANOSECONDS" or "destroyed DOMID NANOSECONDS",
 * then "total NANOSECONDS" (the VMMs' pids are in the registry). On the first failure it
 * says why on stderr and exits 1, leaving the domains it made for a `destroy` run.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <domus/xc.h>

extern char **environ;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int fail(xc_interface *xch, const char *what, int err)
{
	fprintf(stderr, "domains-driver: %s: %s\n", what,
		xch && xc_last_error(xch)[0] ? xc_last_error(xch) : strerror(-err));
	return 1;
}

static int create_one(xc_interface *xch, const xc_build_config *cfg, uint32_t *domid)
{
	xc_domain *dom;
	int r = xc_domain_create(xch, cfg, &dom);

	if (r)
		return r;
	*domid = xc_domain_id(dom);
	xc_domain_close(xch, dom);
	return 0;
}

/* `domus-xc create ...` as its own process; its stdout (the domid) comes through a pipe. */
static int create_cli(const char *xc, const xc_build_config *cfg, const char *mem,
		      uint32_t *domid)
{
	char *argv[] = { (char *)xc, "create", "--name", (char *)cfg->name, "--kernel",
			 (char *)cfg->kernel, "--memory", (char *)mem, "--console", "none", NULL };
	posix_spawn_file_actions_t fa;
	char out[32] = "";
	int pfd[2], status, r;
	pid_t pid;
	ssize_t n;

	if (pipe(pfd))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	r = -posix_spawn(&pid, xc, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	n = r ? 0 : read(pfd[0], out, sizeof(out) - 1);
	close(pfd[0]);
	if (r)
		return r;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status) || n <= 0)
		return -EIO;	/* domus-xc said why on stderr */
	*domid = strtoul(out, NULL, 10);
	return 0;
}

static int cmd_create(xc_interface *xch, unsigned long count, const char *kernel,
		      const char *mem, const char *cli)
{
	xc_build_config cfg = { .kernel = kernel, .console = XC_CONSOLE_NONE };
	uint64_t start = now_ns();
	char name[32];
	int r;

	r = xc_parse_size(mem, &cfg.mem_bytes);
	if (r)
		return fail(NULL, mem, r);
	cfg.name = name;
	for (unsigned long i = 1; i <= count; i++) {
		uint64_t t0;
		uint32_t domid = 0;
		sigset_t pending;

		if (!sigpending(&pending) && (sigismember(&pending, SIGINT) ||
					      sigismember(&pending, SIGTERM))) {
			fprintf(stderr, "domains-driver: interrupted after %lu domains\n", i - 1);
			return 130;
		}

		snprintf(name, sizeof(name), "bench-%lu", i);
		t0 = now_ns();
		r = cli ? create_cli(cli, &cfg, mem, &domid) : create_one(xch, &cfg, &domid);
		if (r)
			return fail(cli ? NULL : xch, name, r);
		printf("created %" PRIu32 " %" PRIu64 "\n", domid, now_ns() - t0);
	}
	printf("total %" PRIu64 "\n", now_ns() - start);
	return 0;
}

static int cmd_destroy(xc_interface *xch)
{
	uint64_t start = now_ns();
	uint32_t *ids;
	int n = xc_domain_list(xch, &ids), r = 0;

	if (n < 0)
		return fail(xch, "list", n);
	for (int i = 0; i < n && !r; i++) {
		uint64_t t0 = now_ns();
		xc_domain *dom;

		r = xc_domain_open(xch, ids[i], &dom);
		if (!r) {
			r = xc_domain_destroy(xch, dom);
			xc_domain_close(xch, dom);
		}
		if (r)
			fail(xch, "destroy", r);
		else
			printf("destroyed %" PRIu32 " %" PRIu64 "\n", ids[i], now_ns() - t0);
	}
	free(ids);
	if (!r)
		printf("total %" PRIu64 "\n", now_ns() - start);
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	xc_interface *xch;
	char *end;
	unsigned long count = argc > 2 ? strtoul(argv[2], &end, 10) : 0;
	int r;

	sigset_t stop;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!(argc == 2 && !strcmp(argv[1], "destroy")) &&
	    !((argc == 5 || (argc == 7 && !strcmp(argv[5], "--cli"))) &&
	      !strcmp(argv[1], "create") && count && !*end)) {
		fprintf(stderr, "usage: domains-driver create COUNT KERNEL MEMORY [--cli DOMUS_XC]\n"
				"       domains-driver destroy\n");
		return 2;
	}
	r = xc_interface_open(0, &xch);
	if (r)
		return fail(NULL, "open", r);
	r = argc == 2 ? cmd_destroy(xch)
		      : cmd_create(xch, count, argv[3], argv[4], argc == 7 ? argv[6] : NULL);
	xc_interface_close(xch);
	return r;
}
