// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-xc-migrate: save/restore and live migration through libxc and domus-xc, with the
 * VMM's jobs (GET_JOB, ABORT_JOB, MIGRATE_SET) watched from a second connection.
 *
 *   test-xc-migrate DOMUS_VMM DOMUS_XC GUEST_ELF
 *
 * GUEST_ELF is test-savestate-guest.c built to run (practically) for ever: a CPL-3 guest that
 * checks a 16 MiB memory pattern every round, rewrites 64 random pages and reports the round
 * (0x50000000 + n) on the test device; a wrong page is reported as 0xbad00000 | page and
 * ends it. libxc puts the VMM's stderr in <run dir>/<domid>/vmm.log, where the reports are
 * read: a domain "continues exactly" when the first report after a restore or migration is
 * the last one before plus one, and it goes on with no bad page.
 *
 * Two registries (two DOMUS_RUN_DIRs, one xc_interface each) are two hosts; migrations go
 * over a real TCP connection on loopback.
 *
 * Exit status: 0 pass, 1 fail, 77 skip (no /dev/kvm).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <domus/xc.h>

#include "host-test.h"

#define REPORT_BASE	0x50000000u
#define BAD_PAGE	0xbad00000u
#define MIB		(1ULL << 20)

static const char *vmm_path, *xc_path, *guest_elf;
static char dir_a[] = "/tmp/test-xcmig-a.XXXXXX", dir_b[] = "/tmp/test-xcmig-b.XXXXXX";
static xc_interface *xa, *xb, *xa2, *xb2;	/* per host: the caller's and a second one */
static const uint8_t the_uuid[16] = { 0x6d, 0x69, 0x67, 0x6a, 0x6f, 0x62, 0x40, 0x01,
				      0x80, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
static const char *const vmm_args[] = { "--test-device", NULL };

#define XC_OK(x, call) TEST_ASSERT((call) == 0, "%s", xc_last_error(x))

static void test_cleanup(void)
{
	char cmd[256];

	/* The VMMs of both registries, by their pid files' records; then the directories. */
	snprintf(cmd, sizeof(cmd), "for f in %s/*/domain %s/*/domain; do [ -f \"$f\" ] && "
		 "kill -9 $(sed -n 's/^pid=//p' \"$f\") 2>/dev/null; done; rm -rf %s %s",
		 dir_a, dir_b, dir_a, dir_b);
	if (system(cmd))
		fprintf(stderr, "cleanup: %s failed\n", cmd);
}

/* An xc_interface on the registry @dir (DOMUS_RUN_DIR is read on first use). */
static xc_interface *open_host(const char *dir)
{
	xc_interface *x;
	uint32_t *ids = NULL;

	setenv("DOMUS_RUN_DIR", dir, 1);
	TEST_ASSERT(!xc_interface_open(0, &x), "xc_interface_open");
	TEST_ASSERT(xc_domain_list(x, &ids) == 0, "registry %s: %s", dir, xc_last_error(x));
	free(ids);
	XC_OK(x, xc_interface_set_timeout(x, 10000));
	return x;
}

static unsigned int nr_domains(xc_interface *x)
{
	uint32_t *ids = NULL;
	int n = xc_domain_list(x, &ids);

	TEST_ASSERT(n >= 0, "list: %s", xc_last_error(x));
	free(ids);
	return n;
}

/* The guest's round reports in a domain's log: the last one, how many, any bad page. */
struct reports {
	uint32_t first, last;
	unsigned int n;
	bool bad;
};

static struct reports read_reports(const char *dir, uint32_t domid)
{
	struct reports r = {};
	char path[256], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u/vmm.log", dir, domid);
	f = fopen(path, "re");
	TEST_ASSERT(f, "%s: %m", path);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "testdev: report vcpu=0 value=0x");
		uint32_t v;

		if (!p)
			continue;
		v = strtoul(p + strlen("testdev: report vcpu=0 value=0x"), NULL, 16);
		if ((v & 0xfff00000u) == BAD_PAGE)
			r.bad = true;
		if (v < REPORT_BASE || v - REPORT_BASE >= 0x01000000u)
			continue;	/* the boot mark 0x5a5a0001, other values */
		if (!r.n++)
			r.first = v - REPORT_BASE;
		r.last = v - REPORT_BASE;
	}
	fclose(f);
	return r;
}

