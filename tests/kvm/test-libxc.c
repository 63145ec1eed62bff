// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-libxc: every libxc call on domains that libxc itself builds and starts, with tiny
 * guests on the host's /dev/kvm.
 *
 *   test-libxc DOMUS_VMM DOMUS_XC CONTROL_GUEST_ELF CONSOLE_GUEST_ELF
 *
 * test-control-guest.elf reports a growing count through the test device every 50 ms and
 * powers off on the ACPI power button. libxc sends the VMM's stderr to <run dir>/<domid>/
 * vmm.log, so the count is read there: it shows whether a domain's vCPUs run.
 * test-console.elf echoes what it receives on COM1 (the console checks).
 *
 * The test runs as root in a private network namespace (its taps touch no host interface)
 * with a private registry ($DOMUS_RUN_DIR), so it never touches /run/domus. Cgroups are
 * the host's: each domain's is <cpu hierarchy>/domus/<domid>-<uuid>, checked and cleaned up.
 *
 * Exit status: 0 pass, 1 fail, 77 skip (no /dev/kvm, not root).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <domus/control.h>
#include <domus/tap.h>
#include <domus/xc.h>

#include "host-test.h"

#define REPORT_BASE	0xc0000000u
#define MIB		(1ULL << 20)

static const char *vmm_path, *xc_path, *guest_elf, *console_elf;
static char run_dir[] = "/tmp/test-libxc.XXXXXX";
static xc_interface *xch;
static bool have_cgroup;		/* the host has a cpu cgroup controller for libxc */
static pid_t fake_vmm;			/* check_fake_hello()'s, to end on failure */

/* A libxc call that must succeed; on failure, its last error says why. */
#define XC_OK(call) TEST_ASSERT((call) == 0, "%s", xc_last_error(xch))

/* A libxc call that must fail with @err and a last error containing @words. */
#define XC_FAILS(call, err, words)                                                                 \
	do {                                                                                       \
		int _r = (call);                                                                   \
		TEST_ASSERT(_r == (err) && strstr(xc_last_error(xch), (words)),                    \
			    "returned %d (%s), want %d and '%s' in the error: '%s'", _r,           \
			    strerror(-_r), (err), (words), xc_last_error(xch));                    \
	} while (0)

/* ---- the registry, seen from outside libxc ---- */

static void domain_file(uint32_t domid, const char *leaf, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%" PRIu32 "%s%s", run_dir, domid, leaf ? "/" : "",
		 leaf ? leaf : "");
}

static bool domain_file_exists(uint32_t domid, const char *leaf)
{
	char path[512];

	domain_file(domid, leaf, path, sizeof(path));
	return access(path, F_OK) == 0;
}

/* A key of the domain's record (the cgroup directory, say); "" if absent. */
static void record_value(uint32_t domid, const char *key, char *out, size_t len)
{
	char path[512], line[512];
	size_t klen = strlen(key);
	FILE *f;

	out[0] = '\0';
	domain_file(domid, "domain", path, sizeof(path));
	f = fopen(path, "re");
	TEST_ASSERT(f, "no record %s: %m", path);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == '=') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, len, "%s", line + klen + 1);
		}
	fclose(f);
}

/* The numbered subdirectories of the registry: domains libxc knows of, built or not. */
static unsigned int registry_dirs(void)
{
	char cmd[600], buf[64] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "find '%s' -mindepth 1 -maxdepth 1 -type d -name '[0-9]*' | "
		 "wc -l", run_dir);
	p = popen(cmd, "re");
	TEST_ASSERT(p && fgets(buf, sizeof(buf), p), "find: %m");
	pclose(p);
	return strtoul(buf, NULL, 10);
}

/* Is there a cgroup for this UUID under any cpu hierarchy's domus/? */
static bool cgroup_exists_for(const uint8_t uuid[16])
{
	char cmd[512], id[37], buf[256] = "";
	FILE *p;

	xc_uuid_format(uuid, id);
	snprintf(cmd, sizeof(cmd), "ls -d /sys/fs/cgroup/domus/*-%s /sys/fs/cgroup/cpu/domus/*-%s "
		 "/sys/fs/cgroup/cpu,cpuacct/domus/*-%s 2>/dev/null", id, id, id);
	p = popen(cmd, "re");
	TEST_ASSERT(p, "popen: %m");
	(void)!fgets(buf, sizeof(buf), p);
	pclose(p);
	return buf[0] != '\0';
}

static bool process_gone(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool gone = true;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		gone = p[2] == 'Z' || p[2] == 'X';
	fclose(f);
	return gone;
}

/* ---- the guest's count, from the VMM's log ---- */

struct progress {
	uint32_t last;			/* the last report after @from; 0: none */
	bool restarted;			/* a report of 1 after @from: a new machine counts */
	size_t size;			/* how much of the log there was */
};

static struct progress read_progress(uint32_t domid, size_t from)
{
	struct progress pr = {};
	char path[512], line[256];
	FILE *f;

	domain_file(domid, "vmm.log", path, sizeof(path));
	f = fopen(path, "re");
	TEST_ASSERT(f, "no log %s: %m", path);
	fseek(f, (long)from, SEEK_SET);
	while (fgets(line, sizeof(line), f)) {
		unsigned int value;

		if (sscanf(line, "domus-vmm: testdev: report vcpu=%*u value=%x", &value) == 1 &&
		    value > REPORT_BASE) {
			pr.last = value - REPORT_BASE;
			pr.restarted = pr.restarted || pr.last == 1;
		}
	}
	pr.size = (size_t)ftell(f);
	fclose(f);
	return pr;
}

static uint32_t count_of(uint32_t domid)
{
	return read_progress(domid, 0).last;
}

/* Does the count grow past @after within @timeout_ms? */
static bool count_grows(uint32_t domid, uint32_t after, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	do {
		if (count_of(domid) > after)
			return true;
		sleep_ms(10);
	} while (now_ms() < end);
	return false;
}

/* Does a new machine start counting from 1 after @from within @timeout_ms? */
static bool count_restarts(uint32_t domid, size_t from, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	do {
		if (read_progress(domid, from).restarted)
			return true;
		sleep_ms(10);
	} while (now_ms() < end);
	return false;
}

static void expect_running(uint32_t domid, const char *what)
{
	uint32_t c = count_of(domid);

	TEST_ASSERT(count_grows(domid, c, 5000), "%s: domain %u: the count stays at %u", what,
		    domid, c);
}

static void expect_stopped(uint32_t domid, const char *what)
{
	uint32_t c = count_of(domid);

	TEST_ASSERT(!count_grows(domid, c, 300), "%s: domain %u: the count moved from %u to %u",
		    what, domid, c, count_of(domid));
}

/* ---- building domains ---- */

static const char *const test_args[] = { "--test-device", NULL };

static xc_build_config base_config(const char *name)
{
	return (xc_build_config){
		.name = name,
		.kernel = guest_elf,
		.mem_bytes = 16 * MIB,
		.console = XC_CONSOLE_NONE,
		.vmm_args = test_args,
	};
}

static xc_domain *create(const xc_build_config *cfg)
{
	xc_domain *dom = NULL;

	XC_OK(xc_domain_create(xch, cfg, &dom));
	TEST_ASSERT(dom && xc_domain_id(dom) > 0, "no domain handle");
	return dom;
}

static void get_info(xc_domain *dom, xc_dominfo *info)
{
	XC_OK(xc_domain_getinfo(xch, dom, info));
}

/* The domain's VMM process, as getinfo says. */
static pid_t vmm_pid(xc_domain *dom)
{
	xc_dominfo info;
	pid_t pid;

	xc_dominfo_init(&info);
	get_info(dom, &info);
	pid = info.pid;
	xc_dominfo_dispose(&info);
	return pid;
}

static bool state_is_live(unsigned int state)
{
	return state == XC_DOMSTATE_RUNNING || state == XC_DOMSTATE_BLOCKED;
}

static void expect_event(xc_domain *dom, unsigned int state, unsigned int reason,
			 int exit_status)
{
	xc_domain_event ev;

	XC_OK(xc_domain_wait_event(xch, dom, 10000, &ev));
	TEST_ASSERT(ev.state == state && ev.reason == reason && ev.exit_status == exit_status,
		    "event %s: %s (exit %d: %s), want %s: %s (exit %d)",
		    xc_domain_state_name(ev.state), xc_domain_reason_name(ev.reason),
		    ev.exit_status, ev.message, xc_domain_state_name(state),
		    xc_domain_reason_name(reason), exit_status);
}

/*
 * As an event loop does it: poll() the event fd (it changes when the handle connects again
 * after a reboot, so ask for it each time), then take events with timeout 0 until there
 * are none. The first one must be @state, @reason.
 */
static void poll_event(xc_domain *dom, unsigned int state, unsigned int reason)
{
	int64_t end = now_ms() + 10000;
	xc_domain_event ev;
	int r;

	for (;;) {
		struct pollfd p = { .fd = xc_domain_event_fd(xch, dom), .events = POLLIN };

		TEST_ASSERT(p.fd >= 0, "event fd: %s", xc_last_error(xch));
		TEST_ASSERT(now_ms() < end, "no event %s: %s within 10 s",
			    xc_domain_state_name(state), xc_domain_reason_name(reason));
		if (poll(&p, 1, 100) <= 0)
			continue;
		r = xc_domain_wait_event(xch, dom, 0, &ev);
		if (r == -ETIMEDOUT)
			continue;	/* a reconnection, or part of a message */
		TEST_ASSERT(r == 0 && ev.state == state && ev.reason == reason,
			    "event %d: %s: %s (%s), want %s: %s", r, xc_domain_state_name(ev.state),
			    xc_domain_reason_name(ev.reason), ev.message,
			    xc_domain_state_name(state), xc_domain_reason_name(reason));
		return;
	}
}

/* Pause or unpause @dom, which is subscribed, and see the event for it. */
static void set_paused(xc_domain *dom, bool paused)
{
	XC_OK(paused ? xc_domain_pause(xch, dom) : xc_domain_unpause(xch, dom));
	expect_event(dom, paused ? XC_DOMSTATE_PAUSED : XC_DOMSTATE_RUNNING,
		     paused ? XC_REASON_PAUSED : XC_REASON_UNPAUSED, -1);
}

