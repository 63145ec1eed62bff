// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domus-xc: a small tool on libxc for people and tests, with xm's verbs where they apply.
 * Until domains have ids and a registry, a domain is named by its control socket.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include <domus/xc.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: domus-xc VERB SOCKET [ARG]\n"
		"Control a running Domus domain through its VMM's control socket (--control).\n"
		"\n"
		"  info SOCKET            state, memory, uptime, vCPUs with thread and CPU time\n"
		"  pause SOCKET           stop every vCPU\n"
		"  unpause SOCKET         let them run again\n"
		"  shutdown SOCKET [-w]   press the ACPI power button; -w waits until it ends\n"
		"  destroy SOCKET         end the domain now\n"
		"  mem-set SOCKET SIZE    balloon target, like 512M or 1G (a plain number is MiB)\n"
		"  events SOCKET          print state changes until the domain ends\n"
		"\n"
		"Exit status: 0 done, 1 the request failed, 2 bad usage.\n");
}

static int show_info(xc_interface *xch, xc_domain *dom)
{
	xc_dominfo info;
	int r;

	xc_dominfo_init(&info);
	r = xc_domain_getinfo(xch, dom, &info);
	if (r)
		return r;
	printf("state     %s\npid       %d\nvcpus     %u\n", xc_domain_state_name(info.state),
	       (int)info.pid, info.nr_vcpus);
	printf("memory    %" PRIu64 " MiB (target %" PRIu64 " MiB, actual %" PRIu64 " MiB)\n",
	       info.mem_bytes >> 20, info.mem_target_bytes >> 20, info.mem_actual_bytes >> 20);
	printf("uptime    %.1f s\ncpu time  %.2f s\n", info.uptime_ns / 1e9,
	       info.cpu_time_ns / 1e9);
	for (unsigned int i = 0; i < info.nr_vcpus; i++)
		printf("vcpu %-4u thread %-8d %-8s %.2f s\n", info.vcpus[i].id,
		       (int)info.vcpus[i].tid, info.vcpus[i].running ? "running" : "stopped",
		       info.vcpus[i].cpu_time_ns / 1e9);
	xc_dominfo_dispose(&info);
	return 0;
}

/* Print events until the connection ends (the VMM exited). */
static int follow_events(xc_interface *xch, xc_domain *dom)
{
	xc_domain_event ev;
	int r;

	while (!(r = xc_domain_wait_event(xch, dom, -1, &ev))) {
		printf("%s: %s", xc_domain_state_name(ev.state), xc_domain_reason_name(ev.reason));
		if (ev.exit_status >= 0)
			printf(" (exit status %d: %s)", ev.exit_status, ev.message);
		printf("\n");
		fflush(stdout);
	}
	return r == -ECONNRESET ? 0 : r;
}

static int run(xc_interface *xch, xc_domain *dom, const char *verb, const char *arg)
{
	uint64_t bytes;
	int r;

	if (!strcmp(verb, "info"))
		return show_info(xch, dom);
	if (!strcmp(verb, "pause"))
		return xc_domain_pause(xch, dom);
	if (!strcmp(verb, "unpause"))
		return xc_domain_unpause(xch, dom);
	if (!strcmp(verb, "destroy"))
		return xc_domain_destroy(xch, dom);
	if (!strcmp(verb, "events")) {
		r = xc_domain_subscribe(xch, dom);
		return r ? r : follow_events(xch, dom);
	}
	if (!strcmp(verb, "shutdown")) {
		r = arg ? xc_domain_subscribe(xch, dom) : 0;
		if (!r)
			r = xc_domain_shutdown(xch, dom);
		return r || !arg ? r : follow_events(xch, dom);
	}
	/* mem-set; main() checked the size */
	xc_parse_size(arg, &bytes);
	return xc_domain_set_memory_target(xch, dom, bytes);
}

static bool valid_verb(const char *verb, const char *arg)
{
	static const char *const plain[] = { "info", "pause", "unpause", "destroy", "events" };

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (!strcmp(verb, plain[i]))
			return !arg;
	if (!strcmp(verb, "shutdown"))
		return !arg || !strcmp(arg, "-w") || !strcmp(arg, "--wait");
	if (!strcmp(verb, "mem-set") && arg) {
		uint64_t bytes;

		if (!xc_parse_size(arg, &bytes))
			return true;
		fprintf(stderr, "domus-xc: mem-set: '%s' is not a size like 512M or 1G\n", arg);
	}
	return false;
}

int main(int argc, char **argv)
{
	xc_interface *xch = NULL;
	xc_domain *dom = NULL;
	int r;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))) {
		printf("domus-xc %s\n", DOMUS_VERSION);
		return 0;
	}
	if (argc < 3 || argc > 4 || !valid_verb(argv[1], argc == 4 ? argv[3] : NULL)) {
		usage(stderr);
		return 2;
	}
	r = xc_interface_open(0, &xch);
	if (!r)
		r = xc_domain_connect(xch, argv[2], &dom);
	if (!r)
		r = run(xch, dom, argv[1], argc == 4 ? argv[3] : NULL);
	if (r)
		fprintf(stderr, "domus-xc: %s\n", xch && xc_last_error(xch)[0] ?
			xc_last_error(xch) : strerror(-r));
	xc_interface_close(xch);
	return r ? 1 : 0;
}
