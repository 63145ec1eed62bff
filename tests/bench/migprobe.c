// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * migprobe: the guest half of tests/bench/migrate. A static binary that the bench appends
 * to the test initramfs (a second cpio archive; the kernel unpacks both), started by the
 * guest's domus.cmd.
 *
 *   migprobe HOST PORT
 *
 * Two processes share one page:
 * - the sender sends a UDP datagram to HOST:PORT every millisecond (struct probe_pkt: a sequence number, the guest's own
 *   CLOCK_MONOTONIC, the largest gap it saw between two of its ticks, the bytes written so
 *   far). The host timestamps their arrival: the largest gap in arrivals is the downtime as
 *   seen from outside, whatever the guest's clock believes. It also takes commands on the
 *   same socket, from the host's receiving socket (HOST:PORT, the connected peer): "rate N" (write N MB/s; 0 stops), "reset" (print the
 *   largest tick gap so far on the console as "MIGPROBE-GAP <us>" and start again).
 * - the writer dirties a 64 MiB buffer at the requested rate: every 10 ms, one word per
 *   4 KiB page for as many pages as the rate asks, round the buffer. The count it reports is
 *   what it achieved, which under nested virtualization can be less than asked.
 * Both are ordinary (SCHED_OTHER) tasks: with the sender at SCHED_FIFO, a guest as slow as
 * the TCG sandbox's spent its whole vCPU sending and the writer wrote nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROBE_MAGIC	0x4d505242u	/* "MPRB" */
#define TICK_NS		1000000ULL	/* one datagram per millisecond */
#define WRITE_TICK_NS	10000000ULL	/* the writer's period */
#define BUF_BYTES	(64u << 20)
#define PAGE		4096u

/* Sent in the host's byte order (both ends are x86). */
struct probe_pkt {
	uint32_t magic;
	uint32_t seq;
	uint64_t mono_ns;	/* the guest's CLOCK_MONOTONIC when sent */
	uint64_t max_gap_ns;	/* the longest tick interval since the last reset */
	uint64_t written;	/* bytes the writer dirtied so far (whole pages) */
	uint32_t rate_mbs;	/* the rate asked */
	uint32_t pad;
};

struct shared {
	volatile uint32_t rate_mbs;
	volatile uint64_t written;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = { ns / 1000000000ULL, ns % 1000000000ULL };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void writer(struct shared *sh)
{
	uint8_t *buf = mmap(NULL, BUF_BYTES, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	uint64_t next = now_ns(), stamp = 0, pos = 0;

	if (buf == MAP_FAILED) {
		perror("migprobe: mmap");
		_exit(1);
	}
	for (;;) {
		uint64_t pages = (uint64_t)sh->rate_mbs * (1 << 20) / PAGE * WRITE_TICK_NS /
				 1000000000ULL;

		for (uint64_t i = 0; i < pages; i++) {
			/* Never zero: a zero page might be skipped by the sender. */
			*(volatile uint64_t *)(buf + pos) = ++stamp;
			pos = (pos + PAGE) % BUF_BYTES;
		}
		sh->written += pages * PAGE;
		next += WRITE_TICK_NS;
		/* Late (the guest stood still): go on from now, do not write a burst. */
		if (next < now_ns())
			next = now_ns();
		sleep_until(next);
	}
}

static void command(int fd, struct shared *sh, uint64_t *max_gap)
{
	char cmd[64];
	ssize_t n = recv(fd, cmd, sizeof(cmd) - 1, MSG_DONTWAIT);
	unsigned int v;

	if (n <= 0)
		return;
	cmd[n] = '\0';
	if (sscanf(cmd, "rate %u", &v) == 1) {
		sh->rate_mbs = v;
	} else if (!strncmp(cmd, "reset", 5)) {
		printf("MIGPROBE-GAP %llu\n", (unsigned long long)(*max_gap / 1000));
		fflush(stdout);
		*max_gap = 0;
	}
}

static void sender(int fd, struct shared *sh)
{
	struct probe_pkt p = { .magic = PROBE_MAGIC };
	uint64_t prev = now_ns(), next = prev;

	for (;;) {
		uint64_t t = now_ns();

		if (t - prev > p.max_gap_ns)
			p.max_gap_ns = t - prev;
		prev = t;
		p.seq++;
		p.mono_ns = t;
		p.written = sh->written;
		p.rate_mbs = sh->rate_mbs;
		/* No link yet or a full queue: the host sees the missing sequence numbers. */
		send(fd, &p, sizeof(p), MSG_DONTWAIT);
		command(fd, sh, &p.max_gap_ns);
		next += TICK_NS;
		if (next < now_ns())
			next = now_ns();
		sleep_until(next);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in host = { .sin_family = AF_INET };
	struct shared *sh;
	int fd;

	if (argc != 3 || inet_pton(AF_INET, argv[1], &host.sin_addr) != 1 ||
	    !(host.sin_port = htons(atoi(argv[2])))) {
		fprintf(stderr, "usage: migprobe HOST-IPV4 PORT\n");
		return 2;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sh == MAP_FAILED || fd < 0 || connect(fd, (struct sockaddr *)&host, sizeof(host))) {
		perror("migprobe");
		return 1;
	}
	if (fork() == 0) {
		close(fd);
		writer(sh);
	}
	signal(SIGCHLD, SIG_IGN);
	sender(fd, sh);
	return 0;
}