/* Destroy: the VMM, the registry entry, the cgroup and the socket all go. */
static void destroy_and_check(xc_domain *dom)
{
	uint32_t domid = xc_domain_id(dom);
	pid_t pid = vmm_pid(dom);
	uint8_t uuid[16];
	xc_dominfo info;
	xc_domain *again;
	char id[16];

	memcpy(uuid, xc_domain_uuid(dom), 16);
	xc_dominfo_init(&info);
	XC_OK(xc_domain_destroy(xch, dom));
	TEST_ASSERT(process_gone(pid), "domain %u: VMM %d still runs after destroy", domid,
		    (int)pid);
	TEST_ASSERT(!domain_file_exists(domid, NULL), "domain %u: registry entry left", domid);
	TEST_ASSERT(!cgroup_exists_for(uuid), "domain %u: cgroup left", domid);
	XC_FAILS(xc_domain_getinfo(xch, dom, &info), -ESRCH, "destroyed");
	xc_domain_close(xch, dom);
	XC_FAILS(xc_domain_open(xch, domid, &again), -ESRCH, "no domain");
	snprintf(id, sizeof(id), "%" PRIu32, domid);
	XC_FAILS(xc_domain_lookup(xch, id, &domid), -ESRCH, "no domain with");
}

/* ---- the checks ---- */

/*
 * Names that look like a domid or a UUID, on domains with lower domids than the ones they
 * look like: a domid wins, then a UUID, then a name (as virsh). Also a 64-byte name.
 */
static void check_lookup_precedence(void)
{
	static const uint8_t big_uuid[16] = { 0x6b, 0x1d, 0x2f, 0x10, 0x00, 0x05, 0x40, 0x00,
					      0x80, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x05 };
	char number[16], text[37], longest[XC_NAME_MAX + 1];
	xc_domain *numeric, *uuidish, *big;
	xc_build_config cfg;
	uint32_t *ids, domid, next;
	int n = xc_domain_list(xch, &ids);

	TEST_ASSERT(n >= 0, "%s", xc_last_error(xch));
	next = n ? ids[n - 1] + 1 : 1;
	free(ids);
	snprintf(number, sizeof(number), "%" PRIu32, next + 1);	/* uuidish's domid */
	xc_uuid_format(big_uuid, text);
	memset(longest, 'x', XC_NAME_MAX);
	longest[XC_NAME_MAX] = '\0';
	cfg = base_config(number);
	numeric = create(&cfg);
	cfg = base_config(text);
	uuidish = create(&cfg);
	cfg = base_config(longest);
	memcpy(cfg.uuid, big_uuid, 16);
	big = create(&cfg);
	TEST_ASSERT(xc_domain_id(numeric) == next && xc_domain_id(uuidish) == next + 1,
		    "domids %u, %u", xc_domain_id(numeric), xc_domain_id(uuidish));
	XC_OK(xc_domain_lookup(xch, number, &domid));
	TEST_ASSERT(domid == next + 1, "'%s' found domain %u (named so), not domid %s", number,
		    domid, number);
	XC_OK(xc_domain_lookup(xch, text, &domid));
	TEST_ASSERT(domid == xc_domain_id(big), "'%s' found domain %u (named so), not the one "
		    "with that UUID", text, domid);
	XC_OK(xc_domain_lookup(xch, longest, &domid));
	TEST_ASSERT(domid == xc_domain_id(big), "the 64-byte name found %u", domid);
	destroy_and_check(numeric);
	destroy_and_check(uuidish);
	destroy_and_check(big);
	printf("ok: a name like a domid or a UUID does not hide that domain; a 64-byte name\n");
}

static void check_create_info(void)
{
	static const uint8_t uuid[16] = { 0x6b, 0x1d, 0x2f, 0x10, 0x00, 0x01, 0x40, 0x00,
					  0x80, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01 };
	xc_build_config cfg = base_config("alpha");
	xc_domain *a, *b;
	xc_dominfo info;
	uint32_t *ids, domid;
	char text[37], path[512];
	const uint8_t *u;
	int n;

	memcpy(cfg.uuid, uuid, 16);
	cfg.nr_vcpus = 2;
	a = create(&cfg);
	xc_dominfo_init(&info);
	get_info(a, &info);
	TEST_ASSERT(state_is_live(info.state), "state %s after create",
		    xc_domain_state_name(info.state));
	TEST_ASSERT(info.domid == xc_domain_id(a) && !strcmp(info.name, "alpha") &&
		    !strcmp(xc_domain_name(a), "alpha") && !memcmp(info.uuid, uuid, 16) &&
		    !memcmp(xc_domain_uuid(a), uuid, 16), "identity: %u %s", info.domid,
		    info.name);
	TEST_ASSERT(info.mem_bytes == 16 * MIB && info.max_mem_bytes == 16 * MIB &&
		    info.mem_target_bytes == 16 * MIB, "memory %" PRIu64 " max %" PRIu64,
		    info.mem_bytes, info.max_mem_bytes);
	TEST_ASSERT(info.nr_vcpus == 2 && info.exit_status == -1 && !info.has_balloon,
		    "%u vCPUs, exit status %d", info.nr_vcpus, info.exit_status);
	TEST_ASSERT(info.pid > 0 && info.pid != getpid() && !process_gone(info.pid),
		    "pid %d", (int)info.pid);
	for (unsigned int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)info.pid,
			 (int)info.vcpus[i].tid);
		TEST_ASSERT(info.vcpus[i].id == i && info.vcpus[i].tid > 0 &&
			    info.vcpus[i].tid != info.pid && !access(path, F_OK),
			    "vCPU %u: thread %d", i, (int)info.vcpus[i].tid);
	}
	TEST_ASSERT(info.vcpus[0].tid != info.vcpus[1].tid, "one thread for two vCPUs");
	record_value(info.domid, "cgroup", path, sizeof(path));
	have_cgroup = path[0] != '\0';
	if (!have_cgroup)
		printf("note: this host has no cpu cgroup controller: no cgroup checks\n");
	expect_running(info.domid, "after create");
	{
		uint64_t up = info.uptime_ns;

		get_info(a, &info);
		TEST_ASSERT(info.uptime_ns > up && info.cpu_time_ns > 0 &&
			    info.vcpus[0].cpu_time_ns > 0 &&
			    info.vcpus[0].cpu_time_ns <= info.cpu_time_ns,
			    "uptime %" PRIu64 " then %" PRIu64 ", CPU time %" PRIu64, up,
			    info.uptime_ns, info.cpu_time_ns);
	}
	xc_dominfo_dispose(&info);

	cfg = base_config("beta");
	b = create(&cfg);
	u = xc_domain_uuid(b);
	TEST_ASSERT((u[6] >> 4) == 4 && (u[8] & 0xc0) == 0x80, "generated UUID is not version 4");
	TEST_ASSERT(xc_domain_id(b) == xc_domain_id(a) + 1, "domids %u then %u",
		    xc_domain_id(a), xc_domain_id(b));

	n = xc_domain_list(xch, &ids);
	TEST_ASSERT(n == 2 && ids[0] == xc_domain_id(a) && ids[1] == xc_domain_id(b),
		    "list: %d domains", n);
	free(ids);
	XC_OK(xc_domain_lookup(xch, "beta", &domid));
	TEST_ASSERT(domid == xc_domain_id(b), "lookup by name: %u", domid);
	xc_uuid_format(uuid, text);
	XC_OK(xc_domain_lookup(xch, text, &domid));
	TEST_ASSERT(domid == xc_domain_id(a), "lookup by UUID: %u", domid);
	snprintf(text, sizeof(text), "%" PRIu32, xc_domain_id(b));
	XC_OK(xc_domain_lookup(xch, text, &domid));
	TEST_ASSERT(domid == xc_domain_id(b), "lookup by domid: %u", domid);
	XC_FAILS(xc_domain_lookup(xch, "gamma", &domid), -ESRCH, "'gamma'");
	XC_FAILS(xc_domain_lookup(xch, " 1", &domid), -ESRCH, "' 1'");
	check_lookup_precedence();
	printf("ok: create: running, getinfo (domid, name, UUID given and generated v4, memory, "
	       "vCPU threads, pid), list, lookup by domid, name and UUID\n");

	/* Names and UUIDs are unique. */
	cfg = base_config("alpha");
	XC_FAILS(xc_domain_create(xch, &cfg, &b), -EEXIST, "the name is in use");
	cfg = base_config("other");
	memcpy(cfg.uuid, uuid, 16);
	XC_FAILS(xc_domain_create(xch, &cfg, &b), -EEXIST, "the UUID is in use");
	TEST_ASSERT(registry_dirs() == 2, "a refused create left a registry entry");
	printf("ok: duplicate name and UUID: -EEXIST\n");

	destroy_and_check(a);
	expect_running(xc_domain_id(b), "the other domain destroyed");
	destroy_and_check(b);
	printf("ok: destroy of a running domain: VMM, record, cgroup gone\n");
}

