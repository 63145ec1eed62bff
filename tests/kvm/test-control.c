// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-control: domus-vmm's control socket, driven through libxc (and with raw bytes where
 * libxc would never send them).
 *
 *   test-control DOMUS_VMM CONTROL_GUEST_ELF CONSOLE_GUEST_ELF
 *
 * With test-control-guest.elf (a guest that reports a growing count every 50 ms and powers
 * off on the ACPI power button):
 *   - getinfo: running, 1 vCPU with a live host thread, memory, pid, uptime, features;
 *   - a second VMM cannot take over a live control socket;
 *   - pause: state paused and the count stops; unpause: it grows again; a second client,
 *     connected all along, gets both state events;
 *   - console and memory target are refused (-EOPNOTSUPP) without a shareable console or
 *     a balloon;
 *   - malformed streams (bad magic, unknown version, huge length, truncated header, a
 *     client gone mid-message) get an error reply and/or the connection closed; unknown
 *     types, wrong body sizes, id 0 and stray fds get an error reply on a connection that
 *     stays usable; a client that never reads its replies does not hold up the others;
 *   - shutdown presses the power button: event "shutdown: poweroff", exit status 0, the
 *     socket is removed;
 *   - destroy (2 vCPUs, two thread ids): event "shutdown: destroyed", exit status 4;
 *   - --control-fd: the VMM serves a listening socket it inherited;
 *   - bad --control and --control-fd values: a clear message, exit status 1.
 * With test-console.elf (echoes COM1 input): xc_domain_console_fd() carries input and
 * output, for a socket and a pty console.
 *
 * Exit status: 0 pass, 1 fail, 77 skip (no usable /dev/kvm).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <domus/control.h>
#include <domus/xc.h>

#include "host-test.h"

#define REPORT_BASE	0xc0000000u
#define MEM_ARG		"16M"

struct vmm {
	pid_t pid;
	int err_fd;			/* its stderr */
	char sock[108];
	char log[256 << 10];		/* stderr so far, shown on failure */
	size_t log_len, scanned;
	uint32_t count;			/* the guest's last progress report */
};

static const char *vmm_path, *control_elf, *console_elf;
static char workdir[] = "/tmp/test-control.XXXXXX";
static struct vmm *current;

static void vmm_poll_stderr(struct vmm *v);

static void test_cleanup(void)
{
	if (current && current->pid > 0) {
		vmm_poll_stderr(current);
		kill(current->pid, SIGKILL);
		printf("--- domus-vmm stderr (last 4 KiB):\n%s\n", current->log +
		       (current->log_len > 4096 ? current->log_len - 4096 : 0));
	}
}

/* ---- the VMM process ---- */

/* Start domus-vmm with @args (NULL-terminated, after the binary); @inherit becomes fd 3. */
static void vmm_start(struct vmm *v, const char *const *args, int inherit)
{
	const char *argv[32] = { vmm_path };
	int pipefd[2];
	unsigned int n = 1;

	memset(v, 0, sizeof(*v));
	for (; *args && n < 31; args++)
		argv[n++] = *args;
	TEST_ASSERT(pipe2(pipefd, O_CLOEXEC) == 0, "pipe: %m");
	v->pid = fork();
	TEST_ASSERT(v->pid >= 0, "fork: %m");
	if (!v->pid) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(pipefd[1], 2);
		if (inherit == 3)
			fcntl(3, F_SETFD, 0);
		else if (inherit >= 0)
			dup2(inherit, 3);	/* clears FD_CLOEXEC on the copy */
		execv(vmm_path, (char **)argv);
		_exit(127);
	}
	close(pipefd[1]);
	v->err_fd = pipefd[0];
	fcntl(v->err_fd, F_SETFL, O_NONBLOCK);
	current = v;
}

