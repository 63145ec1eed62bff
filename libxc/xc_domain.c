// SPDX-License-Identifier: GPL-2.0-or-later
/* Domain handles and the calls on them: one call, one control message (domus/control.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "xc_private.h"

/* The API's numbers are the wire's: no translation table to get wrong. */
#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(XC_DOMSTATE_RUNNING, DOMUS_CTL_STATE_RUNNING) &&
	       SAME(XC_DOMSTATE_BLOCKED, DOMUS_CTL_STATE_BLOCKED) &&
	       SAME(XC_DOMSTATE_PAUSED, DOMUS_CTL_STATE_PAUSED) &&
	       SAME(XC_DOMSTATE_SHUTDOWN, DOMUS_CTL_STATE_SHUTDOWN) &&
	       SAME(XC_DOMSTATE_CRASHED, DOMUS_CTL_STATE_CRASHED) &&
	       SAME(XC_DOMSTATE_DYING, DOMUS_CTL_STATE_DYING), "states match the wire");
_Static_assert(SAME(XC_REASON_PAUSED, DOMUS_CTL_REASON_PAUSED) &&
	       SAME(XC_REASON_UNPAUSED, DOMUS_CTL_REASON_UNPAUSED) &&
	       SAME(XC_REASON_POWEROFF, DOMUS_CTL_REASON_POWEROFF) &&
	       SAME(XC_REASON_REBOOT, DOMUS_CTL_REASON_REBOOT) &&
	       SAME(XC_REASON_CRASH, DOMUS_CTL_REASON_CRASH) &&
	       SAME(XC_REASON_DESTROYED, DOMUS_CTL_REASON_DESTROYED) &&
	       SAME(XC_REASON_HOST_ERROR, DOMUS_CTL_REASON_HOST_ERROR) &&
	       SAME(XC_REASON_TEST_EXIT, DOMUS_CTL_REASON_TEST_EXIT) &&
	       SAME(XC_REASON_SAVED, DOMUS_CTL_REASON_SAVED) &&
	       SAME(XC_REASON_MIGRATED, DOMUS_CTL_REASON_MIGRATED), "reasons match the wire");

static void domain_free(xc_domain *dom)
{
	while (dom->events) {
		struct xc__event *e = dom->events;

		dom->events = e->next;
		free(e);
	}
	if (dom->fd >= 0)
		close(dom->fd);
	free(dom->control_path);
	free(dom);
}

