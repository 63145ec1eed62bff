// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domus-xc: a small tool on libxc for people and tests, with xm's verbs where they apply.
 * A domain is named by its domid, name or UUID, or by a VMM's control socket path (any
 * argument with a '/') for a VMM started by hand.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "domus-xc.h"

#define USAGE CLI_USAGE

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: domus-xc VERB [ARGS]\n"
		"Build and control Domus domains. DOMAIN is a domid, a name, a UUID, or the path\n"
		"of a VMM's control socket.\n"
		"\n"
		"  create OPTIONS           build and start a domain (create --help); prints its id\n"
		"  list                     Name ID Mem VCPUs State Time(s), like xm list\n"
		"  info DOMAIN              state, memory, uptime, vCPUs with thread and CPU time\n"
		"  console DOMAIN           attach to the serial console (Ctrl-] detaches)\n"
		"  pause DOMAIN / unpause DOMAIN\n"
		"  shutdown DOMAIN [-w]     press the ACPI power button; -w waits until it ends\n"
		"  reboot DOMAIN            ask the guest to reboot (ACPI)\n"
		"  reset DOMAIN             restart it at once, like the reset button\n"
		"  destroy DOMAIN           end it now and remove it\n"
		"  mem-set DOMAIN SIZE      balloon target, like 512M (a plain number is MiB)\n"
		"  mem-max DOMAIN SIZE      the most mem-set may give it\n"
		"  vcpu-pin DOMAIN VCPU CPUS   CPUS: \"all\" or a list like 0-3,6\n"
		"  vcpu-list DOMAIN         vCPUs with their thread, CPU time and affinity\n"
		"  sched-credit DOMAIN [-w WEIGHT] [-c CAP]   show or set weight and cap\n"
		"  stats DOMAIN             block, network and balloon counters\n"
		"  events DOMAIN            print state changes until the domain ends\n"
		"  save DOMAIN FILE [--keep-running]   save its state (it ends, unless kept)\n"
		"  restore FILE --name NAME [create options]   continue a saved domain\n"
		"  migrate DOMAIN HOST:PORT [--max-downtime MS] [--bandwidth SIZE] [--auto-converge]\n"
		"                           live-migrate to `create --incoming PORT` there\n"
		"  job DOMAIN               progress of a running save or migration (or the last)\n"
		"  job-abort DOMAIN         cancel it; the guest runs on here\n"
		"  migrate-set DOMAIN [--max-downtime MS] [--bandwidth SIZE]   while it runs\n"
		"\n"
		"Exit status: 0 done, 1 the request failed, 2 bad usage or a bad value.\n");
}

void cli_error(xc_interface *xch, int err)
{
	fprintf(stderr, "domus-xc: %s\n", xch && xc_last_error(xch)[0] ? xc_last_error(xch)
								      : strerror(-err));
}

/* xm list's State column: one letter per state at its place, r b p s c d. */
static void state_letters(unsigned int state, char out[7])
{
	static const char letters[] = "rbpscd";

	memcpy(out, "------", 7);
	if (state >= XC_DOMSTATE_RUNNING && state <= XC_DOMSTATE_DYING)
		out[state - 1] = letters[state - 1];
}

static int cmd_list(xc_interface *xch)
{
	uint32_t *ids;
	int n = xc_domain_list(xch, &ids);

	if (n < 0)
		return n;
	printf("%-32s %5s %6s %5s %6s %9s\n", "Name", "ID", "Mem", "VCPUs", "State", "Time(s)");
	for (int i = 0; i < n; i++) {
		xc_domain *dom;
		xc_dominfo info;
		char st[7];

		if (xc_domain_open(xch, ids[i], &dom))
			continue;	/* destroyed meanwhile */
		xc_dominfo_init(&info);
		if (!xc_domain_getinfo(xch, dom, &info)) {
			state_letters(info.state, st);
			printf("%-32s %5" PRIu32 " %6" PRIu64 " %5u %6s %9.1f\n", info.name,
			       info.domid, info.mem_target_bytes >> 20, info.nr_vcpus, st,
			       info.cpu_time_ns / 1e9);
		}
		xc_dominfo_dispose(&info);
		xc_domain_close(xch, dom);
	}
	free(ids);
	return 0;
}