/* Wait until the guest reported round @round or later; fail on a bad page. */
static struct reports wait_round(const char *dir, uint32_t domid, uint32_t round)
{
	int64_t end = now_ms() + 20000;
	struct reports r;

	do {
		r = read_reports(dir, domid);
		TEST_ASSERT(!r.bad, "domain %u in %s reported a bad page", domid, dir);
		if (r.n && r.last >= round)
			return r;
		sleep_ms(20);
	} while (now_ms() < end);
	TEST_ASSERT(false, "domain %u in %s: no round %u (last %u of %u reports)", domid, dir,
		    round, r.last, r.n);
}

static void expect_state(xc_interface *x, xc_domain *dom, unsigned int state,
			 unsigned int reason, const char *what)
{
	xc_dominfo info;

	xc_dominfo_init(&info);
	XC_OK(x, xc_domain_getinfo(x, dom, &info));
	TEST_ASSERT(info.state == state && (!reason || info.reason == reason),
		    "%s: state %s (%s), want %s (%s)", what, xc_domain_state_name(info.state),
		    xc_domain_reason_name(info.reason), xc_domain_state_name(state),
		    xc_domain_reason_name(reason));
	xc_dominfo_dispose(&info);
}

static xc_build_config base_config(void)
{
	return (xc_build_config){
		.name = "xcmig", .mem_bytes = 64 * MIB, .console = XC_CONSOLE_NONE,
		.vmm_args = vmm_args,
	};
}

/* ---- save and restore ---- */

