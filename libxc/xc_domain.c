// SPDX-License-Identifier: GPL-2.0-or-later
/* Domain handles and the calls on them: one call, one control message (domus/control.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	       SAME(XC_REASON_TEST_EXIT, DOMUS_CTL_REASON_TEST_EXIT), "reasons match the wire");

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
	struct xc__reply r;
	int ret;

	ret = xc__call(xch, dom, what, type, body, len, &r);
	if (ret)
		return ret;
	ret = r.status;
	if (ret)
		xc__error(xch, ret, "%s: %s", what, r.msg[0] ? r.msg : strerror(-ret));
	xc__reply_dispose(&r);
	return ret;
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
	} else if (ret) {
		xc__error(xch, ret, "hello: %s", r.msg[0] ? r.msg : strerror(-ret));
	} else if (r.payload_len < sizeof(dom->hello)) {
		ret = xc__error(xch, -EPROTO, "hello: short reply");
	} else {
		memcpy(&dom->hello, r.payload, sizeof(dom->hello));
	}
	xc__reply_dispose(&r);
	return ret;
}

int xc_domain_connect(xc_interface *xch, const char *control_path, xc_domain **ret_dom)
{
	xc_domain *dom;
	int fd, ret;

	fd = xc__connect(control_path);
	if (fd < 0)
		return xc__error(xch, fd, "connect to %s: %s", control_path, strerror(-fd));
	dom = calloc(1, sizeof(*dom));
	if (dom)
		dom->control_path = strdup(control_path);
	if (!dom || !dom->control_path) {
		close(fd);
		free(dom);
		return xc__error(xch, -ENOMEM, "connect to %s: out of memory", control_path);
	}
	dom->fd = fd;
	dom->next_id = 1;
	ret = hello(xch, dom);
	if (ret) {
		domain_free(dom);
		return ret;
	}
	dom->next = xch->domains;
	xch->domains = dom;
	*ret_dom = dom;
	return 0;
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

int xc_domain_getinfo(xc_interface *xch, xc_domain *dom, xc_dominfo *info)
{
	struct xc__reply r;
	int ret;

	xc_dominfo_dispose(info);
	ret = xc__call(xch, dom, "getinfo", DOMUS_CTL_GET_INFO, NULL, 0, &r);
	if (ret)
		return ret;
	ret = r.status;
	if (ret)
		xc__error(xch, ret, "getinfo: %s", r.msg[0] ? r.msg : strerror(-ret));
	else
		ret = fill_dominfo(xch, &r, info);
	xc__reply_dispose(&r);
	return ret;
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

int xc_domain_destroy(xc_interface *xch, xc_domain *dom)
{
	return simple_call(xch, dom, "destroy", DOMUS_CTL_DESTROY, NULL, 0);
}

int xc_domain_set_memory_target(xc_interface *xch, xc_domain *dom, uint64_t bytes)
{
	struct domus_ctl_memory_target req = { .target_bytes = bytes };

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

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int xc_domain_wait_event(xc_interface *xch, xc_domain *dom, int timeout_ms,
			 xc_domain_event *ev)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct xc__event *e;

	if (!dom->subscribed)
		return xc__error(xch, -EINVAL, "wait for an event: not subscribed");
	while (!dom->events) {
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		int ret;

		if (deadline >= 0 && left < 0)
			left = 0;
		ret = xc__poll_events(xch, dom, (int)left);
		if (ret == -ETIMEDOUT)
			return xc__error(xch, ret, "wait for an event: none within %d ms",
					 timeout_ms);
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

int xc_domain_console_fd(xc_interface *xch, xc_domain *dom, int *ret_fd)
{
	struct xc__reply r;
	int ret;

	ret = xc__call(xch, dom, "console", DOMUS_CTL_GET_CONSOLE, NULL, 0, &r);
	if (ret)
		return ret;
	ret = r.status;
	if (ret)
		xc__error(xch, ret, "console: %s", r.msg[0] ? r.msg : strerror(-ret));
	else if (r.fd < 0)
		ret = xc__error(xch, -EPROTO, "console: the reply carried no file descriptor");
	else
		*ret_fd = steal_fd(r.fd);
	xc__reply_dispose(&r);
	return ret;
}