/* Take what the VMM wrote to stderr; note the guest's progress reports. */
static void vmm_poll_stderr(struct vmm *v)
{
	ssize_t n;
	char *line, *nl;

	while (v->log_len < sizeof(v->log) - 1 &&
	       (n = read(v->err_fd, v->log + v->log_len, sizeof(v->log) - 1 - v->log_len)) > 0)
		v->log_len += n;
	v->log[v->log_len] = '\0';
	for (line = v->log + v->scanned; (nl = strchr(line, '\n')); line = nl + 1) {
		unsigned int value;

		if (sscanf(line, "domus-vmm: testdev: report vcpu=%*u value=%x", &value) == 1 &&
		    value > REPORT_BASE)
			v->count = value - REPORT_BASE;
		v->scanned = nl + 1 - v->log;
	}
}

static bool wait_progress(struct vmm *v, uint32_t after, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	do {
		vmm_poll_stderr(v);
		if (v->count > after)
			return true;
		sleep_ms(10);
	} while (now_ms() < end);
	return false;
}

static void wait_socket(struct vmm *v, const char *path)
{
	int64_t end = now_ms() + 10000;

	while (access(path, F_OK) && now_ms() < end) {
		TEST_ASSERT(waitpid(v->pid, NULL, WNOHANG) == 0, "domus-vmm exited early");
		sleep_ms(10);
	}
	TEST_ASSERT(!access(path, F_OK), "no control socket at %s after 10 s", path);
}