static xc_domain *check_save_restore(void)
{
	xc_build_config cfg = base_config();
	char file[300];
	xc_save_result res;
	xc_domain *dom, *again, *back;
	struct reports before, after;
	uint32_t old_id;
	int fd;

	cfg.kernel = guest_elf;
	memcpy(cfg.uuid, the_uuid, 16);
	XC_OK(xa, xc_domain_create(xa, &cfg, &dom));
	old_id = xc_domain_id(dom);
	wait_round(dir_a, old_id, 10);
	snprintf(file, sizeof(file), "%s/saved", dir_a);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	TEST_ASSERT(fd >= 0, "%s: %m", file);
	XC_OK(xa, xc_domain_save(xa, dom, fd, XC_SAVE_STOP, &res));
	close(fd);
	TEST_ASSERT(res.bytes > 12 * MIB && res.bytes < 20 * MIB && res.pages > 3000,
		    "save: %" PRIu64 " bytes, %" PRIu64 " pages", res.bytes, res.pages);
	before = read_reports(dir_a, old_id);

	/* Saved with stop: shutdown/saved, for this handle and a new one, until destroyed. */
	expect_state(xa, dom, XC_DOMSTATE_SHUTDOWN, XC_REASON_SAVED, "saved domain");
	XC_OK(xa2, xc_domain_open(xa2, old_id, &again));
	expect_state(xa2, again, XC_DOMSTATE_SHUTDOWN, XC_REASON_SAVED, "saved, new handle");
	xc_domain_close(xa2, again);
	TEST_ASSERT(nr_domains(xa) == 1, "the saved domain left the registry before destroy");
	cfg.kernel = NULL;
	cfg.restore_path = file;
	again = NULL;
	TEST_ASSERT(xc_domain_create(xa, &cfg, &again) == -EEXIST && !again,
		    "restore under a name still taken: %s", xc_last_error(xa));
	XC_OK(xa, xc_domain_destroy(xa, dom));
	xc_domain_close(xa, dom);
	TEST_ASSERT(nr_domains(xa) == 0, "destroy left the saved domain");
	printf("ok: save with stop: %" PRIu64 " MiB in %" PRIu64 " ms; shutdown/saved until "
	       "destroyed\n", res.bytes >> 20, res.write_ns / 1000000);

	/* Restore: memory and vCPUs from the file, name and UUID as given, a fresh entry; the
	 * kernel goes along for the machine after a reboot. */
	cfg.mem_bytes = 0;
	cfg.kernel = guest_elf;
	setenv("DOMUS_VMM_LAZY_DELAY_MS", "50", 1);	/* a lazy restore of ~0.7 s */
	XC_OK(xa, xc_domain_create(xa, &cfg, &back));
	unsetenv("DOMUS_VMM_LAZY_DELAY_MS");
	/*
	 * Saved into the very file its memory is still coming from: xc_save_file_open waits
	 * for the VMM's read lock to go before it truncates, so the restore loses nothing (an
	 * O_TRUNC here would end the domain: "the file was truncated since the restore began").
	 */
	fd = xc_save_file_open(xa, file, 0600);
	TEST_ASSERT(fd >= 0, "xc_save_file_open: %s", xc_last_error(xa));
	XC_OK(xa, xc_domain_save(xa, back, fd, 0, &res));
	TEST_ASSERT(lseek(fd, 0, SEEK_END) == (off_t)res.bytes, "the second save's file has "
		    "other than its %" PRIu64 " bytes", res.bytes);
	close(fd);
	TEST_ASSERT(!strcmp(xc_domain_name(back), "xcmig") &&
		    !memcmp(xc_domain_uuid(back), the_uuid, 16), "restored name/UUID differ");
	after = wait_round(dir_a, xc_domain_id(back), before.last + 20);
	TEST_ASSERT(after.first == before.last + 1, "restored guest went on with round %u after "
		    "%u", after.first, before.last);
	expect_state(xa, back, XC_DOMSTATE_RUNNING, 0, "restored domain");
	printf("ok: restore through xc_domain_create: domid %u -> %u, rounds %u -> %u, memory "
	       "intact\n", old_id, xc_domain_id(back), before.last, after.first);
	printf("ok: saved again into the same file while restoring lazily from it: "
	       "xc_save_file_open waited for the VMM's lock\n");
	return back;
}

/* ---- migration ---- */

/* A TCP connection on loopback: *@src connects, *@dst is what the listener accepted. */
static void tcp_pair(int *src, int *dst)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	TEST_ASSERT(l >= 0 && !bind(l, (struct sockaddr *)&a, sizeof(a)) && !listen(l, 1) &&
		    !getsockname(l, (struct sockaddr *)&a, &len), "listen: %m");
	*src = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	TEST_ASSERT(*src >= 0 && !connect(*src, (struct sockaddr *)&a, sizeof(a)), "connect: %m");
	*dst = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	TEST_ASSERT(*dst >= 0, "accept: %m");
	close(l);
}

/* The destination: a domain in @x's registry that receives on @fd. */
static xc_domain *incoming(xc_interface *x, int fd)
{
	xc_build_config cfg = base_config();
	xc_domain *dom;

	cfg.incoming = true;
	cfg.incoming_fd = fd;
	cfg.kernel = guest_elf;		/* for the machine after a reboot */
	memcpy(cfg.uuid, the_uuid, 16);
	XC_OK(x, xc_domain_create(x, &cfg, &dom));
	close(fd);
	return dom;
}

struct sender {
	pthread_t thread;
	xc_interface *x;
	xc_domain *dom;
	int fd;
	xc_migrate_params params;
	xc_migrate_result res;
	int ret;
	char err[1024];
};

static void *send_thread(void *opaque)
{
	struct sender *s = opaque;

	s->ret = xc_domain_migrate_send(s->x, s->dom, s->fd, &s->params, &s->res);
	snprintf(s->err, sizeof(s->err), "%s", xc_last_error(s->x));
	close(s->fd);
	return NULL;
}