/* A request whose reply has no payload. Return: the reply's status, or -errno. */
static int simple_call(xc_interface *xch, xc_domain *dom, const char *what, uint16_t type,
		       const void *body, size_t len)
{
	return xc__call_copy(xch, dom, what, type, body, len, -1, NULL, 0);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int hello(xc_interface *xch, xc_domain *dom)
{
	const char *name = program_invocation_short_name;
	struct xc__reply r;
	int ret;

	ret = xc__call(xch, dom, "hello", DOMUS_CTL_HELLO, name, strnlen(name, 64), &r);
	if (ret)
		return ret;
	ret = r.status;
	if (ret == -EPROTONOSUPPORT && r.payload_len >= sizeof(struct domus_ctl_versions)) {
		struct domus_ctl_versions v;

		memcpy(&v, r.payload, sizeof(v));
		xc__error(xch, ret, "%s speaks control protocol versions %u to %u, libxc %u",
			  dom->control_path, v.min_version, v.max_version, DOMUS_CTL_VERSION);
	} else {
		ret = xc__reply_check(xch, "hello", &r, sizeof(dom->hello));
		if (!ret)
			memcpy(&dom->hello, r.payload, sizeof(dom->hello));
	}
	xc__reply_dispose(&r);
	return ret;
}

static xc_domain *domain_new(void)
{
	xc_domain *dom = calloc(1, sizeof(*dom));

	if (dom) {
		dom->fd = -1;
		dom->next_id = 1;
	}
	return dom;
}

static void domain_link(xc_interface *xch, xc_domain *dom)
{
	dom->next = xch->domains;
	xch->domains = dom;
}

/*
 * A subscription made again after a restart starts at that moment: a pause by another
 * client between the new machine's start and now reached nobody here. Say where the
 * domain stands, so that the subscriber's idea of its state is right again.
 */
static void catch_up(xc_interface *xch, xc_domain *dom)
{
	struct domus_ctl_info di;
	struct xc__reply r;

	if (xc__call(xch, dom, "getinfo", DOMUS_CTL_GET_INFO, NULL, 0, &r))
		return;
	if (!r.status && r.payload_len >= sizeof(di)) {
		memcpy(&di, r.payload, sizeof(di));
		if (di.state == DOMUS_CTL_STATE_PAUSED)
			xc__queue_state(dom, XC_DOMSTATE_PAUSED, XC_REASON_PAUSED,
					"paused (before this handle subscribed again after the "
					"restart)");
	}
	xc__reply_dispose(&r);
}

int xc__domain_connect_fd(xc_interface *xch, xc_domain *dom)
{
	struct domus_ctl_subscribe sub = { .events = DOMUS_CTL_EVENTS_STATE };
	int fd, ret;

	fd = xc__connect(dom->control_path);
	if (fd < 0)
		return xc__error(xch, fd, "connect to %s: %s", dom->control_path, strerror(-fd));
	if (dom->fd >= 0)
		close(dom->fd);
	dom->fd = fd;
	dom->gone = false;
	ret = hello(xch, dom);
	if (!ret && !dom->pid) {
		dom->pid = dom->hello.pid;
		dom->pid_start = xc__process_start(dom->pid);
	}
	/* Again after a restart: the new VMM knows nothing of the old subscription. */
	if (!ret && dom->subscribed) {
		ret = simple_call(xch, dom, "subscribe", DOMUS_CTL_SUBSCRIBE, &sub, sizeof(sub));
		if (!ret)
			catch_up(xch, dom);
	}
	if (ret && dom->fd >= 0) {
		close(dom->fd);
		dom->fd = -1;
	}
	return ret;
}

int xc_domain_connect(xc_interface *xch, const char *control_path, xc_domain **ret_dom)
{
	xc_domain *dom = domain_new();
	int ret;

	if (dom)
		dom->control_path = strdup(control_path);
	if (!dom || !dom->control_path) {
		free(dom);
		return xc__error(xch, -ENOMEM, "connect to %s: out of memory", control_path);
	}
	ret = xc__domain_connect_fd(xch, dom);
	if (ret) {
		domain_free(dom);
		return ret;
	}
	domain_link(xch, dom);
	*ret_dom = dom;
	return 0;
}

static bool vmm_alive(const xc_domain *dom)
{
	return xc__process_alive(dom->pid, dom->pid_start);
}

/*
 * The VMM said that the machine ended, or closed its control socket: it is on its way out
 * (it writes its exit record, frees the machine and exits). Wait for that, at most the
 * handle's timeout, so that the exit record is complete and the cgroup can be removed.
 * Return: true once the process is gone.
 */
static bool vmm_wait_gone(xc_interface *xch, xc_domain *dom)
{
	const struct timespec tick = { .tv_nsec = 2000000 };

	for (int waited = 0; vmm_alive(dom); waited += 2) {
		if (waited >= xch->timeout_ms)
			return false;
		nanosleep(&tick, NULL);
	}
	return true;
}

/* The VMM closed its socket or our connection (it is ending), rather than answered badly. */
static bool connection_closed(int err)
{
	return err == -ECONNREFUSED || err == -ENOENT || err == -ECONNRESET || err == -EPIPE;
}

/* Cgroup and control socket of a domain whose VMM is gone; the record stays. */
static void release_resources(xc_interface *xch, xc_domain *dom, const struct xc__record *rec)
{
	xc__cgroup_remove(rec->cgroup);
	if (dom->control_path)
		unlink(dom->control_path);
}

int xc_domain_open(xc_interface *xch, uint32_t domid, xc_domain **ret_dom)
{
	char path[PATH_MAX];
	struct xc__record rec;
	xc_domain *dom;
	int ret;

	ret = xc__record_read(xch, domid, &rec);
	if (ret == -ESRCH || (!ret && !rec.pid))
		return xc__error(xch, -ESRCH, "no domain %" PRIu32, domid);
	if (ret)
		return xc__error(xch, ret, "domain %" PRIu32 ": cannot read its record: %s", domid,
				 strerror(-ret));
	ret = xc__domain_path(xch, domid, "control", path);
	if (ret)
		return ret;
	dom = domain_new();
	if (!dom || !(dom->control_path = strdup(path))) {
		free(dom);
		return xc__error(xch, -ENOMEM, "out of memory");
	}
	dom->domid = domid;
	memcpy(dom->name, rec.name, sizeof(dom->name));
	memcpy(dom->uuid, rec.uuid, 16);
	dom->pid = rec.pid;
	dom->pid_start = rec.pid_start;
	if (!xc__process_alive(rec.pid, rec.pid_start)) {
		dom->ended = dom->gone = true;
		release_resources(xch, dom, &rec);
	} else if ((ret = xc__domain_connect_fd(xch, dom)) &&
		   (!connection_closed(ret) || !vmm_wait_gone(xch, dom))) {
		domain_free(dom);
		return ret;
	} else if (ret) {
		dom->ended = dom->gone = true;	/* it ended while we connected */
	}
	domain_link(xch, dom);
	*ret_dom = dom;
	return 0;
}

int xc_domain_list(xc_interface *xch, uint32_t **ret_domids)
{
	uint32_t *ids = NULL;
	int n = xc__registry_scan(xch, &ids), kept = 0;

	if (n < 0)
		return n;
	/* Entries being built show once they have a VMM; stale ones of dead builders go. */
	for (int i = 0; i < n; i++) {
		struct xc__record rec;

		if (xc__record_read(xch, ids[i], &rec))
			continue;
		if (!rec.pid) {
			if (!xc__process_alive(rec.creator, rec.creator_start))
				xc__registry_remove(xch, ids[i]);
			continue;
		}
		ids[kept++] = ids[i];
	}
	*ret_domids = ids;
	return kept;
}

/* A domain with a VMM (not one still being built). */
static bool lookup_ok(xc_interface *xch, uint32_t domid)
{
	struct xc__record rec;

	return !xc__record_read(xch, domid, &rec) && rec.pid;
}

int xc_domain_lookup(xc_interface *xch, const char *what, uint32_t *ret_domid)
{
	char q[XC_QUOTED_MAX], *end;
	unsigned long id = strtoul(what, &end, 10);
	uint8_t uuid[16];
	char canon[37];
	uint32_t domid;

	/* As virsh: a domid first, then a UUID, then a name (a domain may be named "2"). */
	if (what[0] >= '0' && what[0] <= '9' && !*end && id && id <= UINT32_MAX &&
	    lookup_ok(xch, id)) {
		*ret_domid = id;
		return 0;
	}
	if (!xc_uuid_parse(what, uuid)) {
		xc_uuid_format(uuid, canon);
		if (!xc__index_find(xch, true, canon, &domid) && lookup_ok(xch, domid)) {
			*ret_domid = domid;
			return 0;
		}
	}
	if (!strchr(what, '/') && !xc__index_find(xch, false, what, &domid) &&
	    lookup_ok(xch, domid)) {
		*ret_domid = domid;
		return 0;
	}
	return xc__error(xch, -ESRCH, "no domain with id, name or UUID '%s'",
			 xc__quoted(what, q));
}

uint32_t xc_domain_id(const xc_domain *dom)
{
	return dom->domid;
}

const char *xc_domain_name(const xc_domain *dom)
{
	return dom->name;
}

const uint8_t *xc_domain_uuid(const xc_domain *dom)
{
	return dom->uuid;
}

void xc_uuid_format(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

int xc_uuid_parse(const char *s, uint8_t uuid[16])
{
	unsigned int n = 0;

	for (const char *p = s; *p; p++) {
		int hi, lo;

		if (*p == '-' && (p - s == 8 || p - s == 13 || p - s == 18 || p - s == 23))
			continue;
		if (n == 16 || !p[1])
			return -EINVAL;
		hi = hexval(p[0]);
		lo = hexval(p[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		uuid[n++] = hi << 4 | lo;
		p++;
	}
	return n == 16 && strlen(s) == 36 ? 0 : -EINVAL;
}

void xc_domain_close(xc_interface *xch, xc_domain *dom)
{
	xc_domain **p;

	if (!dom)
		return;
	for (p = &xch->domains; *p; p = &(*p)->next) {
		if (*p == dom) {
			*p = dom->next;
			break;
		}
	}
	domain_free(dom);
}

void xc_dominfo_init(xc_dominfo *info)
{
	memset(info, 0, sizeof(*info));
}

void xc_dominfo_dispose(xc_dominfo *info)
{
	free(info->vcpus);
	xc_dominfo_init(info);
}

static int fill_dominfo(xc_interface *xch, const struct xc__reply *r, xc_dominfo *info)
{
	const struct domus_ctl_vcpu_info *wire;
	struct domus_ctl_info di;

	if (r->payload_len < sizeof(di))
		return xc__error(xch, -EPROTO, "getinfo: short reply");
	memcpy(&di, r->payload, sizeof(di));
	if (r->payload_len < sizeof(di) + (size_t)di.nr_vcpus * sizeof(*wire))
		return xc__error(xch, -EPROTO, "getinfo: reply too short for %u vCPUs",
				 di.nr_vcpus);
	info->vcpus = calloc(di.nr_vcpus ? di.nr_vcpus : 1, sizeof(*info->vcpus));
	if (!info->vcpus)
		return xc__error(xch, -ENOMEM, "getinfo: out of memory");
	info->state = di.state;
	info->nr_vcpus = di.nr_vcpus;
	info->mem_bytes = di.mem_bytes;
	info->mem_target_bytes = di.mem_target_bytes;
	info->mem_actual_bytes = di.mem_actual_bytes;
	info->uptime_ns = di.uptime_ns;
	info->cpu_time_ns = di.cpu_time_ns;
	info->pid = di.pid;
	info->has_console = !!(di.features & DOMUS_CTL_FEAT_CONSOLE);
	info->has_balloon = !!(di.features & DOMUS_CTL_FEAT_BALLOON);
	for (unsigned int i = 0; i < di.nr_vcpus; i++) {
		struct domus_ctl_vcpu_info vi;

		memcpy(&vi, r->payload + sizeof(di) + i * sizeof(vi), sizeof(vi));
		info->vcpus[i] = (xc_vcpuinfo){
			.id = vi.id,
			.tid = vi.tid,
			.running = vi.state == DOMUS_CTL_VCPU_RUNNING,
			.cpu_time_ns = vi.cpu_time_ns,
		};
	}
	return 0;
}

/* Running, but every vCPU thread asleep in the kernel (the guest halted): Xen's blocked. */
static bool all_vcpus_idle(const xc_dominfo *info)
{
	for (unsigned int i = 0; i < info->nr_vcpus; i++) {
		char path[64], buf[512], *p;
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)info->pid,
			 (int)info->vcpus[i].tid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return false;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		p = strrchr(buf, ')');
		if (!p || p[1] != ' ' || p[2] != 'S')
			return false;
	}
	return info->nr_vcpus > 0;
}

/* Name, UUID, domid and max memory from the registry record. */
static void fill_identity(xc_interface *xch, xc_domain *dom, xc_dominfo *info,
			  struct xc__record *rec)
{
	info->domid = dom->domid;
	memcpy(info->name, dom->name, sizeof(info->name));
	memcpy(info->uuid, dom->uuid, 16);
	info->max_mem_bytes = info->mem_bytes;
	if (dom->domid && !xc__record_read(xch, dom->domid, rec))
		info->max_mem_bytes = rec->max_mem_bytes;
}

/* A registry domain whose VMM is gone: what its exit record says, or that it died. */
static int ended_info(xc_interface *xch, xc_domain *dom, xc_dominfo *info)
{
	struct xc__record rec;
	char msg[256];
	bool gone;
	int status, reason;

	if (!dom->domid)
		return xc__error(xch, -ECONNRESET, "getinfo: the VMM is gone");
	gone = vmm_wait_gone(xch, dom);
	if (xc__record_read(xch, dom->domid, &rec))
		return xc__error(xch, -ESRCH, "getinfo: domain %" PRIu32 " was destroyed",
				 dom->domid);
	info->vcpus = calloc(rec.nr_vcpus ? rec.nr_vcpus : 1, sizeof(*info->vcpus));
	if (!info->vcpus)
		return xc__error(xch, -ENOMEM, "getinfo: out of memory");
	info->nr_vcpus = rec.nr_vcpus;
	for (unsigned int i = 0; i < rec.nr_vcpus; i++)
		info->vcpus[i].id = i;
	info->mem_bytes = info->mem_target_bytes = info->mem_actual_bytes = rec.ram_bytes;
	info->pid = rec.pid;
	if (!xc__exit_record_read(xch, dom->domid, &status, &reason, msg, sizeof(msg))) {
		xc__exit_state(status, &info->state, &info->reason);
		if (reason > 0)
			info->reason = reason;	/* saved and migrated are status 4 too */
		info->exit_status = status;
	} else {
		/* Killed, or (still there after the timeout) stuck on its way out. */
		info->state = gone ? XC_DOMSTATE_CRASHED : XC_DOMSTATE_DYING;
		info->reason = gone ? XC_REASON_VMM_DIED : XC_REASON_NONE;
		info->exit_status = -1;
	}
	fill_identity(xch, dom, info, &rec);
	dom->ended = true;
	if (gone)
		release_resources(xch, dom, &rec);
	return 0;
}

int xc_domain_getinfo(xc_interface *xch, xc_domain *dom, xc_dominfo *info)
{
	struct xc__record rec;
	struct xc__reply r;
	int ret;

	xc_dominfo_dispose(info);
	if (dom->destroyed)
		return xc__error(xch, -ESRCH, "getinfo: the domain was destroyed");
	if (dom->ended || (dom->domid && dom->fd < 0 && !vmm_alive(dom)))
		return ended_info(xch, dom, info);
	ret = xc__call(xch, dom, "getinfo", DOMUS_CTL_GET_INFO, NULL, 0, &r);
	/* A VMM that closed the connection is ending (or restarting: xc__call reconnected). */
	if (ret)
		return dom->domid && (!vmm_alive(dom) || connection_closed(ret) ||
				      (ret == -ENOTCONN && dom->gone)) ? ended_info(xch, dom, info)
								       : ret;
	ret = xc__reply_check(xch, "getinfo", &r, 0);
	if (!ret)
		ret = fill_dominfo(xch, &r, info);
	xc__reply_dispose(&r);
	if (ret)
		return ret;
	info->exit_status = -1;
	fill_identity(xch, dom, info, &rec);
	if (info->state == XC_DOMSTATE_RUNNING && all_vcpus_idle(info))
		info->state = XC_DOMSTATE_BLOCKED;
	return 0;
}

int xc_domain_pause(xc_interface *xch, xc_domain *dom)
{
	return simple_call(xch, dom, "pause", DOMUS_CTL_PAUSE, NULL, 0);
}

int xc_domain_unpause(xc_interface *xch, xc_domain *dom)
{
	return simple_call(xch, dom, "unpause", DOMUS_CTL_UNPAUSE, NULL, 0);
}

int xc_domain_shutdown(xc_interface *xch, xc_domain *dom)
{
	struct domus_ctl_shutdown req = { .mode = DOMUS_CTL_SHUTDOWN_POWER_BUTTON };

	return simple_call(xch, dom, "shutdown", DOMUS_CTL_SHUTDOWN, &req, sizeof(req));
}

int xc_domain_reboot(xc_interface *xch, xc_domain *dom)
{
	struct domus_ctl_shutdown req = { .mode = DOMUS_CTL_SHUTDOWN_REBOOT };

	return simple_call(xch, dom, "reboot", DOMUS_CTL_SHUTDOWN, &req, sizeof(req));
}

int xc_domain_reset(xc_interface *xch, xc_domain *dom)
{
	return simple_call(xch, dom, "reset", DOMUS_CTL_RESET, NULL, 0);
}

/* Wait until the VMM process is gone; SIGKILL it if it takes longer than the timeout. */
int xc__domain_open_pending(xc_interface *xch, uint32_t domid, xc_domain **ret_dom)
{
	struct xc__record rec;
	xc_domain *dom;
	int ret = xc__record_read(xch, domid, &rec);

	if (ret)
		return xc__error(xch, ret, "domain %" PRIu32 ": cannot read its record: %s", domid,
				 strerror(-ret));
	dom = domain_new();
	if (!dom || !(dom->control_path = malloc(PATH_MAX))) {
		free(dom);
		return xc__error(xch, -ENOMEM, "out of memory");
	}
	ret = xc__domain_path(xch, domid, "control", dom->control_path);
	if (ret) {
		domain_free(dom);
		return ret;
	}
	dom->domid = domid;
	memcpy(dom->name, rec.name, sizeof(dom->name));
	memcpy(dom->uuid, rec.uuid, 16);
	dom->pid = rec.pid;
	dom->pid_start = rec.pid_start;
	dom->pending = true;
	domain_link(xch, dom);
	*ret_dom = dom;
	return 0;
}

static void reap(xc_interface *xch, xc_domain *dom)
{
	const struct timespec tick = { .tv_nsec = 5000000 };
	int pfd = (int)syscall(SYS_pidfd_open, dom->pid, 0);
	bool killed = false;

	/* A pidfd becomes readable the moment the process is gone: no polling delay. The pid
	 * may be reused by then only if the process is already gone, which vmm_alive() says. */
	if (pfd >= 0 && vmm_alive(dom)) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		if (poll(&p, 1, xch->timeout_ms) == 0) {
			kill(dom->pid, SIGKILL);
			killed = true;
			poll(&p, 1, 1000);
		}
	}
	if (pfd >= 0)
		close(pfd);
	/* Without pidfds (or for a zombie's last moments): poll. */
	for (int waited = 0; vmm_alive(dom); waited += 5) {
		/* >=: a timeout that is not a multiple of the tick must still end it. */
		if (waited >= xch->timeout_ms && !killed) {
			kill(dom->pid, SIGKILL);
			killed = true;
		}
		nanosleep(&tick, NULL);
	}
}

int xc_domain_destroy(xc_interface *xch, xc_domain *dom)
{
	struct xc__record rec;
	int ret = 0;

	if (!dom->domid)
		return simple_call(xch, dom, "destroy", DOMUS_CTL_DESTROY, NULL, 0);
	if (dom->destroyed)
		return 0;
	if (vmm_alive(dom)) {
		ret = dom->fd >= 0 ? simple_call(xch, dom, "destroy", DOMUS_CTL_DESTROY, NULL, 0)
				   : -ENOTCONN;
		if (ret)
			kill(dom->pid, SIGKILL);	/* it cannot be asked: end it anyway */
		reap(xch, dom);
	}
	if (!xc__record_read(xch, dom->domid, &rec))
		release_resources(xch, dom, &rec);
	xc__registry_remove(xch, dom->domid);
	if (dom->fd >= 0)
		close(dom->fd);
	dom->fd = -1;
	dom->destroyed = dom->ended = dom->gone = true;
	return 0;
}

int xc_domain_kill(xc_interface *xch, uint32_t domid)
{
	struct xc__record rec;
	int ret = xc__record_read(xch, domid, &rec);
	int pfd __close = -1;

	if (ret == -ESRCH || (!ret && !rec.pid))
		return xc__error(xch, -ESRCH, "no domain %" PRIu32, domid);
	if (ret)
		return xc__error(xch, ret, "domain %" PRIu32 ": cannot read its record: %s", domid,
				 strerror(-ret));
	/* A pidfd taken before the start-time check: the signal cannot reach a reused pid. */
	pfd = (int)syscall(SYS_pidfd_open, rec.pid, 0);
	if (!xc__process_alive(rec.pid, rec.pid_start))
		return xc__error(xch, -ESRCH, "domain %" PRIu32 " has ended", domid);
	ret = pfd >= 0 ? (int)syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0) :
			 kill(rec.pid, SIGKILL);
	if (ret < 0)
		return xc__error(xch, -errno, "domain %" PRIu32 ": cannot end its VMM: %m", domid);
	return 0;
}

int xc_domain_set_memory_target(xc_interface *xch, xc_domain *dom, uint64_t bytes)
{
	struct domus_ctl_memory_target req = { .target_bytes = bytes };
	struct xc__record rec;

	if (dom->domid && !xc__record_read(xch, dom->domid, &rec) && bytes > rec.max_mem_bytes)
		return xc__error(xch, -ERANGE, "set memory target: %" PRIu64 " MiB is above the "
				 "domain's max memory of %" PRIu64 " MiB", bytes >> 20,
				 rec.max_mem_bytes >> 20);

	return simple_call(xch, dom, "set memory target", DOMUS_CTL_SET_MEMORY_TARGET, &req,
			   sizeof(req));
}

int xc_domain_subscribe(xc_interface *xch, xc_domain *dom)
{
	struct domus_ctl_subscribe req = { .events = DOMUS_CTL_EVENTS_STATE };
	int ret;

	/* Set first: an event may arrive before the reply, and it is already ours. */
	dom->subscribed = true;
	ret = simple_call(xch, dom, "subscribe", DOMUS_CTL_SUBSCRIBE, &req, sizeof(req));
	if (ret)
		dom->subscribed = false;
	return ret;
}

/* A VMM that closed our connection for good is exiting: give it a second to be gone. */
static bool vmm_gone_soon(const xc_domain *dom)
{
	const struct timespec tick = { .tv_nsec = 10000000 };

	for (int i = 0; i < 100; i++) {
		if (!vmm_alive(dom))
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

int xc_domain_wait_event(xc_interface *xch, xc_domain *dom, int timeout_ms,
			 xc_domain_event *ev)
{
	int64_t deadline = xc__deadline_after(timeout_ms);
	struct xc__event *e;

	if (!dom->subscribed)
		return xc__error(xch, -EINVAL, "wait for an event: not subscribed");
	while (!dom->events) {
		int64_t left = deadline < 0 ? -1 : deadline - xc__now_ms();
		int ret;

		if (deadline >= 0 && left < 0)
			left = 0;
		ret = xc__poll_events(xch, dom, (int)left);
		if (ret == -ETIMEDOUT)
			return xc__error(xch, ret, "wait for an event: none within %d ms",
					 timeout_ms);
		if (ret && !dom->ended && dom->fd < 0 && dom->pid && vmm_gone_soon(dom)) {
			/* Gone without its last event: killed, or a crash of its own. */
			dom->ended = true;
			*ev = (xc_domain_event){ .state = XC_DOMSTATE_CRASHED,
						 .reason = XC_REASON_VMM_DIED, .exit_status = -1 };
			snprintf(ev->message, sizeof(ev->message), "the VMM (pid %d) died",
				 (int)dom->pid);
			return 0;
		}
		if (ret)
			return ret;
	}
	e = dom->events;
	dom->events = e->next;
	dom->nr_events--;
	*ev = e->ev;
	free(e);
	return 0;
}

int xc_domain_event_fd(xc_interface *xch, xc_domain *dom)
{
	if (dom->fd >= 0)
		return dom->fd;
	return xc__error(xch, -ENOTCONN, "event fd: the VMM is gone");
}

int xc_domain_console_fd(xc_interface *xch, xc_domain *dom, int *ret_fd)
{
	struct xc__reply r;
	int ret;

	ret = xc__call(xch, dom, "console", DOMUS_CTL_GET_CONSOLE, NULL, 0, &r);
	if (ret)
		return ret;
	ret = r.status;
	/* The VMM's words name its own options; a created domain's are the build config's. */
	if (ret == -EOPNOTSUPP && dom->domid)
		xc__error(xch, ret, "console: domain %" PRIu32 " has no console to attach to (it "
			  "was built with its console to a file or to nowhere)", dom->domid);
	else if (ret)
		xc__reply_check(xch, "console", &r, 0);
	else if (r.fd < 0)
		ret = xc__error(xch, -EPROTO, "console: the reply carried no file descriptor");
	else
		*ret_fd = steal_fd(r.fd);
	xc__reply_dispose(&r);
	return ret;
}

int xc_domain_set_max_memory(xc_interface *xch, xc_domain *dom, uint64_t bytes)
{
	struct xc__record rec;
	xc_dominfo info;
	int lock, ret;

	if (!dom->domid)
		return xc__error(xch, -EOPNOTSUPP, "set max memory: only for domains from the "
				 "registry");
	xc_dominfo_init(&info);
	ret = xc_domain_getinfo(xch, dom, &info);
	if (ret)
		return ret;
	if (bytes < (2ULL << 20) || bytes > info.mem_bytes)
		ret = xc__error(xch, -ERANGE, "set max memory: %" PRIu64 " MiB: must be 2 MiB to "
				"the domain's RAM (%" PRIu64 " MiB)", bytes >> 20,
				info.mem_bytes >> 20);
	else if (info.mem_target_bytes > bytes)
		ret = info.has_balloon ? xc_domain_set_memory_target(xch, dom, bytes)
				       : xc__error(xch, -EOPNOTSUPP, "set max memory: below the "
						   "RAM it has, and it has no balloon");
	xc_dominfo_dispose(&info);
	if (ret)
		return ret;
	lock = xc__registry_lock(xch);
	if (lock < 0)
		return lock;
	ret = xc__record_read(xch, dom->domid, &rec);
	if (!ret) {
		rec.max_mem_bytes = bytes;
		ret = xc__record_write(xch, &rec);
	}
	close(lock);
	return ret;
}