/* A create that must fail; nothing of it may be left, in the registry or the cgroups. */
static void expect_refused(xc_build_config *cfg, int err, const char *words)
{
	static const uint8_t uuid[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47, 0x77,
					  0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	unsigned int before = registry_dirs();
	xc_domain *dom = NULL;

	memcpy(cfg->uuid, uuid, 16);
	XC_FAILS(xc_domain_create(xch, cfg, &dom), err, words);
	TEST_ASSERT(!dom, "a failed create returned a handle");
	TEST_ASSERT(registry_dirs() == before, "a failed create left a registry entry");
	TEST_ASSERT(!cgroup_exists_for(uuid), "a failed create left its cgroup");
	printf("ok: refused (%s): %s\n", strerror(-err), xc_last_error(xch));
}

static void check_bad_configs(void)
{
	static char long_name[XC_NAME_MAX + 2], bad_kernel[] = "/tmp/test-libxc-kernel.XXXXXX";
	xc_disk_config disk = { .path = "/nonexistent/disk.img" };
	xc_build_config cfg;
	int fd;

	memset(long_name, 'n', XC_NAME_MAX + 1);
	cfg = base_config("");
	expect_refused(&cfg, -EINVAL, "name ''");
	cfg = base_config(long_name);
	expect_refused(&cfg, -EINVAL, "1-64 printable bytes");
	cfg = base_config("a/b");
	expect_refused(&cfg, -EINVAL, "no '/'");
	cfg = base_config("two\nlines\033[2J");
	expect_refused(&cfg, -EINVAL, "name 'two\\x0alines\\x1b[2J'");
	cfg = base_config(".hidden");
	expect_refused(&cfg, -EINVAL, "not starting with '.'");
	cfg = base_config(NULL);
	expect_refused(&cfg, -EINVAL, "name ''");
	cfg = base_config("nokernel");
	cfg.kernel = NULL;
	expect_refused(&cfg, -EINVAL, "no kernel");
	cfg = base_config("tiny");
	cfg.mem_bytes = 4096;
	expect_refused(&cfg, -EINVAL, "at least 2 MiB");
	cfg = base_config("toomuch");
	cfg.mem_bytes = 32 * MIB;
	cfg.max_mem_bytes = 16 * MIB;
	expect_refused(&cfg, -EINVAL, "more than max memory");
	cfg = base_config("wide");
	cfg.nr_vcpus = 300;
	expect_refused(&cfg, -EINVAL, "300 vCPUs");
	cfg = base_config("serial");
	disk = (xc_disk_config){ .path = guest_elf, .readonly = true,
				 .serial = "0123456789abcdefghijk" };
	cfg.disks = &disk;
	cfg.nr_disks = 1;
	expect_refused(&cfg, -EINVAL, "serial '0123456789abcdefghijk'");
	disk.serial = "tab\there";
	expect_refused(&cfg, -EINVAL, "serial 'tab\\x09here'");
	cfg = base_config("weight");
	cfg.weight = 70000;
	expect_refused(&cfg, -EINVAL, "weight 70000");
	cfg = base_config("nokernel");
	cfg.kernel = "/nonexistent/vmlinuz";
	expect_refused(&cfg, -ENOENT, "/nonexistent/vmlinuz");
	cfg = base_config("novmm");
	cfg.vmm_path = "/nonexistent/domus-vmm";
	expect_refused(&cfg, -ENOENT, "cannot run /nonexistent/domus-vmm");
	cfg = base_config("nodisk");
	disk = (xc_disk_config){ .path = "/nonexistent/disk.img" };
	cfg.disks = &disk;
	cfg.nr_disks = 1;
	expect_refused(&cfg, -ENOENT, "/nonexistent/disk.img");

	/* The VMM starts and refuses the kernel: its own words come back. */
	fd = mkstemp(bad_kernel);
	TEST_ASSERT(fd >= 0 && write(fd, "#!/bin/sh\necho not a kernel\n", 28) == 28, "%m");
	close(fd);
	cfg = base_config("badkernel");
	cfg.kernel = bad_kernel;
	cfg.vmm_args = (const char *const[]){ "--test-device", "--allow-no-hwvirt", NULL };
	expect_refused(&cfg, -EIO, "the VMM failed to start: ");
	TEST_ASSERT(strstr(xc_last_error(xch), "not a Linux bzImage") ||
		    strstr(xc_last_error(xch), "ELF"), "not the VMM's words: %s",
		    xc_last_error(xch));
	unlink(bad_kernel);
}

static void check_paused_start_and_pause(void)
{
	xc_build_config cfg = base_config("sleeper");
	xc_dominfo info;
	xc_domain *dom;
	uint32_t domid;

	cfg.start_paused = true;
	dom = create(&cfg);
	domid = xc_domain_id(dom);
	XC_OK(xc_domain_subscribe(xch, dom));
	xc_dominfo_init(&info);
	get_info(dom, &info);
	TEST_ASSERT(info.state == XC_DOMSTATE_PAUSED && !info.vcpus[0].running,
		    "state %s with start_paused", xc_domain_state_name(info.state));
	sleep_ms(300);
	TEST_ASSERT(count_of(domid) == 0, "the guest counted to %u while paused",
		    count_of(domid));
	set_paused(dom, false);
	expect_running(domid, "after unpause");
	get_info(dom, &info);
	TEST_ASSERT(state_is_live(info.state), "state %s", xc_domain_state_name(info.state));

	set_paused(dom, true);
	get_info(dom, &info);
	TEST_ASSERT(info.state == XC_DOMSTATE_PAUSED, "state %s after pause",
		    xc_domain_state_name(info.state));
	expect_stopped(domid, "paused");
	XC_OK(xc_domain_pause(xch, dom));
	set_paused(dom, false);
	expect_running(domid, "unpaused");
	xc_dominfo_dispose(&info);
	printf("ok: start_paused: no progress until unpause; pause/unpause with events\n");

	/* Shutdown: the power button, the guest powers off. */
	XC_OK(xc_domain_shutdown(xch, dom));
	expect_event(dom, XC_DOMSTATE_SHUTDOWN, XC_REASON_POWEROFF, 0);
	{
		xc_domain_event ev;

		XC_FAILS(xc_domain_wait_event(xch, dom, 5000, &ev), -ECONNRESET, "");
	}
	xc_dominfo_init(&info);
	get_info(dom, &info);
	TEST_ASSERT(info.state == XC_DOMSTATE_SHUTDOWN && info.reason == XC_REASON_POWEROFF &&
		    info.exit_status == 0, "after poweroff: %s: %s, exit status %d",
		    xc_domain_state_name(info.state), xc_domain_reason_name(info.reason),
		    info.exit_status);
	TEST_ASSERT(process_gone(info.pid), "the VMM still runs after poweroff");
	xc_dominfo_dispose(&info);
	TEST_ASSERT(!domain_file_exists(domid, "control"), "the control socket stays");
	TEST_ASSERT(!cgroup_exists_for(xc_domain_uuid(dom)), "the cgroup stays");
	TEST_ASSERT(domain_file_exists(domid, "domain"), "the record went before destroy");
	XC_FAILS(xc_domain_pause(xch, dom), -ENOTCONN, "pause");
	{
		cpu_set_t set;

		XC_FAILS(xc_vcpu_getaffinity(xch, dom, 0, &set), -ESRCH, "not running");
	}
	/* A fresh handle sees the same. */
	{
		xc_domain *again;

		XC_OK(xc_domain_open(xch, domid, &again));
		xc_dominfo_init(&info);
		get_info(again, &info);
		TEST_ASSERT(info.state == XC_DOMSTATE_SHUTDOWN && info.exit_status == 0,
			    "reopened: %s", xc_domain_state_name(info.state));
		xc_dominfo_dispose(&info);
		xc_domain_close(xch, again);
	}
	XC_OK(xc_domain_destroy(xch, dom));
	TEST_ASSERT(!domain_file_exists(domid, NULL), "destroy left the registry entry");
	xc_domain_close(xch, dom);
	printf("ok: shutdown via ACPI: shutdown/poweroff, exit status 0, socket and cgroup "
	       "removed; destroy removes the record\n");
}

static void check_affinity(xc_domain *dom, unsigned int vcpu, int cpu)
{
	cpu_set_t got, direct;
	xc_dominfo info;

	XC_OK(xc_vcpu_getaffinity(xch, dom, vcpu, &got));
	xc_dominfo_init(&info);
	get_info(dom, &info);
	TEST_ASSERT(!sched_getaffinity(info.vcpus[vcpu].tid, sizeof(direct), &direct),
		    "sched_getaffinity(%d): %m", (int)info.vcpus[vcpu].tid);
	TEST_ASSERT(CPU_COUNT(&got) == 1 && CPU_ISSET(cpu, &got) && CPU_EQUAL(&got, &direct),
		    "vCPU %u: %d CPUs in libxc's set, %d on the thread", vcpu, CPU_COUNT(&got),
		    CPU_COUNT(&direct));
	xc_dominfo_dispose(&info);
}

static void check_reset_reboot_affinity(void)
{
	xc_build_config cfg = base_config("bouncer");
	cpu_set_t set, all;
	xc_dominfo before, after;
	struct progress pr;
	xc_domain *dom, *watcher;
	uint32_t domid;
	int last_cpu;

	cfg.nr_vcpus = 2;
	dom = create(&cfg);
	domid = xc_domain_id(dom);
	TEST_ASSERT(!sched_getaffinity(0, sizeof(all), &all), "%m");
	for (last_cpu = CPU_SETSIZE - 1; !CPU_ISSET(last_cpu, &all); last_cpu--)
		;
	CPU_ZERO(&set);
	CPU_SET(last_cpu, &set);
	XC_OK(xc_vcpu_setaffinity(xch, dom, 1, &set));
	check_affinity(dom, 1, last_cpu);
	XC_FAILS(xc_vcpu_setaffinity(xch, dom, 2, &set), -EINVAL, "vCPU 2");
	XC_FAILS(xc_vcpu_getaffinity(xch, dom, 7, &set), -EINVAL, "vCPU 7");
	CPU_ZERO(&set);
	XC_FAILS(xc_vcpu_setaffinity(xch, dom, 0, &set), -EINVAL, "empty");
	printf("ok: vCPU affinity set and read back, also with sched_getaffinity(); bad vCPU "
	       "and empty set: -EINVAL\n");

	XC_OK(xc_domain_subscribe(xch, dom));
	XC_OK(xc_domain_open(xch, domid, &watcher));
	XC_OK(xc_domain_subscribe(xch, watcher));
	expect_running(domid, "before reset");
	xc_dominfo_init(&before);
	xc_dominfo_init(&after);
	get_info(dom, &before);
	pr = read_progress(domid, 0);
	XC_OK(xc_domain_reset(xch, dom));
	expect_event(dom, XC_DOMSTATE_RUNNING, XC_REASON_REBOOT, -1);
	/*
	 * An event loop on another handle gets it too. That handle subscribes to the new
	 * machine again when it next reads: a pause by someone else before that reaches it
	 * as where the domain stands (paused), not lost.
	 */
	set_paused(dom, true);
	poll_event(watcher, XC_DOMSTATE_RUNNING, XC_REASON_REBOOT);
	poll_event(watcher, XC_DOMSTATE_PAUSED, XC_REASON_PAUSED);
	set_paused(dom, false);
	poll_event(watcher, XC_DOMSTATE_RUNNING, XC_REASON_UNPAUSED);
	get_info(dom, &after);
	TEST_ASSERT(after.domid == domid && after.pid == before.pid && state_is_live(after.state),
		    "after reset: domid %u pid %d state %s (before: pid %d)", after.domid,
		    (int)after.pid, xc_domain_state_name(after.state), (int)before.pid);
	check_affinity(dom, 1, last_cpu);
	TEST_ASSERT(count_restarts(domid, pr.size, 5000),
		    "the count did not start again at 1 after reset");
	expect_running(domid, "after reset");
	/* The subscription carries over: */
	set_paused(dom, true);
	set_paused(dom, false);
	poll_event(watcher, XC_DOMSTATE_PAUSED, XC_REASON_PAUSED);
	poll_event(watcher, XC_DOMSTATE_RUNNING, XC_REASON_UNPAUSED);
	xc_domain_close(xch, watcher);
	printf("ok: reset: same domid and pid, event running/reboot, count starts again, "
	       "affinity kept, events go on, also in an event loop on another handle\n");

	expect_running(domid, "before reboot");
	pr = read_progress(domid, 0);
	XC_OK(xc_domain_reboot(xch, dom));
	expect_event(dom, XC_DOMSTATE_RUNNING, XC_REASON_REBOOT, -1);
	get_info(dom, &after);
	TEST_ASSERT(after.domid == domid && after.pid == before.pid && state_is_live(after.state),
		    "after reboot: pid %d state %s", (int)after.pid,
		    xc_domain_state_name(after.state));
	TEST_ASSERT(count_restarts(domid, pr.size, 5000),
		    "the count did not start again at 1 after reboot");
	check_affinity(dom, 1, last_cpu);
	set_paused(dom, true);
	xc_dominfo_dispose(&before);
	xc_dominfo_dispose(&after);
	destroy_and_check(dom);
	printf("ok: reboot (ACPI): same domid and pid, event running/reboot, affinity kept; "
	       "destroy of a paused domain\n");
}

/* RAM, max memory and balloon target as getinfo reports them; a balloon is there. */
static void expect_memory(xc_domain *dom, uint64_t ram, uint64_t max, uint64_t target)
{
	xc_dominfo info;

	xc_dominfo_init(&info);
	get_info(dom, &info);
	TEST_ASSERT(info.has_balloon && info.mem_bytes == ram && info.max_mem_bytes == max &&
		    info.mem_target_bytes == target, "balloon %u RAM %" PRIu64 " max %" PRIu64
		    " target %" PRIu64 ", want RAM %" PRIu64 " max %" PRIu64 " target %" PRIu64,
		    info.has_balloon, info.mem_bytes, info.max_mem_bytes, info.mem_target_bytes,
		    ram, max, target);
	xc_dominfo_dispose(&info);
}

static void check_memory(void)
{
	xc_build_config cfg = base_config("balloon");
	xc_domain *dom, *plain;

	cfg.balloon = true;
	cfg.mem_bytes = 16 * MIB;
	cfg.max_mem_bytes = 32 * MIB;
	dom = create(&cfg);
	expect_memory(dom, 32 * MIB, 32 * MIB, 16 * MIB);
	XC_OK(xc_domain_set_memory_target(xch, dom, 24 * MIB));
	expect_memory(dom, 32 * MIB, 32 * MIB, 24 * MIB);
	XC_FAILS(xc_domain_set_memory_target(xch, dom, 40 * MIB), -ERANGE, "40 MiB");
	XC_FAILS(xc_domain_set_max_memory(xch, dom, 48 * MIB), -ERANGE, "48 MiB");
	XC_FAILS(xc_domain_set_max_memory(xch, dom, 1 * MIB), -ERANGE, "1 MiB");
	XC_OK(xc_domain_set_max_memory(xch, dom, 20 * MIB));
	expect_memory(dom, 32 * MIB, 20 * MIB, 20 * MIB);	/* the target came down too */
	XC_FAILS(xc_domain_set_memory_target(xch, dom, 24 * MIB), -ERANGE, "max memory");
	XC_OK(xc_domain_set_memory_target(xch, dom, 8 * MIB));
	expect_memory(dom, 32 * MIB, 20 * MIB, 8 * MIB);

	/* Less memory than RAM: the balloon comes without asking. */
	cfg = base_config("implied");
	cfg.mem_bytes = 8 * MIB;
	cfg.max_mem_bytes = 16 * MIB;
	plain = create(&cfg);
	expect_memory(plain, 16 * MIB, 16 * MIB, 8 * MIB);
	destroy_and_check(plain);

	cfg = base_config("noballoon");
	plain = create(&cfg);
	XC_FAILS(xc_domain_set_memory_target(xch, plain, 8 * MIB), -EOPNOTSUPP, "");
	destroy_and_check(plain);
	destroy_and_check(dom);
	printf("ok: memory target and max memory with a balloon; -ERANGE above them; "
	       "-EOPNOTSUPP without a balloon\n");
}

static long cgroup_number(const char *dir, const char *leaf)
{
	char path[512], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, leaf);
	f = fopen(path, "re");
	TEST_ASSERT(f && fgets(buf, sizeof(buf), f), "cannot read %s: %m", path);
	fclose(f);
	return strtol(buf, NULL, 10);
}