static int vmm_wait_exit(struct vmm *v, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	int status;

	for (;;) {
		pid_t p = waitpid(v->pid, &status, WNOHANG);

		vmm_poll_stderr(v);
		if (p == v->pid)
			break;
		TEST_ASSERT(now_ms() < end, "domus-vmm still runs after %d ms", timeout_ms);
		sleep_ms(10);
	}
	v->pid = 0;
	close(v->err_fd);
	TEST_ASSERT(WIFEXITED(status), "domus-vmm died of signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

static void start_control_guest(struct vmm *v, const char *vcpus)
{
	char sock[108];

	snprintf(sock, sizeof(sock), "%s/ctl.sock", workdir);
	vmm_start(v, (const char *[]){ "--kernel", control_elf, "--test-device", "--memory",
				       MEM_ARG, "--vcpus", vcpus, "--console", "none",
				       "--control", sock, NULL }, -1);
	strcpy(v->sock, sock);
	wait_socket(v, sock);
}

/* ---- raw protocol, for what libxc never sends ---- */

static int raw_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	TEST_ASSERT(fd >= 0 && !connect(fd, (struct sockaddr *)&addr, sizeof(addr)),
		    "connect %s: %m", path);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void raw_send(int fd, uint32_t magic, uint16_t version, uint16_t type, uint32_t id,
		     uint32_t len, const void *body, size_t body_len)
{
	struct domus_ctl_hdr h = { magic, version, type, id, len };
	uint8_t buf[256];

	memcpy(buf, &h, sizeof(h));
	if (body_len)
		memcpy(buf + sizeof(h), body, body_len);
	TEST_ASSERT(send(fd, buf, sizeof(h) + body_len, MSG_NOSIGNAL) ==
		    (ssize_t)(sizeof(h) + body_len), "send: %m");
}

static void raw_request(int fd, uint16_t type, uint32_t id, const void *body, uint32_t len)
{
	raw_send(fd, DOMUS_CTL_MAGIC, DOMUS_CTL_VERSION, type, id, len, body, len);
}

/* Read one reply. Return: its status; *@hdr and @payload (8 bytes, may be NULL) filled. */
static int raw_reply(int fd, struct domus_ctl_hdr *hdr, void *payload)
{
	uint8_t body[DOMUS_CTL_MAX_BODY];
	struct domus_ctl_reply rh;

	TEST_ASSERT(recv(fd, hdr, sizeof(*hdr), MSG_WAITALL) == sizeof(*hdr), "no reply: %m");
	TEST_ASSERT(hdr->magic == DOMUS_CTL_MAGIC && hdr->len >= sizeof(rh) &&
		    hdr->len <= sizeof(body), "bad reply header (len %u)", hdr->len);
	TEST_ASSERT(recv(fd, body, hdr->len, MSG_WAITALL) == hdr->len, "short reply: %m");
	memcpy(&rh, body, sizeof(rh));
	if (payload)
		memcpy(payload, body + sizeof(rh), 8);
	return rh.status;
}

static void expect_reply(int fd, uint32_t id, int status, const char *what)
{
	struct domus_ctl_hdr h;
	int s = raw_reply(fd, &h, NULL);

	TEST_ASSERT(h.id == id && s == status, "%s: reply id %u status %d, want id %u status %d",
		    what, h.id, s, id, status);
}

/* Closed by the VMM: end of stream, or a reset if it closed with our bytes still unread. */
static void expect_closed(int fd, const char *what)
{
	ssize_t n;
	char c;

	n = recv(fd, &c, 1, 0);
	TEST_ASSERT(n == 0 || (n < 0 && errno == ECONNRESET), "%s: the connection stays open",
		    what);
	close(fd);
}

/* ---- checks ---- */

static void check_info(xc_interface *xch, xc_domain *dom, struct vmm *v, unsigned int vcpus)
{
	xc_dominfo info;
	char task[64];

	xc_dominfo_init(&info);
	/* A vCPU thread reports "running" once it got going: give new threads a moment. */
	for (int tries = 0;; tries++) {
		bool all = true;

		TEST_ASSERT(!xc_domain_getinfo(xch, dom, &info), "%s", xc_last_error(xch));
		for (unsigned int i = 0; i < info.nr_vcpus; i++)
			all = all && info.vcpus[i].running;
		if (all || tries == 100)
			break;
		sleep_ms(10);
	}
	/* The guest sleeps in HLT between reports: running, or blocked when caught idle. */
	TEST_ASSERT(info.state == XC_DOMSTATE_RUNNING || info.state == XC_DOMSTATE_BLOCKED,
		    "state %s", xc_domain_state_name(info.state));
	TEST_ASSERT(info.nr_vcpus == vcpus, "%u vCPUs", info.nr_vcpus);
	TEST_ASSERT(info.pid == v->pid, "pid %d, want %d", (int)info.pid, (int)v->pid);
	TEST_ASSERT(info.mem_bytes == 16 << 20 && info.mem_target_bytes == info.mem_bytes,
		    "memory %llu", (unsigned long long)info.mem_bytes);
	TEST_ASSERT(info.uptime_ns > 0 && !info.has_console && !info.has_balloon,
		    "uptime, features");
	for (unsigned int i = 0; i < vcpus; i++) {
		TEST_ASSERT(info.vcpus[i].id == i && info.vcpus[i].running, "vcpu %u", i);
		snprintf(task, sizeof(task), "/proc/%d/task/%d", (int)v->pid,
			 (int)info.vcpus[i].tid);
		TEST_ASSERT(info.vcpus[i].tid > 0 && info.vcpus[i].tid != v->pid &&
			    !access(task, F_OK), "vcpu %u thread %d", i, (int)info.vcpus[i].tid);
		TEST_ASSERT(i == 0 || info.vcpus[i].tid != info.vcpus[0].tid, "distinct threads");
	}
	xc_dominfo_dispose(&info);
	printf("ok: getinfo (%u vCPU%s)\n", vcpus, vcpus > 1 ? "s" : "");
}

static void expect_event(xc_interface *xch, xc_domain *dom, unsigned int state,
			 unsigned int reason, int exit_status)
{
	xc_domain_event ev;

	TEST_ASSERT(!xc_domain_wait_event(xch, dom, 10000, &ev), "%s", xc_last_error(xch));
	TEST_ASSERT(ev.state == state && ev.reason == reason && ev.exit_status == exit_status,
		    "event %s: %s (exit %d), want %s: %s (exit %d)",
		    xc_domain_state_name(ev.state), xc_domain_reason_name(ev.reason),
		    ev.exit_status, xc_domain_state_name(state), xc_domain_reason_name(reason),
		    exit_status);
	printf("ok: event %s: %s%s%s\n", xc_domain_state_name(ev.state),
	       xc_domain_reason_name(ev.reason), ev.message[0] ? " - " : "", ev.message);
}

static void check_pause(xc_interface *xch, xc_domain *a, xc_domain *b, struct vmm *v)
{
	xc_dominfo info;
	uint32_t seen;

	TEST_ASSERT(wait_progress(v, 0, 10000), "the guest never reported progress");
	TEST_ASSERT(!xc_domain_pause(xch, a), "%s", xc_last_error(xch));
	/* Every report the guest made before it stopped is on the pipe by now. */
	vmm_poll_stderr(v);
	seen = v->count;
	xc_dominfo_init(&info);
	TEST_ASSERT(!xc_domain_getinfo(xch, b, &info), "%s", xc_last_error(xch));
	TEST_ASSERT(info.state == XC_DOMSTATE_PAUSED && !info.vcpus[0].running,
		    "state %s after pause", xc_domain_state_name(info.state));
	xc_dominfo_dispose(&info);
	TEST_ASSERT(!wait_progress(v, seen, 400), "count went from %u to %u while paused", seen,
		    v->count);
	TEST_ASSERT(!xc_domain_pause(xch, a), "pausing twice: %s", xc_last_error(xch));
	expect_event(xch, b, XC_DOMSTATE_PAUSED, XC_REASON_PAUSED, -1);
	TEST_ASSERT(!xc_domain_unpause(xch, a), "%s", xc_last_error(xch));
	TEST_ASSERT(wait_progress(v, seen, 5000), "no progress after unpause (count %u)", seen);
	expect_event(xch, b, XC_DOMSTATE_RUNNING, XC_REASON_UNPAUSED, -1);
	printf("ok: pause stops the guest (count %u), unpause lets it go on (count %u)\n", seen,
	       v->count);
}

/* Stream errors: an error reply if one can be sent, then the connection is closed. */
static void check_stream_errors(const char *sock)
{
	struct domus_ctl_versions vers;
	struct domus_ctl_hdr h;
	uint8_t junk[16] = "x";
	int fd;

	fd = raw_connect(sock);
	raw_send(fd, 0xdeadbeef, DOMUS_CTL_VERSION, DOMUS_CTL_HELLO, 7, 0, NULL, 0);
	expect_reply(fd, 7, -EPROTO, "bad magic");
	expect_closed(fd, "bad magic");

	fd = raw_connect(sock);
	raw_send(fd, DOMUS_CTL_MAGIC, 99, DOMUS_CTL_HELLO, 8, 0, NULL, 0);
	TEST_ASSERT(raw_reply(fd, &h, &vers) == -EPROTONOSUPPORT && h.id == 8 &&
		    vers.min_version == DOMUS_CTL_VERSION_MIN &&
		    vers.max_version == DOMUS_CTL_VERSION, "unknown version: refused");
	expect_closed(fd, "unknown version");

	fd = raw_connect(sock);
	raw_send(fd, DOMUS_CTL_MAGIC, DOMUS_CTL_VERSION, DOMUS_CTL_GET_INFO, 9, 1u << 30, junk,
		 sizeof(junk));
	expect_reply(fd, 9, -EMSGSIZE, "huge length");
	expect_closed(fd, "huge length");

	fd = raw_connect(sock);		/* a header cut short */
	TEST_ASSERT(send(fd, "DOMC\1\0\2", 7, MSG_NOSIGNAL) == 7, "send: %m");
	close(fd);
	fd = raw_connect(sock);		/* a body cut short */
	raw_send(fd, DOMUS_CTL_MAGIC, DOMUS_CTL_VERSION, DOMUS_CTL_HELLO, 10, 64, junk, 10);
	close(fd);
	printf("ok: bad magic, unknown version, huge length, truncated header and body\n");
}

/* Request errors: an error reply, and the connection goes on. */
static void check_request_errors(const char *sock)
{
	struct domus_ctl_subscribe bad_sub = { .events = 0x80 };
	char cm[CMSG_SPACE(sizeof(int))] = {};
	struct domus_ctl_hdr h = { DOMUS_CTL_MAGIC, DOMUS_CTL_VERSION, DOMUS_CTL_GET_INFO, 15, 0 };
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm,
			     .msg_controllen = sizeof(cm) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int fd = raw_connect(sock), devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	raw_request(fd, 0x777, 11, "abcd", 4);
	expect_reply(fd, 11, -EOPNOTSUPP, "unknown type");
	raw_request(fd, DOMUS_CTL_SHUTDOWN, 12, NULL, 0);
	expect_reply(fd, 12, -EINVAL, "shutdown with no body");
	raw_request(fd, DOMUS_CTL_GET_INFO, 0, NULL, 0);
	expect_reply(fd, 0, -EINVAL, "request id 0");
	raw_request(fd, DOMUS_CTL_GET_INFO | DOMUS_CTL_REPLY, 13, NULL, 0);
	expect_reply(fd, 13, -EOPNOTSUPP, "a reply as a request");
	raw_request(fd, DOMUS_CTL_SUBSCRIBE, 14, &bad_sub, sizeof(bad_sub));
	expect_reply(fd, 14, -EINVAL, "unknown event bits");
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &devnull, sizeof(int));
	TEST_ASSERT(sendmsg(fd, &mh, MSG_NOSIGNAL) == sizeof(h), "sendmsg: %m");
	expect_reply(fd, 15, -EINVAL, "a stray fd");
	raw_request(fd, DOMUS_CTL_GET_INFO, 16, NULL, 0);
	expect_reply(fd, 16, 0, "get_info after the errors");
	close(devnull);
	close(fd);
	printf("ok: unknown type, wrong size, id 0, reply type, bad bits, stray fd: the "
	       "connection goes on\n");
}

/* A client that sends and never reads: the VMM stops reading it, serves the others. */
static void check_slow_client(xc_interface *xch, xc_domain *dom, const char *sock)
{
	struct domus_ctl_hdr h = { DOMUS_CTL_MAGIC, DOMUS_CTL_VERSION, DOMUS_CTL_GET_INFO, 0, 0 };
	int fd = raw_connect(sock);
	uint32_t sent = 0, got = 0;
	xc_dominfo info;
	int64_t t0;

	while (sent < 20000) {
		h.id = sent + 1;
		if (send(fd, &h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL) != sizeof(h))
			break;	/* EAGAIN: the VMM stopped reading us (16 bytes: all or none) */
		sent++;
	}
	TEST_ASSERT(sent >= 100, "only %u requests sent", sent);
	xc_dominfo_init(&info);
	t0 = now_ms();
	TEST_ASSERT(!xc_domain_getinfo(xch, dom, &info), "%s", xc_last_error(xch));
	TEST_ASSERT(now_ms() - t0 < 2000, "getinfo took %lld ms", (long long)(now_ms() - t0));
	xc_dominfo_dispose(&info);
	while (got < sent) {
		expect_reply(fd, got + 1, 0, "pipelined get_info");
		got++;
	}
	close(fd);
	printf("ok: %u pipelined requests from a client that did not read, answered in order; "
	       "others served meanwhile\n", sent);
}

static void run_main(void)
{
	static struct vmm v, other;
	xc_domain_event ev;
	xc_interface *xch;
	xc_domain *a, *b;
	int fd;

	start_control_guest(&v, "1");
	TEST_ASSERT(!xc_interface_open(0, &xch), "xc_interface_open");
	TEST_ASSERT(!xc_domain_connect(xch, v.sock, &a), "%s", xc_last_error(xch));
	TEST_ASSERT(!xc_domain_connect(xch, v.sock, &b), "%s", xc_last_error(xch));
	TEST_ASSERT(!xc_domain_subscribe(xch, b), "%s", xc_last_error(xch));
	check_info(xch, a, &v, 1);

	vmm_start(&other, (const char *[]){ "--kernel", control_elf, "--test-device",
					    "--memory", MEM_ARG, "--console", "none",
					    "--control", v.sock, NULL }, -1);
	TEST_ASSERT(vmm_wait_exit(&other, 10000) == 1 && strstr(other.log, "another process"),
		    "a second VMM on a live socket");
	current = &v;
	printf("ok: a live control socket is not taken over\n");

	check_pause(xch, a, b, &v);
	TEST_ASSERT(xc_domain_console_fd(xch, a, &fd) == -EOPNOTSUPP, "console with none");
	TEST_ASSERT(xc_domain_set_memory_target(xch, a, 8 << 20) == -EOPNOTSUPP, "no balloon");
	printf("ok: console and memory target refused: %s\n", xc_last_error(xch));
	check_stream_errors(v.sock);
	check_request_errors(v.sock);
	check_slow_client(xch, a, v.sock);
	check_info(xch, a, &v, 1);

	TEST_ASSERT(!xc_domain_shutdown(xch, a), "%s", xc_last_error(xch));
	expect_event(xch, b, XC_DOMSTATE_SHUTDOWN, XC_REASON_POWEROFF, 0);
	TEST_ASSERT(xc_domain_wait_event(xch, b, 5000, &ev) == -ECONNRESET, "%s",
		    xc_last_error(xch));
	TEST_ASSERT(vmm_wait_exit(&v, 10000) == 0, "exit status after shutdown");
	TEST_ASSERT(access(v.sock, F_OK) && errno == ENOENT, "the socket was left behind");
	TEST_ASSERT(xc_domain_pause(xch, a) < 0, "pause after the end");
	printf("ok: shutdown: exit status 0, socket removed; then: %s\n", xc_last_error(xch));
	xc_interface_close(xch);
}

static void run_destroy(void)
{
	static struct vmm v;
	xc_interface *xch;
	xc_domain *dom;

	start_control_guest(&v, "2");
	TEST_ASSERT(!xc_interface_open(0, &xch), "xc_interface_open");
	TEST_ASSERT(!xc_domain_connect(xch, v.sock, &dom), "%s", xc_last_error(xch));
	check_info(xch, dom, &v, 2);
	TEST_ASSERT(!xc_domain_subscribe(xch, dom), "%s", xc_last_error(xch));
	TEST_ASSERT(!xc_domain_pause(xch, dom), "%s", xc_last_error(xch));
	TEST_ASSERT(!xc_domain_destroy(xch, dom), "%s", xc_last_error(xch));
	expect_event(xch, dom, XC_DOMSTATE_PAUSED, XC_REASON_PAUSED, -1);
	expect_event(xch, dom, XC_DOMSTATE_SHUTDOWN, XC_REASON_DESTROYED, 4);
	TEST_ASSERT(vmm_wait_exit(&v, 10000) == 4, "exit status after destroy");
	printf("ok: destroy of a paused domain: exit status 4\n");
	xc_interface_close(xch);
}

static void read_until(int fd, const char *want)
{
	char buf[4096];
	size_t len = 0;
	int64_t end = now_ms() + 30000;

	while (!memmem(buf, len, want, strlen(want))) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		TEST_ASSERT(now_ms() < end, "console: no '%s' in '%.*s'", want, (int)len, buf);
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		TEST_ASSERT(n > 0, "console read: %zd %m", n);
		len += n;
	}
}