static void start_sender(struct sender *s)
{
	TEST_ASSERT(!pthread_create(&s->thread, NULL, send_thread, s), "pthread_create");
}

/*
 * Wait (polling GET_JOB on @mon) until the migration sent @bytes; return the last info.
 * @started: the job is known to run (else an earlier job's outcome may show at first).
 */
static xc_job_info wait_bytes(xc_interface *x, xc_domain *mon, uint64_t bytes, bool started)
{
	int64_t end = now_ms() + 20000;
	xc_job_info j;

	do {
		XC_OK(x, xc_domain_get_job(x, mon, &j));
		if (j.phase >= XC_JOB_COMPLETED && started)
			return j;
		if (j.phase > XC_JOB_NONE && j.phase < XC_JOB_COMPLETED && j.bytes >= bytes)
			return j;
		sleep_ms(20);
	} while (now_ms() < end);
	TEST_ASSERT(false, "the migration sent only %" PRIu64 " bytes", j.bytes);
}

static pid_t record_pid(const char *dir, uint32_t domid)
{
	char path[256], line[256];
	pid_t pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u/domain", dir, domid);
	f = fopen(path, "re");
	TEST_ASSERT(f, "%s: %m", path);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "pid=", 4))
			pid = atoi(line + 4);
	fclose(f);
	return pid;
}

/*
 * A → B, slowed down (8 MiB/s, 1 ms allowed downtime: a guest that dirties 64 pages per
 * round does not converge), watched from a second connection: phase, bytes and rounds grow;
 * PAUSE and a second job are refused meanwhile; MIGRATE_SET's 2 s of allowed downtime ends
 * it. The guest goes on in B with the next round; A's domain ends as migrated.
 */