static bool cgroup_has(const char *dir, pid_t pid)
{
	char path[512], line[64];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	TEST_ASSERT(f, "cannot read %s: %m", path);
	while (!found && fgets(line, sizeof(line), f))
		found = strtol(line, NULL, 10) == pid;
	fclose(f);
	return found;
}

/* cgroup v1 (cpu.shares, CFS quota) or v2 (cpu.weight, cpu.max): weight and cap as set. */
static void expect_cgroup_credit(const char *cg, unsigned int weight, unsigned int cap)
{
	char path[512], buf[64] = "", want[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cpu.max", cg);
	if (access(path, F_OK)) {
		TEST_ASSERT(cgroup_number(cg, "cpu.shares") == weight * 4, "cpu.shares %ld",
			    cgroup_number(cg, "cpu.shares"));
		TEST_ASSERT(cgroup_number(cg, "cpu.cfs_quota_us") ==
			    (cap ? (long)cap * 1000 : -1) &&
			    cgroup_number(cg, "cpu.cfs_period_us") == 100000,
			    "cpu.cfs_quota_us %ld", cgroup_number(cg, "cpu.cfs_quota_us"));
		return;
	}
	TEST_ASSERT(cgroup_number(cg, "cpu.weight") == (weight * 100 + 128) / 256,
		    "cpu.weight %ld", cgroup_number(cg, "cpu.weight"));
	f = fopen(path, "re");
	TEST_ASSERT(f && fgets(buf, sizeof(buf), f), "%s: %m", path);
	fclose(f);
	snprintf(want, sizeof(want), cap ? "%u 100000\n" : "max 100000\n", cap * 1000);
	TEST_ASSERT(!strcmp(buf, want), "cpu.max '%s', want '%s'", buf, want);
}

static void check_sched_credit(void)
{
	xc_build_config cfg = base_config("credit");
	xc_sched_credit sc;
	xc_dominfo info;
	xc_domain *dom;
	char cg[512], id[37];

	cfg.weight = 1000;
	if (!have_cgroup) {
		XC_FAILS(xc_domain_create(xch, &cfg, &dom), -EOPNOTSUPP, "cpu cgroup");
		cfg.weight = 0;
		dom = create(&cfg);
		XC_FAILS(xc_sched_credit_get(xch, dom, &sc), -EOPNOTSUPP, "cpu cgroup");
		destroy_and_check(dom);
		printf("skip: sched credit needs a cpu cgroup controller (-EOPNOTSUPP checked)\n");
		return;
	}
	dom = create(&cfg);
	record_value(xc_domain_id(dom), "cgroup", cg, sizeof(cg));
	xc_uuid_format(xc_domain_uuid(dom), id);
	TEST_ASSERT(cg[0] && strstr(cg, id), "cgroup '%s' is not the domain's", cg);
	xc_dominfo_init(&info);
	get_info(dom, &info);
	TEST_ASSERT(cgroup_has(cg, info.pid), "VMM %d is not in %s", (int)info.pid, cg);
	xc_dominfo_dispose(&info);
	expect_cgroup_credit(cg, 1000, 0);
	XC_OK(xc_sched_credit_get(xch, dom, &sc));
	TEST_ASSERT(sc.weight == 1000 && sc.cap == 0, "created with weight 1000: %u/%u",
		    sc.weight, sc.cap);
	XC_OK(xc_sched_credit_set(xch, dom, &(xc_sched_credit){ .weight = 512, .cap = 50 }));
	expect_cgroup_credit(cg, 512, 50);
	XC_OK(xc_sched_credit_get(xch, dom, &sc));
	TEST_ASSERT(sc.weight == 512 && sc.cap == 50, "read back %u/%u", sc.weight, sc.cap);
	XC_OK(xc_sched_credit_set(xch, dom, &(xc_sched_credit){ .weight = 256, .cap = 150 }));
	expect_cgroup_credit(cg, 256, 150);
	XC_OK(xc_sched_credit_set(xch, dom, &(xc_sched_credit){ .weight = 65535, .cap = 0 }));
	expect_cgroup_credit(cg, 65535, 0);
	XC_FAILS(xc_sched_credit_set(xch, dom, &(xc_sched_credit){ .weight = 0 }), -EINVAL,
		 "weight 0");
	XC_FAILS(xc_sched_credit_set(xch, dom, &(xc_sched_credit){ .weight = 65536 }), -EINVAL,
		 "weight 65536");
	XC_FAILS(xc_sched_credit_set(xch, dom,
				     &(xc_sched_credit){ .weight = 256, .cap = 100000000 }),
		 -EINVAL, "cap");
	XC_OK(xc_sched_credit_get(xch, dom, &sc));
	TEST_ASSERT(sc.weight == 65535 && sc.cap == 0, "changed by refused calls: %u/%u",
		    sc.weight, sc.cap);
	expect_cgroup_credit(cg, 65535, 0);
	destroy_and_check(dom);
	TEST_ASSERT(access(cg, F_OK), "the cgroup %s stays after destroy", cg);
	printf("ok: sched credit: weight and cap in the cgroup (%s) and read back; "
	       "out of range: -EINVAL\n", cg);
}

static void check_stats(void)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	char img[] = "/tmp/test-libxc-disk.XXXXXX", tap[IFNAMSIZ];
	xc_build_config cfg = base_config("stats");
	xc_disk_config disks[2] = { { .serial = "xc-test-1" }, { .readonly = true } };
	xc_nic_config nic = {};
	xc_domstats st = {};
	xc_domain *dom;
	int fd;

	fd = mkstemp(img);
	TEST_ASSERT(fd >= 0 && !ftruncate(fd, 1 << 20), "disk image: %m");
	close(fd);
	disks[0].path = img;
	disks[1].path = guest_elf;
	memcpy(nic.mac, mac, 6);
	cfg.disks = disks;
	cfg.nr_disks = 2;
	cfg.nics = &nic;
	cfg.nr_nics = 1;
	dom = create(&cfg);
	snprintf(tap, sizeof(tap), "vif%" PRIu32 ".0", xc_domain_id(dom));
	TEST_ASSERT(if_nametoindex(tap), "no tap %s in the test's network namespace", tap);
	XC_OK(xc_domain_get_stats(xch, dom, &st));
	TEST_ASSERT(st.nr_disks == 2 && st.nr_nics == 1, "%u disks, %u NICs", st.nr_disks,
		    st.nr_nics);
	TEST_ASSERT(!strcmp(st.nics[0].ifname, tap) && !memcmp(st.nics[0].mac, mac, 6),
		    "NIC '%s'", st.nics[0].ifname);
	/* The tiny guest drives neither device: every counter is there, and zero. */
	for (unsigned int i = 0; i < 2; i++)
		TEST_ASSERT(!st.disks[i].rd_reqs && !st.disks[i].wr_reqs && !st.disks[i].errors &&
			    !st.disks[i].flush_reqs, "disk %u counters", i);
	TEST_ASSERT(!st.nics[0].tx_packets && !st.nics[0].tx_errors, "NIC counters");
	TEST_ASSERT(!st.balloon_valid, "balloon statistics without a balloon");
	xc_domstats_dispose(&st);
	TEST_ASSERT(!st.disks && !st.nr_disks, "dispose");
	/* Another domain cannot take that tap; an interface name must be one. */
	{
		xc_build_config other = base_config("tapthief");
		xc_nic_config taken = { .tap = tap };

		other.nics = &taken;
		other.nr_nics = 1;
		expect_refused(&other, -EBUSY, tap);
		taken.tap = "bad/name";
		expect_refused(&other, -EINVAL, "bad interface name");
		/* The second NIC fails: the tap made for the first goes too. */
		xc_nic_config two[2] = { {}, { .bridge = "nosuchbr0" } };

		other.nics = two;
		other.nr_nics = 2;
		expect_refused(&other, -ENODEV, "nosuchbr0");
		snprintf(tap, sizeof(tap), "vif%" PRIu32 ".0", xc_domain_id(dom) + 1);
		TEST_ASSERT(!if_nametoindex(tap), "a failed create left the tap %s", tap);
		snprintf(tap, sizeof(tap), "vif%" PRIu32 ".0", xc_domain_id(dom));
	}
	destroy_and_check(dom);
	TEST_ASSERT(!if_nametoindex(tap), "the tap %s stays after destroy", tap);
	unlink(img);
	printf("ok: stats: 2 disks and a NIC (%s) with their counters\n", tap);
}