static int show_info(xc_interface *xch, xc_domain *dom)
{
	xc_dominfo info;
	char uuid[37];
	int r;

	xc_dominfo_init(&info);
	r = xc_domain_getinfo(xch, dom, &info);
	if (r)
		return r;
	xc_uuid_format(info.uuid, uuid);
	if (info.domid)
		printf("id        %" PRIu32 "\nname      %s\nuuid      %s\n", info.domid, info.name,
		       uuid);
	printf("state     %s", xc_domain_state_name(info.state));
	if (info.exit_status >= 0)
		printf(" (%s, exit status %d)", xc_domain_reason_name(info.reason),
		       info.exit_status);
	else if (info.state == XC_DOMSTATE_CRASHED)
		printf(" (%s)", xc_domain_reason_name(info.reason));
	printf("\npid       %d\nvcpus     %u\n", (int)info.pid, info.nr_vcpus);
	printf("memory    %" PRIu64 " MiB (target %" PRIu64 " MiB, actual %" PRIu64 " MiB, "
	       "max %" PRIu64 " MiB)\n", info.mem_bytes >> 20, info.mem_target_bytes >> 20,
	       info.mem_actual_bytes >> 20, info.max_mem_bytes >> 20);
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

static void print_cpus(const cpu_set_t *set)
{
	const char *sep = "";

	for (int c = 0; c < CPU_SETSIZE; c++) {
		int end = c;

		if (!CPU_ISSET(c, set))
			continue;
		while (end + 1 < CPU_SETSIZE && CPU_ISSET(end + 1, set))
			end++;
		printf(end > c ? "%s%d-%d" : "%s%d", sep, c, end);
		sep = ",";
		c = end;
	}
}

static int cmd_vcpu_list(xc_interface *xch, xc_domain *dom)
{
	xc_dominfo info;
	int r;

	xc_dominfo_init(&info);
	r = xc_domain_getinfo(xch, dom, &info);
	printf("%-5s %-8s %10s  %s\n", "VCPU", "Thread", "Time(s)", "Affinity");
	for (unsigned int i = 0; !r && i < info.nr_vcpus; i++) {
		cpu_set_t set;

		printf("%-5u %-8d %10.2f  ", i, (int)info.vcpus[i].tid,
		       info.vcpus[i].cpu_time_ns / 1e9);
		if (!xc_vcpu_getaffinity(xch, dom, i, &set))
			print_cpus(&set);
		printf("\n");
	}
	xc_dominfo_dispose(&info);
	return r;
}

static int parse_cpus(const char *s, cpu_set_t *set)
{
	CPU_ZERO(set);
	if (!strcmp(s, "all")) {
		for (int c = 0; c < CPU_SETSIZE; c++)
			CPU_SET(c, set);
		return sched_getaffinity(0, sizeof(*set), set) ? -1 : 0;
	}
	do {
		char *end;
		long lo = strtol(s, &end, 10), hi = lo;

		if (end == s || lo < 0 || lo >= CPU_SETSIZE)
			return -1;
		if (*end == '-') {
			s = end + 1;
			hi = strtol(s, &end, 10);
			if (end == s || hi < lo || hi >= CPU_SETSIZE)
				return -1;
		}
		for (long c = lo; c <= hi; c++)
			CPU_SET(c, set);
		s = end;
	} while (*s == ',' && *++s);
	return *s ? -1 : 0;
}

static int cmd_sched(xc_interface *xch, xc_domain *dom, int argc, char **argv)
{
	xc_sched_credit sc;
	int r = xc_sched_credit_get(xch, dom, &sc);

	for (int i = 0; !r && i + 1 < argc; i += 2) {
		bool weight = !strcmp(argv[i], "-w");
		unsigned long max = weight ? 65535 : 100000;
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(argv[i + 1], &end, 10);
		if (!weight && strcmp(argv[i], "-c")) {
			fprintf(stderr, "domus-xc: sched-credit: expected -w WEIGHT or -c CAP\n");
			return USAGE;
		}
		if (errno || *end || !*argv[i + 1] || argv[i + 1][0] == '-' || v > max ||
		    (weight && !v)) {
			fprintf(stderr, "domus-xc: sched-credit: bad %s '%s' (%s)\n",
				weight ? "weight" : "cap", argv[i + 1],
				weight ? "1-65535" : "0-100000 percent of one CPU");
			return USAGE;
		}
		*(weight ? &sc.weight : &sc.cap) = v;
		if (i + 2 >= argc)
			r = xc_sched_credit_set(xch, dom, &sc);
	}
	if (!r && argc == 0)
		printf("%-32s %5s %6s %4s\n%-32s %5" PRIu32 " %6u %4u\n", "Name", "ID", "Weight",
		       "Cap", xc_domain_name(dom), xc_domain_id(dom), sc.weight, sc.cap);
	return r;
}

static int cmd_stats(xc_interface *xch, xc_domain *dom)
{
	static const char *const tags[XC_BALLOON_STATS] = {
		"swap_in", "swap_out", "major_faults", "minor_faults", "free_memory",
		"total_memory", "available_memory", "disk_caches", "hugetlb_allocations",
		"hugetlb_failures",
	};
	xc_domstats st = {};
	int r = xc_domain_get_stats(xch, dom, &st);

	for (unsigned int i = 0; !r && i < st.nr_disks; i++)
		printf("vd%c rd_reqs %" PRIu64 " rd_bytes %" PRIu64 " wr_reqs %" PRIu64
		       " wr_bytes %" PRIu64 " flush_reqs %" PRIu64 " errors %" PRIu64 "\n",
		       'a' + i, st.disks[i].rd_reqs, st.disks[i].rd_bytes, st.disks[i].wr_reqs,
		       st.disks[i].wr_bytes, st.disks[i].flush_reqs, st.disks[i].errors);
	for (unsigned int i = 0; !r && i < st.nr_nics; i++)
		printf("%s rx_bytes %" PRIu64 " rx_packets %" PRIu64 " tx_bytes %" PRIu64
		       " tx_packets %" PRIu64 " rx_drops %" PRIu64 " tx_drops %" PRIu64 "\n",
		       st.nics[i].ifname, st.nics[i].rx_bytes, st.nics[i].rx_packets,
		       st.nics[i].tx_bytes, st.nics[i].tx_packets, st.nics[i].rx_drops,
		       st.nics[i].tx_drops);
	for (unsigned int t = 0; !r && t < XC_BALLOON_STATS; t++)
		if (st.balloon_valid & (1u << t))
			printf("balloon %s %" PRIu64 "\n", tags[t], st.balloon[t]);
	xc_domstats_dispose(&st);
	return r;
}

/* Verbs on one domain; argv[0] is the domain, the rest their own arguments. */
static int run(xc_interface *xch, xc_domain *dom, const char *verb, int argc, char **argv)
{
	uint64_t bytes;
	cpu_set_t set;
	int r;

	if (!strcmp(verb, "info") && argc == 0)
		return show_info(xch, dom);
	if (!strcmp(verb, "pause") && argc == 0)
		return xc_domain_pause(xch, dom);
	if (!strcmp(verb, "unpause") && argc == 0)
		return xc_domain_unpause(xch, dom);
	if (!strcmp(verb, "destroy") && argc == 0)
		return xc_domain_destroy(xch, dom);
	if (!strcmp(verb, "reboot") && argc == 0)
		return xc_domain_reboot(xch, dom);
	if (!strcmp(verb, "reset") && argc == 0)
		return xc_domain_reset(xch, dom);
	if (!strcmp(verb, "console") && argc == 0)
		return cmd_console(xch, dom);
	if (!strcmp(verb, "vcpu-list") && argc == 0)
		return cmd_vcpu_list(xch, dom);
	if (!strcmp(verb, "stats") && argc == 0)
		return cmd_stats(xch, dom);
	if (!strcmp(verb, "save") && argc >= 1)
		return cmd_save(xch, dom, argc, argv);
	if (!strcmp(verb, "migrate") && argc >= 1)
		return cmd_migrate(xch, dom, argc, argv);
	if (!strcmp(verb, "migrate-set"))
		return cmd_migrate_set(xch, dom, argc, argv);
	if (!strcmp(verb, "job") && argc == 0)
		return cmd_job(xch, dom);
	if (!strcmp(verb, "job-abort") && argc == 0)
		return xc_domain_abort_job(xch, dom);
	if (!strcmp(verb, "sched-credit") && argc % 2 == 0)
		return cmd_sched(xch, dom, argc, argv);
	if (!strcmp(verb, "events") && argc == 0) {
		r = xc_domain_subscribe(xch, dom);
		return r ? r : follow_events(xch, dom);
	}
	if (!strcmp(verb, "shutdown") && (argc == 0 || (argc == 1 && (!strcmp(argv[0], "-w") ||
								    !strcmp(argv[0], "--wait"))))) {
		r = argc ? xc_domain_subscribe(xch, dom) : 0;
		if (!r)
			r = xc_domain_shutdown(xch, dom);
		return r || !argc ? r : follow_events(xch, dom);
	}
	if ((!strcmp(verb, "mem-set") || !strcmp(verb, "mem-max")) && argc == 1) {
		if (xc_parse_size(argv[0], &bytes)) {
			fprintf(stderr, "domus-xc: %s: '%s' is not a size like 512M or 1G\n", verb,
				argv[0]);
			return USAGE;
		}
		return verb[4] == 's' ? xc_domain_set_memory_target(xch, dom, bytes)
				      : xc_domain_set_max_memory(xch, dom, bytes);
	}
	if (!strcmp(verb, "vcpu-pin") && argc == 2) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(argv[0], &end, 10);
		/* strtoul takes "-1" and wraps; a cast would turn 4294967296 into vCPU 0. */
		if (errno || *end || !*argv[0] || argv[0][0] == '-' || v > UINT_MAX ||
		    parse_cpus(argv[1], &set)) {
			fprintf(stderr, "domus-xc: vcpu-pin: expected VCPU and CPUS (all, 0-3,6)\n");
			return USAGE;
		}
		return xc_vcpu_setaffinity(xch, dom, v, &set);
	}
	usage(stderr);
	return USAGE;
}