static xc_domain *check_migrate(xc_domain *src)
{
	struct sender s = { .x = xa, .dom = src,
			    .params = { .max_downtime_ms = 1, .bandwidth = 8 * MIB } };
	xc_domain *mon, *dst;
	xc_job_info j, j0;
	struct reports before, after;
	uint32_t prev_rounds = 0;
	int dfd, nfd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	tcp_pair(&s.fd, &dfd);
	dst = incoming(xb, dfd);
	TEST_ASSERT(xc_domain_pause(xb, dst) == -ENOTCONN, "a pending domain took a request");
	XC_OK(xa2, xc_domain_open(xa2, xc_domain_id(src), &mon));
	start_sender(&s);
	j0 = wait_bytes(xa2, mon, 2 * MIB, false);
	TEST_ASSERT(j0.phase == XC_JOB_MIGRATING && j0.kind == XC_JOB_KIND_MIGRATE &&
		    j0.pages_total == 64 * MIB / 4096 && j0.max_downtime_ms == 1 &&
		    j0.pages_sent >= 256 && j0.pages_sent <= j0.bytes / 4096 &&
		    j0.bandwidth == 8 * MIB, "job info: phase %s kind %u pages %" PRIu64,
		    xc_job_phase_name(j0.phase), j0.kind, j0.pages_total);
	TEST_ASSERT(xc_domain_pause(xa2, mon) == -EBUSY && strstr(xc_last_error(xa2), "migration"),
		    "pause during a migration: %s", xc_last_error(xa2));
	TEST_ASSERT(xc_domain_save(xa2, mon, nfd, 0, NULL) == -EBUSY,
		    "a second job: %s", xc_last_error(xa2));
	close(nfd);
	/* Rounds go by while the guest dirties faster than 1 ms of downtime allows. */
	do {
		j = wait_bytes(xa2, mon, j0.bytes + 1, true);
		TEST_ASSERT(j.phase == XC_JOB_MIGRATING, "phase %s", xc_job_phase_name(j.phase));
		TEST_ASSERT(j.bytes >= j0.bytes && j.rounds >= prev_rounds, "progress went back");
		prev_rounds = j.rounds;
		j0 = j;
	} while (j.rounds < 3);
	TEST_ASSERT(j.dirty_rate > 0 && j.pages_remaining > 0 && j.expected_downtime_ns > 1000000,
		    "round %u: dirty rate %" PRIu64 ", remaining %" PRIu64 ", expected downtime "
		    "%" PRIu64 " ns", j.rounds, j.dirty_rate, j.pages_remaining,
		    j.expected_downtime_ns);
	printf("ok: progress from a second connection: round %u, %" PRIu64 " KiB sent, %" PRIu64
	       " pages/s dirtied, %.1f ms expected downtime\n", j.rounds, j.bytes >> 10,
	       j.dirty_rate, j.expected_downtime_ns / 1e6);
	XC_OK(xa2, xc_domain_migrate_set(xa2, mon, XC_MIGRATE_SET_DOWNTIME |
					 XC_MIGRATE_SET_BANDWIDTH, 2000, 0));
	pthread_join(s.thread, NULL);
	TEST_ASSERT(s.ret == 0, "migrate: %s", s.err);
	TEST_ASSERT(s.res.rounds >= 3, "only %u rounds", s.res.rounds);
	XC_OK(xb, xc_domain_wait_running(xb, dst, 10000));
	before = read_reports(dir_a, xc_domain_id(src));
	after = wait_round(dir_b, xc_domain_id(dst), before.last + 20);
	TEST_ASSERT(after.first == before.last + 1, "migrated guest went on with round %u after "
		    "%u", after.first, before.last);
	TEST_ASSERT(!strcmp(xc_domain_name(dst), "xcmig") &&
		    !memcmp(xc_domain_uuid(dst), the_uuid, 16), "migrated name/UUID differ");
	expect_state(xb, dst, XC_DOMSTATE_RUNNING, 0, "destination");
	expect_state(xa, src, XC_DOMSTATE_SHUTDOWN, XC_REASON_MIGRATED, "source");
	printf("ok: migrated over TCP in %u rounds, %" PRIu64 " MiB, downtime %.2f ms after "
	       "migrate-set (2000 ms, no bandwidth limit); rounds %u -> %u\n", s.res.rounds,
	       s.res.bytes >> 20, s.res.downtime_ns / 1e6, before.last, after.first);
	xc_domain_close(xa2, mon);
	XC_OK(xa, xc_domain_destroy(xa, src));
	xc_domain_close(xa, src);
	TEST_ASSERT(nr_domains(xa) == 0, "the migrated-away domain is still in A");
	return dst;
}

/*
 * B → A, cut off mid-way: by ABORT_JOB (@kill false) or by killing the destination's VMM.
 * Either way the guest runs on in B, and A's registry is left empty.
 */