/* Run domus-xc ARGS...; Return: its exit status, its stdout (and stderr) in @out. */
static int run_xc(char *out, size_t len, ...)
{
	const char *argv[16] = { xc_path };
	unsigned int n = 1;
	int pipefd[2], status;
	size_t got = 0;
	ssize_t r;
	va_list ap;
	pid_t pid;

	va_start(ap, len);
	while (n < 15 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	TEST_ASSERT(!pipe2(pipefd, O_CLOEXEC), "pipe: %m");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork: %m");
	if (!pid) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execv(xc_path, (char **)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (got < len - 1 && (r = read(pipefd[0], out + got, len - 1 - got)) > 0)
		got += r;
	out[got] = '\0';
	close(pipefd[0]);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid && WIFEXITED(status), "domus-xc died");
	return WEXITSTATUS(status);
}

static void check_fresh_process(void)
{
	xc_build_config cfg = base_config("survivor");
	char out[4096], want[64];
	xc_dominfo info;
	xc_domain *dom;
	uint32_t domid;
	pid_t pid;

	dom = create(&cfg);
	domid = xc_domain_id(dom);
	pid = vmm_pid(dom);
	xc_domain_close(xch, dom);
	xc_interface_close(xch);
	xch = NULL;

	TEST_ASSERT(run_xc(out, sizeof(out), "list", NULL) == 0 && strstr(out, "survivor"),
		    "domus-xc list:\n%s", out);
	snprintf(want, sizeof(want), "pid       %d\n", (int)pid);
	TEST_ASSERT(run_xc(out, sizeof(out), "info", "survivor", NULL) == 0 &&
		    strstr(out, want) && (strstr(out, "state     running") ||
					  strstr(out, "state     blocked")),
		    "domus-xc info:\n%s", out);
	TEST_ASSERT(run_xc(out, sizeof(out), "pause", "survivor", NULL) == 0, "pause: %s", out);
	expect_stopped(domid, "paused by domus-xc");
	TEST_ASSERT(run_xc(out, sizeof(out), "info", "survivor", NULL) == 0 &&
		    strstr(out, "state     paused"), "domus-xc info:\n%s", out);
	TEST_ASSERT(run_xc(out, sizeof(out), "unpause", "survivor", NULL) == 0, "%s", out);
	expect_running(domid, "unpaused by domus-xc");

	TEST_ASSERT(!xc_interface_open(0, &xch), "xc_interface_open");
	XC_OK(xc_domain_lookup(xch, "survivor", &domid));
	XC_OK(xc_domain_open(xch, domid, &dom));
	xc_dominfo_init(&info);
	get_info(dom, &info);
	TEST_ASSERT(info.pid == pid && state_is_live(info.state), "reopened: pid %d state %s",
		    (int)info.pid, xc_domain_state_name(info.state));
	xc_dominfo_dispose(&info);
	TEST_ASSERT(run_xc(out, sizeof(out), "destroy", "survivor", NULL) == 0, "%s", out);
	TEST_ASSERT(process_gone(pid) && !domain_file_exists(domid, NULL),
		    "domus-xc destroy left something");
	XC_FAILS(xc_domain_getinfo(xch, dom, &info), -ESRCH, "destroyed");
	xc_domain_close(xch, dom);
	printf("ok: after the creator closed its handles, other processes find and control "
	       "the domain (domus-xc list, info, pause, unpause, destroy)\n");
}

static void check_sigkill(void)
{
	xc_build_config cfg = base_config("victim");
	xc_domain *dom, *watcher;
	xc_domain_event ev;
	char cg[512];
	xc_dominfo info;
	uint32_t domid;
	int64_t end;
	pid_t pid;

	dom = create(&cfg);
	domid = xc_domain_id(dom);
	record_value(domid, "cgroup", cg, sizeof(cg));
	pid = vmm_pid(dom);
	/* A watcher in an event loop: poll() its event fd, then take what came. */
	XC_OK(xc_domain_open(xch, domid, &watcher));
	XC_OK(xc_domain_subscribe(xch, watcher));
	XC_OK(xc_domain_pause(xch, dom));
	poll_event(watcher, XC_DOMSTATE_PAUSED, XC_REASON_PAUSED);
	XC_OK(xc_domain_unpause(xch, dom));
	poll_event(watcher, XC_DOMSTATE_RUNNING, XC_REASON_UNPAUSED);
	TEST_ASSERT(kill(pid, SIGKILL) == 0, "kill: %m");
	/* The VMM had no last word: libxc says it died. */
	poll_event(watcher, XC_DOMSTATE_CRASHED, XC_REASON_VMM_DIED);
	XC_FAILS(xc_domain_wait_event(xch, watcher, 0, &ev), -ECONNRESET, "");
	XC_FAILS(xc_domain_event_fd(xch, watcher), -ENOTCONN, "gone");
	xc_domain_close(xch, watcher);
	for (end = now_ms() + 5000; !process_gone(pid) && now_ms() < end;)
		sleep_ms(5);
	TEST_ASSERT(process_gone(pid), "SIGKILL did not end the VMM");
	xc_dominfo_init(&info);
	get_info(dom, &info);
	TEST_ASSERT(info.state == XC_DOMSTATE_CRASHED && info.reason == XC_REASON_VMM_DIED &&
		    info.exit_status == -1, "after SIGKILL: %s: %s (exit %d)",
		    xc_domain_state_name(info.state), xc_domain_reason_name(info.reason),
		    info.exit_status);
	TEST_ASSERT(!strcmp(info.name, "victim") && info.domid == domid, "identity lost");
	xc_dominfo_dispose(&info);
	TEST_ASSERT(access(cg, F_OK) && errno == ENOENT, "the cgroup %s stays", cg);
	TEST_ASSERT(!domain_file_exists(domid, "control"), "the control socket stays");
	TEST_ASSERT(domain_file_exists(domid, "domain"), "the record went before destroy");
	XC_FAILS(xc_domain_pause(xch, dom), -ENOTCONN, "pause");
	XC_OK(xc_domain_destroy(xch, dom));
	TEST_ASSERT(!domain_file_exists(domid, NULL), "destroy left the registry entry");
	xc_domain_close(xch, dom);
	printf("ok: VMM killed: an event loop gets crashed (vmm-died); getinfo says so; cgroup "
	       "and socket removed, destroy removes the rest\n");
}

static void check_two_domains(void)
{
	char img[] = "/tmp/test-libxc-disk.XXXXXX", cga[512], cgb[512];
	xc_build_config cfg = base_config("left");
	xc_disk_config disk = {};
	xc_dominfo ia, ib;
	xc_domain *a, *b;
	uint32_t da, db;
	int fd;

	fd = mkstemp(img);
	TEST_ASSERT(fd >= 0 && !ftruncate(fd, 1 << 20), "disk image: %m");
	close(fd);
	disk.path = img;
	cfg.disks = &disk;
	cfg.nr_disks = 1;
	a = create(&cfg);
	cfg.name = "right";
	expect_refused(&cfg, -EBUSY, "in use read-write");
	TEST_ASSERT(strstr(xc_last_error(xch), img), "the error does not name the image: %s",
		    xc_last_error(xch));
	disk.readonly = true;
	expect_refused(&cfg, -EBUSY, img);
	disk.readonly = false;
	cfg.nr_disks = 0;
	b = create(&cfg);
	da = xc_domain_id(a);
	db = xc_domain_id(b);
	xc_dominfo_init(&ia);
	xc_dominfo_init(&ib);
	get_info(a, &ia);
	get_info(b, &ib);
	record_value(da, "cgroup", cga, sizeof(cga));
	record_value(db, "cgroup", cgb, sizeof(cgb));
	TEST_ASSERT(ia.pid != ib.pid && (!have_cgroup || (strcmp(cga, cgb) &&
		    cgroup_has(cga, ia.pid) && cgroup_has(cgb, ib.pid) && !cgroup_has(cga, ib.pid))),
		    "not separate: pids %d %d, cgroups %s %s", (int)ia.pid, (int)ib.pid, cga, cgb);
	XC_OK(xc_domain_pause(xch, a));
	expect_stopped(da, "paused");
	expect_running(db, "the other one paused");
	XC_OK(xc_domain_unpause(xch, a));
	expect_running(da, "unpaused");
	destroy_and_check(a);
	expect_running(db, "the other one destroyed");
	get_info(b, &ib);
	TEST_ASSERT(state_is_live(ib.state), "state %s", xc_domain_state_name(ib.state));
	xc_dominfo_dispose(&ia);
	xc_dominfo_dispose(&ib);
	destroy_and_check(b);
	unlink(img);
	printf("ok: two domains: separate pids and cgroups, one paused or destroyed leaves the "
	       "other running; one image is not opened read-write by both\n");
}

/* Do all of its user and group ids (real, effective, saved, fs) say so, with no groups? */
static bool runs_as(pid_t pid, uid_t uid, gid_t gid)
{
	char path[64], line[256], want_uid[64], want_gid[64];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	snprintf(want_uid, sizeof(want_uid), "Uid:\t%u\t%u\t%u\t%u\n", uid, uid, uid, uid);
	snprintf(want_gid, sizeof(want_gid), "Gid:\t%u\t%u\t%u\t%u\n", gid, gid, gid, gid);
	f = fopen(path, "re");
	TEST_ASSERT(f, "%s: %m", path);
	while (fgets(line, sizeof(line), f))
		found += !strcmp(line, want_uid) + !strcmp(line, want_gid) +
			 !strncmp(line, "Groups:\t", 8) * !line[8 + strspn(line + 8, " \n")];
	fclose(f);
	return found == 3;
}

static void check_unprivileged(void)
{
	xc_build_config cfg = base_config("nobody");
	struct passwd *pw = getpwnam("nobody");
	struct group *gr = getgrnam("nogroup");
	char path[64], link[256];
	bool has_kvm = false;
	size_t size;
	xc_dominfo info;
	xc_domain *dom;
	int status;
	pid_t child;

	if (!pw || !gr) {
		printf("skip: no user nobody or group nogroup\n");
		return;
	}
	cfg.uid = pw->pw_uid;
	cfg.gid = gr->gr_gid;
	dom = create(&cfg);
	expect_running(xc_domain_id(dom), "unprivileged");
	xc_dominfo_init(&info);
	get_info(dom, &info);
	TEST_ASSERT(runs_as(info.pid, pw->pw_uid, gr->gr_gid), "the VMM does not run as %u:%u",
		    pw->pw_uid, gr->gr_gid);
	for (int fd = 0; fd < 64 && !has_kvm; fd++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)info.pid, fd);
		n = readlink(path, link, sizeof(link) - 1);
		has_kvm = n > 0 && (link[n] = '\0', !strcmp(link, "/dev/kvm"));
	}
	TEST_ASSERT(has_kvm, "the VMM holds no /dev/kvm descriptor");
	xc_dominfo_dispose(&info);
	/* The same user could not have opened it. */
	child = fork();
	TEST_ASSERT(child >= 0, "fork: %m");
	if (!child) {
		if (setgroups(0, NULL) || setgid(gr->gr_gid) || setuid(pw->pw_uid))
			_exit(2);
		_exit(open("/dev/kvm", O_RDWR) < 0 && errno == EACCES ? 0 : 1);
	}
	TEST_ASSERT(waitpid(child, &status, 0) == child && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0, "user %s can open /dev/kvm itself (%d)",
		    pw->pw_name, WEXITSTATUS(status));
	/* A reset re-executes the VMM, still unprivileged, with the same descriptors. */
	XC_OK(xc_domain_subscribe(xch, dom));
	size = read_progress(xc_domain_id(dom), 0).size;
	XC_OK(xc_domain_reset(xch, dom));
	expect_event(dom, XC_DOMSTATE_RUNNING, XC_REASON_REBOOT, -1);
	TEST_ASSERT(count_restarts(xc_domain_id(dom), size, 5000), "no new count after reset");
	TEST_ASSERT(runs_as(vmm_pid(dom), pw->pw_uid, gr->gr_gid), "not %u:%u after reset",
		    pw->pw_uid, gr->gr_gid);
	/* It ends through what it was given too: the exit record; libxc removes the rest. */
	XC_OK(xc_domain_shutdown(xch, dom));
	expect_event(dom, XC_DOMSTATE_SHUTDOWN, XC_REASON_POWEROFF, 0);
	xc_dominfo_init(&info);
	get_info(dom, &info);
	TEST_ASSERT(info.state == XC_DOMSTATE_SHUTDOWN && info.exit_status == 0,
		    "unprivileged VMM after poweroff: %s, exit %d", xc_domain_state_name(info.state),
		    info.exit_status);
	xc_dominfo_dispose(&info);
	TEST_ASSERT(!domain_file_exists(xc_domain_id(dom), "control"), "the socket stays");
	TEST_ASSERT(!cgroup_exists_for(xc_domain_uuid(dom)), "the cgroup stays");
	destroy_and_check(dom);
	printf("ok: the VMM runs as %s with the /dev/kvm descriptor it was given, and could "
	       "not open it itself; it powers off cleanly\n", pw->pw_name);
}

