// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * domus-xc save, migrate, job, job-abort, migrate-set, and the TCP ends of a migration
 * (the source connects to HOST:PORT; `create --incoming [HOST:]PORT` listens there and
 * takes one connection).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "domus-xc.h"

/* "HOST:PORT" (or "PORT" when @host_optional, meaning any address) into its two parts. */
static int split_hostport(const char *arg, bool host_optional, char *host, size_t hlen,
			  const char **port)
{
	const char *colon = strrchr(arg, ':');

	if (!colon && host_optional) {
		snprintf(host, hlen, "0.0.0.0");
		*port = arg;
		return 0;
	}
	if (!colon || colon == arg || !colon[1] || (size_t)(colon - arg) >= hlen)
		return -EINVAL;
	snprintf(host, hlen, "%.*s", (int)(colon - arg), arg);
	*port = colon + 1;
	return 0;
}

/* A TCP socket connected to (@listen false) or listening on HOST:PORT. Return: fd or -1. */
static int tcp_socket(const char *arg, bool listen_on)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = listen_on ? AI_PASSIVE : 0 };
	struct addrinfo *ai = NULL;
	char host[256];
	const char *port;
	int fd = -1, one = 1, r;

	if (split_hostport(arg, listen_on, host, sizeof(host), &port)) {
		fprintf(stderr, "domus-xc: '%s': expected HOST:PORT%s\n", arg,
			listen_on ? " or PORT" : "");
		return -1;
	}
	r = getaddrinfo(host, port, &hints, &ai);
	if (r) {
		fprintf(stderr, "domus-xc: %s: %s\n", arg, gai_strerror(r));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && listen_on)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || (listen_on ? bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 1)
				 : connect(fd, ai->ai_addr, ai->ai_addrlen))) {
		fprintf(stderr, "domus-xc: %s %s: %m\n", listen_on ? "listen on" : "connect to",
			arg);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int cli_incoming_accept(const char *arg)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];
	int lfd = tcp_socket(arg, true), fd;

	if (lfd < 0)
		return -1;
	/* The port actually bound (PORT 0 lets the kernel choose): for whoever starts the
	 * source side. */
	if (!getsockname(lfd, (struct sockaddr *)&ss, &len) &&
	    !getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
			 NI_NUMERICHOST | NI_NUMERICSERV))
		fprintf(stderr, "domus-xc: waiting for the migration on %s port %s\n", host, port);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "domus-xc: accept on %s: %m\n", arg);
	close(lfd);
	return fd;
}

int cmd_save(xc_interface *xch, xc_domain *dom, int argc, char **argv)
{
	bool keep = argc == 2 && !strcmp(argv[1], "--keep-running");
	xc_save_result res;
	int fd, r;

	if (argc != 1 && !keep) {
		fprintf(stderr, "domus-xc: save DOMAIN FILE [--keep-running]\n");
		return CLI_USAGE;
	}
	fd = xc_save_file_open(xch, argv[0], 0600);
	if (fd < 0)
		return fd;	/* the error is set on xch */
	r = xc_domain_save(xch, dom, fd, keep ? 0 : XC_SAVE_STOP, &res);
	close(fd);
	if (r) {
		unlink(argv[0]);	/* a partial state is of no use to anyone */
		return r;
	}
	printf("saved %" PRIu64 " bytes (%" PRIu64 " pages) in %" PRIu64 " ms, paused %"
	       PRIu64 " ms\n", res.bytes, res.pages, res.write_ns / 1000000,
	       res.paused_ns / 1000000);
	return 0;
}

/* --max-downtime MS, --bandwidth BYTES-PER-SECOND (with K/M/G), --auto-converge. */
static int migrate_opts(int argc, char **argv, unsigned int *which, xc_migrate_params *p)
{
	static const struct option opts[] = {
		{ "max-downtime", required_argument, NULL, 'd' },
		{ "bandwidth", required_argument, NULL, 'b' },
		{ "auto-converge", no_argument, NULL, 'a' },
		{},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		char *end;

		if (c == 'd') {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !v || optarg[0] == '-' || v > UINT32_MAX)
				return -1;
			p->max_downtime_ms = v;
			*which |= XC_MIGRATE_SET_DOWNTIME;
		} else if (c == 'b') {
			if (xc_parse_size(optarg, &p->bandwidth))
				return -1;
			*which |= XC_MIGRATE_SET_BANDWIDTH;
		} else if (c == 'a') {
			p->auto_converge = true;
		} else {
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

int cmd_migrate(xc_interface *xch, xc_domain *dom, int argc, char **argv)
{
	xc_migrate_params p = {};
	xc_migrate_result res;
	unsigned int which = 0;
	int fd, r;

	/* xc_parse_size reads a plain number as MiB: say bytes with a suffix (50M). */
	if (argc < 1 || migrate_opts(argc, argv, &which, &p)) {
		fprintf(stderr, "domus-xc: migrate DOMAIN HOST:PORT [--max-downtime MS] "
			"[--bandwidth SIZE-PER-SECOND] [--auto-converge]\n");
		return CLI_USAGE;
	}
	fd = tcp_socket(argv[0], false);
	if (fd < 0)
		return -EHOSTUNREACH;
	r = xc_domain_migrate_send(xch, dom, fd, &p, &res);
	close(fd);
	if (!r)
		printf("migrated %" PRIu64 " bytes in %u rounds, %" PRIu64 " ms; downtime %.3f ms\n",
		       res.bytes, res.rounds, res.total_ns / 1000000, res.downtime_ns / 1e6);
	return r;
}

int cmd_migrate_set(xc_interface *xch, xc_domain *dom, int argc, char **argv)
{
	xc_migrate_params p = {};
	unsigned int which = 0;

	/* getopt wants argv[0] to be a program name: shift by one. */
	if (migrate_opts(argc + 1, argv - 1, &which, &p) || !which || p.auto_converge) {
		fprintf(stderr, "domus-xc: migrate-set DOMAIN [--max-downtime MS] "
			"[--bandwidth SIZE-PER-SECOND]\n");
		return CLI_USAGE;
	}
	return xc_domain_migrate_set(xch, dom, which, p.max_downtime_ms, p.bandwidth);
}

int cmd_job(xc_interface *xch, xc_domain *dom)
{
	static const char *const kinds[] = { "none", "save", "migration" };
	xc_job_info j;
	int r = xc_domain_get_job(xch, dom, &j);

	if (r)
		return r;
	printf("phase %s\nkind %s\nelapsed_ms %" PRIu64 "\nbytes %" PRIu64 "\n"
	       "pages_total %" PRIu64 "\npages_sent %" PRIu64 "\npages_remaining %" PRIu64 "\n"
	       "rounds %u\ndirty_rate_pages_s %" PRIu64 "\nexpected_downtime_ms %.3f\n"
	       "max_downtime_ms %u\nbandwidth %" PRIu64 "\nthrottle %u\n",
	       xc_job_phase_name(j.phase), j.kind < 3 ? kinds[j.kind] : "unknown",
	       j.elapsed_ns / 1000000, j.bytes, j.pages_total, j.pages_sent, j.pages_remaining,
	       j.rounds, j.dirty_rate, j.expected_downtime_ns / 1e6, j.max_downtime_ms,
	       j.bandwidth, j.throttle);
	if (j.phase >= XC_JOB_COMPLETED)
		printf("result %d%s%s\n", j.status, j.error[0] ? " " : "", j.error);
	return 0;
}