static void check_cut_off(xc_domain *src, bool kill_dest)
{
	struct sender s = { .x = xb, .dom = src,
			    .params = { .max_downtime_ms = 1, .bandwidth = 4 * MIB } };
	xc_domain *mon, *dst;
	xc_job_info j;
	struct reports before;
	int dfd;

	tcp_pair(&s.fd, &dfd);
	dst = incoming(xa, dfd);
	XC_OK(xb2, xc_domain_open(xb2, xc_domain_id(src), &mon));
	start_sender(&s);
	j = wait_bytes(xb2, mon, 2 * MIB, false);
	TEST_ASSERT(j.phase == XC_JOB_MIGRATING, "phase %s", xc_job_phase_name(j.phase));
	if (kill_dest)
		TEST_ASSERT(!kill(record_pid(dir_a, xc_domain_id(dst)), SIGKILL), "kill: %m");
	else
		XC_OK(xb2, xc_domain_abort_job(xb2, mon));
	pthread_join(s.thread, NULL);
	TEST_ASSERT(s.ret != 0 && (kill_dest || s.ret == -ECANCELED),
		    "migration cut off: %d %s", s.ret, s.err);
	XC_OK(xb2, xc_domain_get_job(xb2, mon, &j));
	TEST_ASSERT(j.phase == (kill_dest ? XC_JOB_FAILED : XC_JOB_CANCELLED) &&
		    j.status == s.ret && j.error[0], "last job: %s %d '%s'",
		    xc_job_phase_name(j.phase), j.status, j.error);
	TEST_ASSERT(xc_domain_abort_job(xb2, mon) == -ENOENT, "abort with no job: %s",
		    xc_last_error(xb2));
	TEST_ASSERT(xc_domain_migrate_set(xb2, mon, XC_MIGRATE_SET_DOWNTIME, 5, 0) == -ENOENT,
		    "migrate-set with no migration: %s", xc_last_error(xb2));
	expect_state(xb, src, XC_DOMSTATE_RUNNING, 0, "source after the cut");
	before = read_reports(dir_b, xc_domain_id(src));
	wait_round(dir_b, xc_domain_id(src), before.last + 10);
	TEST_ASSERT(xc_domain_wait_running(xa, dst, 10000) == -EIO, "destination: %s",
		    xc_last_error(xa));
	printf("ok: %s mid-way: '%s'; the source runs on; destination said '%s'\n",
	       kill_dest ? "destination killed" : "ABORT_JOB", s.err, xc_last_error(xa));
	xc_domain_close(xa, dst);
	TEST_ASSERT(nr_domains(xa) == 0, "the failed destination left a registry entry");
	xc_domain_close(xb2, mon);
}

/* ---- domus-xc ---- */

/* Run domus-xc with DOMUS_RUN_DIR=@dir; return its exit status, its stdout in @out. */
static int run_xc(const char *dir, char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int run_xc(const char *dir, char *out, size_t len, const char *fmt, ...)
{
	char args[1024], cmd[1400];
	va_list ap;
	size_t n = 0;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "DOMUS_RUN_DIR=%s %s %s", dir, xc_path, args);
	p = popen(cmd, "re");
	TEST_ASSERT(p, "popen: %m");
	if (out) {
		n = fread(out, 1, len - 1, p);
		out[n] = '\0';
	} else {
		char buf[4096];

		while (fread(buf, 1, sizeof(buf), p) > 0)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	TEST_ASSERT(l >= 0 && !bind(l, (struct sockaddr *)&a, sizeof(a)) &&
		    !getsockname(l, (struct sockaddr *)&a, &len), "bind: %m");
	close(l);
	return ntohs(a.sin_port);
}

/* save --keep-running, job, migrate to `create --incoming`, restore, job-abort. */
static void check_domus_xc(xc_domain *dom)
{
	char out[4096], file[300], id[32];
	FILE *inc;
	int port = free_port(), st;
	uint32_t domid;

	snprintf(file, sizeof(file), "%s/xc-saved", dir_b);
	TEST_ASSERT(run_xc(dir_b, out, sizeof(out), "save xcmig %s --keep-running", file) == 0 &&
		    strstr(out, "saved "), "domus-xc save: %s", out);
	expect_state(xb, dom, XC_DOMSTATE_RUNNING, 0, "kept running");
	TEST_ASSERT(run_xc(dir_b, out, sizeof(out), "job xcmig") == 0 &&
		    strstr(out, "phase completed\nkind save\n") && strstr(out, "result 0"),
		    "domus-xc job: %s", out);
	TEST_ASSERT(run_xc(dir_b, NULL, 0, "job-abort xcmig 2>/dev/null") == 1,
		    "job-abort with no job did not fail");

	/* B → A with the two verbs: the destination listens, the source connects. */
	snprintf(out, sizeof(out), "DOMUS_RUN_DIR=%s %s create --name xcmig --memory 64M "
		 "--console none --vmm-arg=--test-device --incoming 127.0.0.1:%d", dir_a,
		 xc_path, port);
	inc = popen(out, "re");
	TEST_ASSERT(inc, "popen: %m");
	for (int i = 0; i < 100 && run_xc(dir_b, out, sizeof(out), "migrate xcmig "
					  "127.0.0.1:%d 2>/dev/null", port) == 1; i++)
		sleep_ms(50);	/* until the listener is there */
	TEST_ASSERT(strstr(out, "migrated "), "domus-xc migrate: %s", out);
	TEST_ASSERT(fgets(id, sizeof(id), inc), "create --incoming printed no domid");
	st = pclose(inc);
	TEST_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "create --incoming: status %d", st);
	domid = strtoul(id, NULL, 10);
	wait_round(dir_a, domid, read_reports(dir_a, domid).first + 10);
	expect_state(xb, dom, XC_DOMSTATE_SHUTDOWN, XC_REASON_MIGRATED, "domus-xc migrate source");
	printf("ok: domus-xc migrate 127.0.0.1:%d -> create --incoming: domid %u runs\n", port,
	       domid);

	/* restore FILE under another name in B, next to nothing else of that name. */
	XC_OK(xb, xc_domain_destroy(xb, dom));
	TEST_ASSERT(run_xc(dir_b, out, sizeof(out), "restore %s --name xcmig-r "
			   "--vmm-arg=--test-device", file) == 0, "domus-xc restore: %s", out);
	domid = strtoul(out, NULL, 10);
	wait_round(dir_b, domid, read_reports(dir_b, domid).first + 10);
	TEST_ASSERT(run_xc(dir_b, NULL, 0, "destroy xcmig-r") == 0 &&
		    run_xc(dir_a, NULL, 0, "destroy xcmig") == 0, "domus-xc destroy");
	printf("ok: domus-xc save --keep-running, job, job-abort, restore\n");
}