/* The calls that need no domain: handles, sizes, UUIDs, names. */
static void check_helpers(void)
{
	static const struct {
		const char *text;
		int ret;
		uint64_t bytes;
	} sizes[] = {
		{ "512", 0, 512 * MIB }, { "512M", 0, 512 * MIB }, { "2G", 0, 2048 * MIB },
		{ "65536K", 0, 64 * MIB }, { "1GiB", 0, 1024 * MIB }, { "3MB", 0, 3 * MIB },
		{ "0", 0, 0 }, { "", -EINVAL, 0 }, { "12Q", -EINVAL, 0 }, { "-1M", -EINVAL, 0 },
		{ "1.5G", -EINVAL, 0 }, { "1Gx", -EINVAL, 0 }, { "99999999999G", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
	};
	static const char *const bad_uuids[] = {
		"", "6b1d2f10-0001-4000-8000-deadbeef000", "6b1d2f10-0001-4000-8000-deadbeef00011",
		"6b1d2f10x0001-4000-8000-deadbeef0001", "6b1d2f10-0001-4000-8000-deadbeef000g",
	};
	uint8_t uuid[16];
	char text[37];
	xc_interface *x;
	xc_domain *dom;

	TEST_ASSERT(xc_interface_open(1, &x) == -EINVAL, "unknown flags accepted");
	TEST_ASSERT(!strcmp(xc_last_error(xch), ""), "a fresh handle has an error: %s",
		    xc_last_error(xch));
	XC_FAILS(xc_interface_set_timeout(xch, 0), -EINVAL, "timeout of 0 ms");
	XC_FAILS(xc_interface_set_timeout(xch, -5), -EINVAL, "must be positive");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t v = 12345;
		int r = xc_parse_size(sizes[i].text, &v);

		TEST_ASSERT(r == sizes[i].ret && (r || v == sizes[i].bytes),
			    "xc_parse_size(\"%s\"): %d, %" PRIu64, sizes[i].text, r, v);
	}
	XC_OK(xc_uuid_parse("6B1D2F10-0001-4000-8000-DEADBEEF0001", uuid));
	xc_uuid_format(uuid, text);
	TEST_ASSERT(!strcmp(text, "6b1d2f10-0001-4000-8000-deadbeef0001"), "round trip: %s",
		    text);
	for (size_t i = 0; i < sizeof(bad_uuids) / sizeof(bad_uuids[0]); i++)
		TEST_ASSERT(xc_uuid_parse(bad_uuids[i], uuid) == -EINVAL, "UUID '%s' accepted",
			    bad_uuids[i]);
	TEST_ASSERT(!strcmp(xc_domain_state_name(XC_DOMSTATE_BLOCKED), "blocked") &&
		    !strcmp(xc_domain_state_name(XC_DOMSTATE_CRASHED), "crashed") &&
		    !strcmp(xc_domain_state_name(0), "unknown") &&
		    !strcmp(xc_domain_state_name(1000), "unknown"), "state names");
	TEST_ASSERT(!strcmp(xc_domain_reason_name(XC_REASON_POWEROFF), "poweroff") &&
		    !strcmp(xc_domain_reason_name(XC_REASON_VMM_DIED), "vmm-died") &&
		    !strcmp(xc_domain_reason_name(63), "unknown") &&
		    !strcmp(xc_domain_reason_name(100000), "unknown"), "reason names");
	XC_FAILS(xc_domain_open(xch, 4242, &dom), -ESRCH, "no domain 4242");
	{
		uint32_t domid;

		XC_FAILS(xc_domain_lookup(xch, "bad\033[2Jname", &domid), -ESRCH,
			 "'bad\\x1b[2Jname'");
	}
	XC_FAILS(xc_domain_connect(xch, "/nonexistent/control", &dom), -ENOENT,
		 "/nonexistent/control");
	printf("ok: handles, timeouts, sizes, UUIDs, state and reason names\n");
}