static void run_console(const char *kind)
{
	static struct vmm v;
	char sock[108], con[140];
	xc_interface *xch;
	xc_domain *dom;
	xc_dominfo info;
	int fd;

	snprintf(sock, sizeof(sock), "%s/ctl.sock", workdir);
	if (strcmp(kind, "socket"))
		snprintf(con, sizeof(con), "%s", kind);
	else
		snprintf(con, sizeof(con), "socket:%s/con.sock", workdir);
	vmm_start(&v, (const char *[]){ "--kernel", console_elf, "--test-device", "--memory",
				       MEM_ARG, "--console", con, "--control", sock, NULL }, -1);
	wait_socket(&v, sock);
	TEST_ASSERT(!xc_interface_open(0, &xch), "xc_interface_open");
	TEST_ASSERT(!xc_domain_connect(xch, sock, &dom), "%s", xc_last_error(xch));
	xc_dominfo_init(&info);
	TEST_ASSERT(!xc_domain_getinfo(xch, dom, &info) && info.has_console, "has_console");
	xc_dominfo_dispose(&info);
	TEST_ASSERT(!xc_domain_console_fd(xch, dom, &fd), "%s", xc_last_error(xch));
	TEST_ASSERT(fcntl(fd, F_GETFD) == FD_CLOEXEC, "the console fd is close-on-exec");
	TEST_ASSERT(write(fd, "ab", 2) == 2, "console write: %m");
	read_until(fd, "got: b\n");
	TEST_ASSERT(write(fd, "q", 1) == 1, "console write: %m");
	read_until(fd, "got: q\n");
	TEST_ASSERT(write(fd, ".", 1) == 1, "console write: %m");
	TEST_ASSERT(vmm_wait_exit(&v, 30000) == 64, "exit status of the console guest");
	close(fd);
	xc_interface_close(xch);
	printf("ok: console fd over a %s console: input and output\n", kind);
}