/* Checked before the domain is looked up: a typo is bad usage, whatever the domain. */
static bool known_verb(const char *verb)
{
	static const char *const verbs[] = {
		"create", "list", "info", "console", "pause", "unpause", "shutdown", "reboot",
		"reset", "destroy", "mem-set", "mem-max", "vcpu-pin", "vcpu-list", "sched-credit",
		"stats", "events", "save", "restore", "migrate", "migrate-set", "job", "job-abort",
	};

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verb, verbs[i]))
			return true;
	return false;
}

static int open_domain(xc_interface *xch, const char *what, xc_domain **dom)
{
	uint32_t domid;
	int r;

	if (strchr(what, '/'))
		return xc_domain_connect(xch, what, dom);
	r = xc_domain_lookup(xch, what, &domid);
	return r ? r : xc_domain_open(xch, domid, dom);
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
	if (argc < 2 || (argc < 3 && strcmp(argv[1], "list")) || !known_verb(argv[1])) {
		if (argc >= 2 && !known_verb(argv[1]))
			fprintf(stderr, "domus-xc: unknown verb '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	r = xc_interface_open(0, &xch);
	if (!r && (!strcmp(argv[1], "create") || !strcmp(argv[1], "restore"))) {
		r = cmd_create(xch, argc - 1, argv + 1);
		xc_interface_close(xch);
		return r;
	}
	if (!r && !strcmp(argv[1], "list"))
		r = argc == 2 ? cmd_list(xch) : (usage(stderr), USAGE);
	else if (!r && !(r = open_domain(xch, argv[2], &dom)))
		r = run(xch, dom, argv[1], argc - 3, argv + 3);
	if (r && r != USAGE)
		cli_error(xch, r);
	xc_interface_close(xch);
	/* -EINVAL: libxc refused a value (a vCPU the domain lacks, say): also bad usage. */
	return r == USAGE || r == -EINVAL ? 2 : r ? 1 : 0;
}