/* A console socket: what is written reaches the guest, what it writes comes back. */
static void check_console(void)
{
	char log[] = "/tmp/test-libxc-log.XXXXXX", con[] = "/tmp/test-libxc-con.XXXXXX";
	xc_build_config cfg = base_config("echo");
	char buf[4096], file[256];
	size_t len = 0;
	xc_dominfo info;
	xc_domain *dom;
	int64_t end;
	int fd;

	cfg.kernel = console_elf;
	cfg.console = XC_CONSOLE_SOCKET;
	TEST_ASSERT((fd = mkstemp(log)) >= 0, "%m");
	close(fd);
	cfg.log_path = log;
	dom = create(&cfg);
	xc_dominfo_init(&info);
	get_info(dom, &info);
	TEST_ASSERT(info.has_console, "no console");
	XC_OK(xc_domain_subscribe(xch, dom));
	XC_OK(xc_domain_console_fd(xch, dom, &fd));
	TEST_ASSERT(fcntl(fd, F_GETFD) == FD_CLOEXEC, "the console fd is not close-on-exec");
	TEST_ASSERT(write(fd, "xyq", 3) == 3, "console write: %m");
	for (end = now_ms() + 10000; !memmem(buf, len, "got: q\n", 7) && now_ms() < end;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		TEST_ASSERT(n > 0, "console read: %zd %m", n);
		len += n;
	}
	TEST_ASSERT(memmem(buf, len, "got: x\ngot: y\ngot: q\n", 21), "console: '%.*s'", (int)len,
		    buf);
	TEST_ASSERT(write(fd, ".", 1) == 1, "console write: %m");
	expect_event(dom, XC_DOMSTATE_SHUTDOWN, XC_REASON_TEST_EXIT, 64);
	close(fd);
	get_info(dom, &info);
	TEST_ASSERT(info.state == XC_DOMSTATE_SHUTDOWN && info.exit_status == 64,
		    "after the guest ended: %s (exit %d)", xc_domain_state_name(info.state),
		    info.exit_status);
	xc_dominfo_dispose(&info);
	TEST_ASSERT(!domain_file_exists(xc_domain_id(dom), "vmm.log"), "log in the registry too");
	snprintf(file, sizeof(file), "grep -q 'console on' %s", log);
	TEST_ASSERT(system(file) == 0, "the VMM did not log to %s", log);
	destroy_and_check(dom);
	TEST_ASSERT(!access(log, F_OK), "destroy removed the caller's log");
	unlink(log);

	/* To a file: no console for clients. */
	cfg = base_config("filed");
	cfg.kernel = console_elf;
	TEST_ASSERT((fd = mkstemp(con)) >= 0, "%m");
	close(fd);
	cfg.console = XC_CONSOLE_FILE;
	cfg.console_path = con;
	dom = create(&cfg);
	snprintf(file, sizeof(file), "grep -q 'console ready' %s", con);
	for (end = now_ms() + 10000; system(file) && now_ms() < end;)
		sleep_ms(10);
	TEST_ASSERT(system(file) == 0, "no console output in %s", con);
	XC_FAILS(xc_domain_console_fd(xch, dom, &fd), -EOPNOTSUPP, "console");
	destroy_and_check(dom);
	unlink(con);
	printf("ok: console socket both ways, a console file, a log file of the caller's\n");
}

/* xc_domain_connect() on a registry domain's socket: a bare handle, domid 0. */
static void check_connect_handle(void)
{
	xc_build_config cfg = base_config("bare");
	xc_domain *dom, *bare;
	xc_dominfo info;
	xc_domain_event ev;
	char path[512];

	dom = create(&cfg);
	domain_file(xc_domain_id(dom), "control", path, sizeof(path));
	XC_OK(xc_domain_connect(xch, path, &bare));
	TEST_ASSERT(xc_domain_id(bare) == 0 && !strcmp(xc_domain_name(bare), ""), "identity");
	xc_dominfo_init(&info);
	get_info(bare, &info);
	TEST_ASSERT(info.domid == 0 && state_is_live(info.state) && info.nr_vcpus == 1,
		    "bare getinfo: %u %s", info.domid, xc_domain_state_name(info.state));
	xc_dominfo_dispose(&info);
	XC_FAILS(xc_sched_credit_get(xch, bare, &(xc_sched_credit){}), -EOPNOTSUPP, "registry");
	XC_FAILS(xc_domain_set_max_memory(xch, bare, 8 * MIB), -EOPNOTSUPP, "registry");
	XC_FAILS(xc_domain_wait_event(xch, bare, 0, &ev), -EINVAL, "not subscribed");
	XC_OK(xc_domain_subscribe(xch, bare));
	XC_FAILS(xc_domain_wait_event(xch, bare, 50, &ev), -ETIMEDOUT, "none within 50 ms");
	XC_OK(xc_domain_pause(xch, dom));
	expect_event(bare, XC_DOMSTATE_PAUSED, XC_REASON_PAUSED, -1);
	xc_domain_close(xch, bare);
	/* Closing the interface closes the handles still open through it. */
	destroy_and_check(dom);
	printf("ok: xc_domain_connect() on a domain's socket: getinfo, events; registry-only "
	       "calls refused\n");
}

/* Several processes create at once: the registry lock hands out one domid and name each. */
static void check_concurrent_create(void)
{
	enum { N = 4 };
	char names[N][16];
	pid_t kids[N];
	uint32_t *ids;
	int wins = 0, n;

	for (int same = 1; same >= 0; same--) {
		for (int i = 0; i < N; i++) {
			snprintf(names[i], sizeof(names[i]), same ? "racer" : "racer%d", i);
			kids[i] = fork();
			TEST_ASSERT(kids[i] >= 0, "fork: %m");
			if (!kids[i]) {
				xc_build_config cfg = base_config(names[i]);
				xc_interface *x;
				xc_domain *dom;
				int r;

				if (xc_interface_open(0, &x))
					_exit(3);
				r = xc_domain_create(x, &cfg, &dom);
				if (r && (r != -EEXIST || !strstr(xc_last_error(x), "in use")))
					printf("racer %d: %s\n", i, xc_last_error(x));
				_exit(!r ? 0 : r == -EEXIST ? 1 : 2);
			}
		}
		wins = 0;
		for (int i = 0; i < N; i++) {
			int status;

			TEST_ASSERT(waitpid(kids[i], &status, 0) == kids[i] && WIFEXITED(status) &&
				    WEXITSTATUS(status) <= 1, "racer %d failed", i);
			wins += WEXITSTATUS(status) == 0;
		}
		n = xc_domain_list(xch, &ids);
		TEST_ASSERT(wins == (same ? 1 : N) && n == wins, "%s names: %d created, %d listed",
			    same ? "the same" : "different", wins, n);
		for (int i = 0; i < n; i++) {
			xc_domain *dom;

			TEST_ASSERT(ids[i] == (uint32_t)i + 1, "domids not 1..%d", n);
			XC_OK(xc_domain_open(xch, ids[i], &dom));
			destroy_and_check(dom);
		}
		free(ids);
	}
	printf("ok: %d processes create at once: one wins a name, distinct names get domids "
	       "1..%d\n", N, N);
}

static void write_record(uint32_t domid, const char *text)
{
	char path[512];
	FILE *f;

	domain_file(domid, NULL, path, sizeof(path));
	TEST_ASSERT(!mkdir(path, 0700), "mkdir %s: %m", path);
	domain_file(domid, "domain", path, sizeof(path));
	f = fopen(path, "we");
	TEST_ASSERT(f && fputs(text, f) >= 0 && !fclose(f), "%s: %m", path);
}

/* Records that lie: a dead builder's, and a pid that now belongs to someone else. */
static void check_stale_records(void)
{
	char text[512];
	xc_dominfo info;
	xc_domain *dom;
	uint32_t *ids;
	int n;

	write_record(77, "domid=77\nname=ghost\nuuid=6b1d2f10-0001-4000-8000-00000000007a\n"
		     "pid=0\ncreator=999999\ncreator_start=12345\nram=16777216\n");
	n = xc_domain_list(xch, &ids);
	TEST_ASSERT(n == 0 && !domain_file_exists(77, NULL), "a dead builder's entry stays");
	free(ids);
	/* Our own pid with another start time: a reused pid, never to be taken for the VMM. */
	snprintf(text, sizeof(text), "domid=78\nname=reused\nuuid=6b1d2f10-0001-4000-8000-"
		 "00000000007b\npid=%d\npid_start=1\nram=16777216\nmax_mem=16777216\nvcpus=1\n"
		 "weight=256\n", (int)getpid());
	write_record(78, text);
	XC_OK(xc_domain_open(xch, 78, &dom));
	xc_dominfo_init(&info);
	get_info(dom, &info);
	TEST_ASSERT(info.state == XC_DOMSTATE_CRASHED && info.reason == XC_REASON_VMM_DIED &&
		    !strcmp(info.name, "reused"), "a reused pid: %s: %s",
		    xc_domain_state_name(info.state), xc_domain_reason_name(info.reason));
	xc_dominfo_dispose(&info);
	XC_OK(xc_domain_destroy(xch, dom));	/* and it must not kill us */
	xc_domain_close(xch, dom);
	TEST_ASSERT(!domain_file_exists(78, NULL), "destroy left the entry");
	printf("ok: a dead builder's entry is dropped; a reused pid is not the VMM (crashed, and "
	       "destroy does not signal it)\n");
}