/* libxc's way: it binds and listens, the VMM inherits the socket (--control-fd). */
static void run_control_fd(void)
{
	static struct vmm v;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	xc_interface *xch;
	xc_domain *dom;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/inherited.sock", workdir);
	TEST_ASSERT(lfd >= 0 && !bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) &&
		    !listen(lfd, 4), "listen: %m");
	vmm_start(&v, (const char *[]){ "--kernel", control_elf, "--test-device", "--memory",
				       MEM_ARG, "--console", "none", "--control-fd", "3", NULL },
		  lfd);
	close(lfd);
	TEST_ASSERT(!xc_interface_open(0, &xch), "xc_interface_open");
	TEST_ASSERT(!xc_domain_connect(xch, addr.sun_path, &dom), "%s", xc_last_error(xch));
	check_info(xch, dom, &v, 1);
	TEST_ASSERT(!xc_domain_destroy(xch, dom), "%s", xc_last_error(xch));
	TEST_ASSERT(vmm_wait_exit(&v, 10000) == 4, "exit status after destroy");
	unlink(addr.sun_path);
	xc_interface_close(xch);
	printf("ok: --control-fd\n");
}

/* Bad --control / --control-fd values: a clear message and exit status 1. */
static void run_cli_errors(void)
{
	static const struct {
		const char *opt, *arg, *want;
	} cases[] = {
		{ "--control-fd", "abc", "expected a file descriptor number" },
		{ "--control-fd", "1", "not a listening Unix stream socket" },
		{ "--control-fd", "99", "not a listening Unix stream socket" },
		{ "--control", "/nonexistent-dir/ctl.sock", "cannot listen there" },
		{ "--control", "/dev/null", "cannot listen there" },
	};
	static struct vmm v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vmm_start(&v, (const char *[]){ "--kernel", control_elf, "--test-device",
					       "--memory", MEM_ARG, "--console", "none",
					       cases[i].opt, cases[i].arg, NULL }, -1);
		TEST_ASSERT(vmm_wait_exit(&v, 10000) == 1 && strstr(v.log, cases[i].want),
			    "%s %s: want exit 1 and '%s'", cases[i].opt, cases[i].arg,
			    cases[i].want);
	}
	printf("ok: bad --control and --control-fd values are refused\n");
}

int main(int argc, char **argv)
{
	int kvm;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DOMUS_VMM CONTROL_GUEST_ELF CONSOLE_GUEST_ELF\n",
			argv[0]);
		return 99;
	}
	vmm_path = argv[1];
	control_elf = argv[2];
	console_elf = argv[3];
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("SKIP: /dev/kvm: %m\n");
		return 77;
	}
	close(kvm);
	signal(SIGPIPE, SIG_IGN);
	TEST_ASSERT(mkdtemp(workdir), "mkdtemp: %m");
	run_main();
	run_destroy();
	run_console("socket");
	run_console("pty");
	run_control_fd();
	run_cli_errors();
	rmdir(workdir);
	printf("control protocol: all checks passed\n");
	return 0;
}