/*
 * DESTROY from a second handle while a migration runs: the job is cancelled first, the
 * sender hears -ESHUTDOWN, the destination gives up; nothing is left on either side.
 */
static void check_destroy_during_job(void)
{
	xc_build_config cfg = base_config();
	struct sender s = { .x = xa, .params = { .max_downtime_ms = 1, .bandwidth = 4 * MIB } };
	xc_domain *mon, *dst;
	int dfd;

	cfg.kernel = guest_elf;
	memcpy(cfg.uuid, the_uuid, 16);
	XC_OK(xa, xc_domain_create(xa, &cfg, &s.dom));
	wait_round(dir_a, xc_domain_id(s.dom), 5);
	tcp_pair(&s.fd, &dfd);
	dst = incoming(xb, dfd);
	XC_OK(xa2, xc_domain_open(xa2, xc_domain_id(s.dom), &mon));
	start_sender(&s);
	wait_bytes(xa2, mon, 2 * MIB, false);
	XC_OK(xa2, xc_domain_destroy(xa2, mon));
	pthread_join(s.thread, NULL);
	TEST_ASSERT(s.ret == -ESHUTDOWN || s.ret == -ECONNRESET || s.ret == -ENOTCONN,
		    "migrate of a destroyed domain: %d %s", s.ret, s.err);
	TEST_ASSERT(xc_domain_wait_running(xb, dst, 10000) == -EIO, "destination: %s",
		    xc_last_error(xb));
	xc_domain_close(xa2, mon);
	xc_domain_close(xb, dst);
	xc_domain_close(xa, s.dom);
	TEST_ASSERT(nr_domains(xa) == 0 && nr_domains(xb) == 0, "a destroyed migration left "
		    "domains behind");
	printf("ok: DESTROY during a migration cancels it ('%s'); nothing left on either side\n",
	       s.err);
}

struct saver {
	pthread_t thread;
	xc_domain *dom;
	int fd;
	int ret;
};

static void *save_thread(void *opaque)
{
	struct saver *s = opaque;

	s->ret = xc_domain_save(xa, s->dom, s->fd, 0, NULL);
	return NULL;
}