/* A registry lock held for ever (a stuck process) fails a create in bounded time. */
static void check_stuck_registry_lock(void)
{
	xc_build_config cfg = base_config("locked-out");
	char path[sizeof(run_dir) + 8];
	xc_domain *dom = NULL;
	int64_t t0;
	int fd, r;

	snprintf(path, sizeof(path), "%s/lock", run_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	/* Another open file description: flock() conflicts with ours as with another process's. */
	TEST_ASSERT(fd >= 0 && !flock(fd, LOCK_EX), "lock %s: %m", path);
	t0 = now_ms();
	r = xc_domain_create(xch, &cfg, &dom);
	TEST_ASSERT(r == -ETIMEDOUT && !dom && now_ms() - t0 < 15000 &&
		    strstr(xc_last_error(xch), "is held by another process"),
		    "create under a stuck lock: %d after %" PRId64 " ms: %s", r, now_ms() - t0,
		    xc_last_error(xch));
	close(fd);
	XC_OK(xc_domain_create(xch, &cfg, &dom));
	XC_OK(xc_domain_destroy(xch, dom));
	xc_domain_close(xch, dom);
	printf("ok: a registry lock held for ever: create fails after %" PRId64 " ms ('%s'), "
	       "and works once it is free\n", now_ms() - t0, "held by another process");
}

/* domus_tap_open() and domus_tap_attach_bridge() check names themselves (ifr_name is 16). */
static void check_tap_names(void)
{
	const char *long_name = "a-tap-name-far-longer-than-ifr_name-and-the-whole-ifreq-too";
	char err[256], ifname[DOMUS_IFNAMSIZ];
	int fd = -1;

	TEST_ASSERT(domus_tap_open(long_name, &fd, ifname, err, sizeof(err)) == -EINVAL &&
		    strstr(err, "tap name") && fd == -1, "a long tap name: %s", err);
	TEST_ASSERT(domus_tap_attach_bridge("tap0", long_name, err, sizeof(err)) == -EINVAL &&
		    strstr(err, "names of"), "a long bridge name: %s", err);
	printf("ok: tap and bridge names longer than IFNAMSIZ are refused\n");
}

/* A line longer than the reader's buffer is skipped whole: its tail is no line of its own. */
static void check_overlong_record_line(void)
{
	char text[2048];
	xc_domain *dom;
	uint32_t *ids;
	int n;

	/* The reader takes 511 octets at a time: "name=evil" would start the second piece. */
	n = snprintf(text, sizeof(text), "domid=79\nname=good\nuuid=6b1d2f10-0001-4000-8000-"
		     "00000000007c\npid=%d\npid_start=1\nram=16777216\nvcpus=1\nnote=",
		     (int)getpid());
	memset(text + n, 'x', 511 - strlen("note="));
	n += 511 - (int)strlen("note=");
	snprintf(text + n, sizeof(text) - n, "name=evil\nvcpus=1\n");
	write_record(79, text);
	/* Not a domid as libxc writes it: no second domain 79 in the list. */
	snprintf(text, sizeof(text), "%s/079", run_dir);
	TEST_ASSERT(!mkdir(text, 0700), "mkdir %s: %m", text);
	n = xc_domain_list(xch, &ids);
	TEST_ASSERT(n == 1 && ids[0] == 79, "the list has %d entries for one domain 79", n);
	free(ids);
	TEST_ASSERT(!rmdir(text), "rmdir %s: %m", text);
	XC_OK(xc_domain_open(xch, 79, &dom));
	TEST_ASSERT(!strcmp(xc_domain_name(dom), "good"), "an overlong line's tail was read as "
		    "a line: the name is %s", xc_domain_name(dom));
	XC_OK(xc_domain_destroy(xch, dom));
	xc_domain_close(xch, dom);
	printf("ok: an overlong record line is skipped whole; \"079\" is no domid\n");
}

/* A VMM that stopped answering (SIGSTOP): calls time out, nothing hangs, destroy ends it. */
static void check_hung_vmm(void)
{
	xc_build_config cfg = base_config("frozen");
	xc_domain *dom, *other;
	xc_dominfo info;
	int64_t t0;
	pid_t pid;

	dom = create(&cfg);
	pid = vmm_pid(dom);
	xc_dominfo_init(&info);
	XC_OK(xc_interface_set_timeout(xch, 503));	/* not a multiple of any tick */
	TEST_ASSERT(!kill(pid, SIGSTOP), "SIGSTOP: %m");
	t0 = now_ms();
	XC_FAILS(xc_domain_getinfo(xch, dom, &info), -ETIMEDOUT, "no answer");
	TEST_ASSERT(now_ms() - t0 < 5000, "getinfo took %lld ms", (long long)(now_ms() - t0));
	XC_FAILS(xc_domain_pause(xch, dom), -ETIMEDOUT, "no answer");
	t0 = now_ms();
	XC_FAILS(xc_domain_open(xch, xc_domain_id(dom), &other), -ETIMEDOUT, "");
	TEST_ASSERT(now_ms() - t0 < 5000, "open took %lld ms", (long long)(now_ms() - t0));
	t0 = now_ms();
	XC_OK(xc_domain_destroy(xch, dom));
	/* The timeout, then SIGKILL: seconds at most even on a loaded host, never 30. */
	TEST_ASSERT(now_ms() - t0 < 10000, "destroy took %lld ms", (long long)(now_ms() - t0));
	TEST_ASSERT(process_gone(pid), "the stopped VMM survived destroy");
	TEST_ASSERT(!domain_file_exists(xc_domain_id(dom), NULL), "destroy left the entry");
	TEST_ASSERT(!cgroup_exists_for(xc_domain_uuid(dom)), "destroy left the cgroup");
	xc_domain_close(xch, dom);
	XC_OK(xc_interface_set_timeout(xch, 10000));
	printf("ok: a stopped VMM: getinfo and open time out, later calls fail at once, destroy "
	       "kills it and removes everything\n");
}

/* /proc/PID/stat's starttime (field 22), as libxc records it. */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	TEST_ASSERT(f && fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')), "%s", path);
	fclose(f);
	TEST_ASSERT(sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			   "%*s %*s %*s %*s %llu", &start) == 1, "no start time in %s", path);
	return start;
}

/*
 * A "VMM" on a registry domain's socket that answers hello with @hello_status (and the versions
 * 7 to 9), then closes the connection and lives on. open must fail at once with @err and
 * @words (not wait for the process to end), and destroy must still work.
 */
static void check_fake_hello(int32_t hello_status, int err, const char *words)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct {
		struct domus_ctl_hdr h;
		struct domus_ctl_reply r;
		struct domus_ctl_versions v;
	} __attribute__((packed)) reply = {
		{ DOMUS_CTL_MAGIC, DOMUS_CTL_VERSION, DOMUS_CTL_HELLO | DOMUS_CTL_REPLY, 0, 16 },
		{ hello_status, 0, 0 }, { 7, 9, 0 },
	};
	int lfd, status;
	char text[512];
	xc_domain *dom;
	int64_t t0;
	pid_t fake;

	write_record(79, "domid=79\nname=future\n");	/* the pid comes below */
	domain_file(79, "control", addr.sun_path, sizeof(addr.sun_path));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	TEST_ASSERT(lfd >= 0 && !bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) &&
		    !listen(lfd, 4), "fake VMM socket: %m");
	fake_vmm = fake = fork();
	TEST_ASSERT(fake >= 0, "fork: %m");
	if (!fake) {
		struct domus_ctl_hdr h;
		int fd;

		for (;;) {
			fd = accept(lfd, NULL, NULL);
			if (fd < 0 || recv(fd, &h, sizeof(h), MSG_WAITALL) != sizeof(h))
				_exit(1);
			reply.h.id = h.id;
			if (write(fd, &reply, sizeof(reply)) != sizeof(reply))
				_exit(1);
			close(fd);
		}
	}
	close(lfd);
	snprintf(text, sizeof(text), "domid=79\nname=future\nuuid=6b1d2f10-0001-4000-8000-"
		 "00000000007c\npid=%d\npid_start=%llu\nram=16777216\nmax_mem=16777216\n"
		 "vcpus=1\n", (int)fake, start_time(fake));
	domain_file(79, "domain", addr.sun_path, sizeof(addr.sun_path));
	{
		FILE *f = fopen(addr.sun_path, "we");

		TEST_ASSERT(f && fputs(text, f) >= 0 && !fclose(f), "record: %m");
	}
	t0 = now_ms();
	XC_FAILS(xc_domain_open(xch, 79, &dom), err, words);
	TEST_ASSERT(now_ms() - t0 < 2000, "open took %lld ms", (long long)(now_ms() - t0));
	TEST_ASSERT(!process_gone(fake), "the fake VMM is gone");
	kill(fake, SIGKILL);
	TEST_ASSERT(waitpid(fake, &status, 0) == fake, "waitpid: %m");
	fake_vmm = 0;
	XC_OK(xc_domain_open(xch, 79, &dom));	/* now it ended: crashed, vmm-died */
	XC_OK(xc_domain_destroy(xch, dom));
	xc_domain_close(xch, dom);
	TEST_ASSERT(!domain_file_exists(79, NULL), "destroy left the entry");
	printf("ok: hello answered with status %d: open fails at once with %d, '%s'\n",
	       (int)hello_status, err, words);
}

static void check_other_protocol(void)
{
	/* A VMM from a future release: it says which versions it speaks. */
	check_fake_hello(-EPROTONOSUPPORT, -EPROTONOSUPPORT, "versions 7 to 9");
	/* Statuses are 0 or -errno: a positive one must not pass back as a return value. */
	check_fake_hello(5, -EPROTO, "malformed reply");
}

/* ---- set-up and clean-up ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) && errno != ENOENT ? -1 : 0;
}

/* Leave nothing behind, even on failure: destroy what is left, remove the registry. */
static void test_cleanup(void)
{
	static bool busy;
	xc_interface *x;
	uint32_t *ids;
	int n;

	char cmd[600];

	if (fake_vmm > 0)
		kill(fake_vmm, SIGKILL);	/* it holds our stdout: the harness would wait */
	if (busy || xc_interface_open(0, &x))
		return;
	busy = true;
	/* What the VMMs said, but for the guests' progress reports. */
	snprintf(cmd, sizeof(cmd), "for f in %s/*/vmm.log; do [ -f \"$f\" ] && echo \"--- $f:\" && "
		 "grep -v 'testdev: report' \"$f\" | tail -n 5; done", run_dir);
	if (system(cmd) < 0)
		printf("(cannot show the VMMs' logs)\n");
	xc_interface_set_timeout(x, 2000);
	n = xc_domain_list(x, &ids);
	for (int i = 0; i < n; i++) {
		char pid[32];
		xc_domain *dom;

		/* A VMM a check stopped would not answer: let it go on, to be destroyed. */
		record_value(ids[i], "pid", pid, sizeof(pid));
		if (atoi(pid) > 0)
			kill(atoi(pid), SIGCONT);
		if (!xc_domain_open(x, ids[i], &dom))
			xc_domain_destroy(x, dom);
	}
	if (n > 0)
		free(ids);
	xc_interface_close(x);
	nftw(run_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char **argv)
{
	int kvm;

	if (argc != 5) {
		fprintf(stderr, "usage: %s DOMUS_VMM DOMUS_XC CONTROL_GUEST_ELF CONSOLE_GUEST_ELF\n",
			argv[0]);
		return 99;
	}
	vmm_path = argv[1];
	xc_path = argv[2];
	guest_elf = argv[3];
	console_elf = argv[4];
	if (geteuid() != 0) {
		printf("SKIP: needs root (cgroups, taps, another user for the VMM)\n");
		return 77;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("SKIP: /dev/kvm: %m\n");
		return 77;
	}
	close(kvm);
	/* Taps are made here, where no host interface can be touched. */
	TEST_ASSERT(!unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET): %m");
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	TEST_ASSERT(mkdtemp(run_dir), "mkdtemp: %m");
	setenv("DOMUS_RUN_DIR", run_dir, 1);
	setenv("DOMUS_VMM", vmm_path, 1);
	TEST_ASSERT(!xc_interface_open(0, &xch), "xc_interface_open");
	XC_OK(xc_interface_set_timeout(xch, 10000));

	check_helpers();
	check_create_info();
	check_bad_configs();
	check_paused_start_and_pause();
	check_reset_reboot_affinity();
	check_memory();
	check_sched_credit();
	check_stats();
	check_fresh_process();
	check_sigkill();
	check_two_domains();
	check_unprivileged();
	check_console();
	check_connect_handle();
	check_concurrent_create();
	check_stale_records();
	check_stuck_registry_lock();
	check_overlong_record_line();
	check_tap_names();
	check_hung_vmm();
	check_other_protocol();

	TEST_ASSERT(registry_dirs() == 0, "domains left in the registry");
	xc_interface_close(xch);
	test_cleanup();
	printf("libxc: all checks passed\n");
	return 0;
}