/*
 * ABORT_JOB of a save writing to a pipe nobody reads, as early as the job exists (where a
 * lone wake-up signal could come before the write blocks and be lost) and once it is
 * blocked: the save ends cancelled every time and the guest runs on.
 */
static void check_abort_save_to_pipe(void)
{
	xc_build_config cfg = base_config();
	xc_domain *dom, *mon;
	xc_job_info j;
	uint32_t id;

	cfg.kernel = guest_elf;
	memcpy(cfg.uuid, the_uuid, 16);
	XC_OK(xa, xc_domain_create(xa, &cfg, &dom));
	id = xc_domain_id(dom);
	XC_OK(xa2, xc_domain_open(xa2, id, &mon));	/* a second connection watches */
	wait_round(dir_a, id, 3);
	for (int i = 0; i < 10; i++) {
		struct saver s = { .dom = dom };
		int p[2], r;
		int64_t end = now_ms() + 10000;

		TEST_ASSERT(!pipe2(p, O_CLOEXEC), "pipe: %m");
		s.fd = p[1];
		TEST_ASSERT(!pthread_create(&s.thread, NULL, save_thread, &s), "pthread_create");
		if (i & 1)	/* the odd rounds: once the pipe is surely full */
			sleep_ms(300);
		while ((r = xc_domain_abort_job(xa2, mon)) == -ENOENT && now_ms() < end)
			;	/* no job yet: as early as it exists */
		TEST_ASSERT(r == 0, "abort %d: %d %s", i, r, xc_last_error(xa2));
		end = now_ms() + 10000;
		do {
			XC_OK(xa2, xc_domain_get_job(xa2, mon, &j));
			if (j.phase >= XC_JOB_COMPLETED)
				break;
			sleep_ms(10);
		} while (now_ms() < end);
		TEST_ASSERT(j.phase >= XC_JOB_COMPLETED, "round %d: the cancelled save to a pipe "
			    "still runs after 10 s (phase %u)", i, j.phase);
		pthread_join(s.thread, NULL);
		TEST_ASSERT(s.ret == -ECANCELED, "round %d: save returned %d", i, s.ret);
		close(p[0]);
		close(p[1]);
	}
	expect_state(xa, dom, XC_DOMSTATE_RUNNING, 0, "after cancelled saves");
	wait_round(dir_a, id, read_reports(dir_a, id).last + 3);
	xc_domain_close(xa2, mon);
	XC_OK(xa, xc_domain_destroy(xa, dom));
	xc_domain_close(xa, dom);
	printf("ok: ABORT_JOB of saves blocked on an unread pipe (10 rounds, early and late): "
	       "cancelled every time, the guest runs on\n");
}

int main(int argc, char **argv)
{
	xc_domain *dom;
	int kvm;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DOMUS_VMM DOMUS_XC GUEST_ELF\n", argv[0]);
		return 99;
	}
	vmm_path = argv[1];
	xc_path = argv[2];
	guest_elf = argv[3];
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("SKIP: /dev/kvm: %m\n");
		return 77;
	}
	close(kvm);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	TEST_ASSERT(mkdtemp(dir_a) && mkdtemp(dir_b), "mkdtemp: %m");
	setenv("DOMUS_VMM", vmm_path, 1);
	xa = open_host(dir_a);
	xa2 = open_host(dir_a);
	xb = open_host(dir_b);
	xb2 = open_host(dir_b);

	dom = check_save_restore();
	dom = check_migrate(dom);
	check_cut_off(dom, false);
	check_cut_off(dom, true);
	check_domus_xc(dom);
	check_destroy_during_job();
	check_abort_save_to_pipe();

	TEST_ASSERT(nr_domains(xa) == 0 && nr_domains(xb) == 0, "domains left behind");
	xc_interface_close(xa);
	xc_interface_close(xa2);
	xc_interface_close(xb);
	xc_interface_close(xb2);
	test_cleanup();
	printf("xc-migrate: all checks passed\n");
	return 0;
}
