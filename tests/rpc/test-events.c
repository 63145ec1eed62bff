// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Event delivery of the remote program: the daemon's own dispatch and procedure tables
 * with the empty backend, in-process, on a real socket. The test plays the backend's part
 * by calling the event sink (remote_event_lifecycle / _reboot / _job_completed) from its own
 * thread, as a
 * backend would, and checks which callback-style messages a raw client gets.
 */
#include <string.h>
#include <unistd.h>

#include "remote/remote.h"
#include "testlib.h"

#define EV_STARTED 2
#define EV_BOOTED 0
#define PROC_REGISTER 316
#define PROC_DEREGISTER 317

static struct virtd d;
static struct test_server ts;

static const uint8_t uuid1[16] = { 1, 1, 1, 1 }, uuid2[16] = { 2, 2, 2, 2 };

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static void open_conn(int fd)
{
	/* CONNECT_OPEN(name NULL = probe, flags 0) */
	uint8_t args[8] = { 0 };
	size_t n;

	g_free(test_call(fd, 66, 0, NULL, 0, &n));
	g_free(test_call(fd, 1, 1, args, sizeof(args), &n));
}

/* REGISTER_ANY(eventID, dom filter or NULL); Return: the callbackID. */
static int register_event(int fd, unsigned int serial, int event_id, const uint8_t *uuid)
{
	uint8_t args[4 + 4 + 4 + 4 + 16 + 4];
	size_t len = 8, n;
	g_autofree uint8_t *r = NULL;

	put32(args, event_id);
	put32(args + 4, uuid != NULL);
	if (uuid) {
		put32(args + 8, 1);	/* name "x" */
		memcpy(args + 12, "x\0\0\0", 4);
		memcpy(args + 16, uuid, 16);
		put32(args + 32, -1);
		len = sizeof(args);
	}
	r = test_call(fd, PROC_REGISTER, serial, args, len, &n);
	g_assert_cmpuint(n, ==, 4);
	return get32(r);
}

static struct domain_summary dom(const uint8_t *uuid, const char *name)
{
	struct domain_summary s = { .id = 3, .state = DOMAIN_RUNNING };

	memcpy(s.uuid, uuid, 16);
	g_strlcpy(s.name, name, sizeof(s.name));
	return s;
}

/* The next packet must be an event @proc for @callback about @name. */
static void expect_event(int fd, int proc, int callback, const char *name)
{
	rp_header h;
	size_t n;
	g_autofree uint8_t *p = test_recv(fd, &h, &n);
	size_t nl = strlen(name);

	g_assert_cmpint(h.type, ==, RP_MESSAGE);
	g_assert_cmpint(h.proc, ==, proc);
	g_assert_cmpint((int)get32(p), ==, callback);
	g_assert_cmpuint(get32(p + 4), ==, nl);
	g_assert_true(memcmp(p + 8, name, nl) == 0);
	if (proc == RP_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE) {
		size_t off = 8 + ((nl + 3) & ~3u) + 16 + 4;

		g_assert_cmpuint(n, ==, off + 8);
		g_assert_cmpint((int)get32(p + off), ==, EV_STARTED);
		g_assert_cmpint((int)get32(p + off + 4), ==, EV_BOOTED);
	}
}

/* Nothing else queued: the next packet is the reply to a fresh call. */
static void expect_nothing_more(int fd, unsigned int serial)
{
	size_t n;

	g_usleep(100 * 1000);	/* events go through the I/O thread's queue */
	g_free(test_call(fd, 3, serial, NULL, 0, &n));
}

static void test_delivery(void)
{
	int a = test_connect(&ts), b = test_connect(&ts);
	struct domain_summary d1 = dom(uuid1, "vm-one"), d2 = dom(uuid2, "vm2");
	int cb_all, cb_d1, cb_reboot, cb_b;

	open_conn(a);
	open_conn(b);
	cb_all = register_event(a, 10, 0, NULL);
	cb_d1 = register_event(a, 11, 0, uuid1);
	cb_reboot = register_event(a, 12, 1, NULL);
	cb_b = register_event(b, 10, 0, uuid2);
	g_assert_cmpint(cb_all, !=, cb_d1);

	/* from this (non-I/O) thread, as a backend reports */
	remote_event_lifecycle(&d, &d1, EV_STARTED, EV_BOOTED);
	expect_event(a, RP_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, cb_all, "vm-one");
	expect_event(a, RP_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, cb_d1, "vm-one");
	expect_nothing_more(a, 20);
	expect_nothing_more(b, 20);	/* b filters on vm2 */

	remote_event_lifecycle(&d, &d2, EV_STARTED, EV_BOOTED);
	remote_event_reboot(&d, &d2);
	expect_event(a, RP_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, cb_all, "vm2");
	expect_event(a, RP_PROC_DOMAIN_EVENT_CALLBACK_REBOOT, cb_reboot, "vm2");
	expect_event(b, RP_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, cb_b, "vm2");

	/* deregistered callbacks get nothing */
	uint8_t id[4];
	size_t n;

	put32(id, cb_all);
	g_free(test_call(a, PROC_DEREGISTER, 21, id, 4, &n));
	remote_event_lifecycle(&d, &d2, EV_STARTED, EV_BOOTED);
	expect_nothing_more(a, 22);

	/* a client that left: its registrations go with it, delivery to others goes on */
	close(a);
	g_usleep(50 * 1000);
	remote_event_lifecycle(&d, &d2, EV_STARTED, EV_BOOTED);
	expect_event(b, RP_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, cb_b, "vm2");
	close(b);
}

static const rp_typed_param *find_param(const rp_event_job_completed_msg *m, const char *f)
{
	for (u_int i = 0; i < m->params.params_len; i++)
		if (!strcmp(m->params.params_val[i].field, f))
			return &m->params.params_val[i];
	g_error("no typed param %s in the JOB_COMPLETED event", f);
}

/* JOB_COMPLETED (21): the finished job's statistics as typed params, what virsh shows. */
static void test_job_completed(void)
{
	struct domain_job_info job = { .type = DOMAIN_JOB_COMPLETED, .elapsed_ms = 1234,
				       .operation = DOMAIN_JOB_OP_SAVE, .data_total = 1 << 20,
				       .data_processed = 1 << 20, .bps = 4096 };
	struct domain_summary d1 = dom(uuid1, "vm-one");
	rp_event_job_completed_msg m = { 0 };
	int fd = test_connect(&ts), cb;
	g_autofree uint8_t *p = NULL;
	rp_header h;
	size_t n;
	XDR x;

	open_conn(fd);
	cb = register_event(fd, 10, 21, NULL);
	remote_event_job_completed(&d, &d1, &job);
	p = test_recv(fd, &h, &n);
	g_assert_cmpint(h.type, ==, RP_MESSAGE);
	g_assert_cmpint(h.proc, ==, RP_PROC_DOMAIN_EVENT_CALLBACK_JOB_COMPLETED);
	xdrmem_create(&x, (char *)p, n, XDR_DECODE);
	g_assert_true(xdr_rp_event_job_completed_msg(&x, &m));
	g_assert_cmpuint(xdr_getpos(&x), ==, n);
	xdr_destroy(&x);
	g_assert_cmpint(m.callbackID, ==, cb);
	g_assert_cmpstr(m.dom.name, ==, "vm-one");
	g_assert_cmpint(find_param(&m, "operation")->value.rp_typed_param_value_u.i, ==,
			DOMAIN_JOB_OP_SAVE);
	g_assert_cmpuint(find_param(&m, "time_elapsed")->value.rp_typed_param_value_u.ul, ==,
			 1234);
	g_assert_cmpuint(find_param(&m, "data_processed")->value.rp_typed_param_value_u.ul, ==,
			 1 << 20);
	g_assert_true(find_param(&m, "success")->value.rp_typed_param_value_u.b);
	xdr_free((xdrproc_t)xdr_rp_event_job_completed_msg, (char *)&m);
	expect_nothing_more(fd, 20);
	close(fd);
}

int main(int argc, char **argv)
{
	struct rpc_server_config cfg = { .max_clients = 10, .max_queued_out = 64 << 20 };
	struct domain_event_sink sink = { .lifecycle = remote_event_lifecycle,
					  .reboot = remote_event_reboot,
					  .job_completed = remote_event_job_completed,
					  .opaque = &d };
	GMainContext *ctx;
	int ret;

	g_test_init(&argc, &argv, NULL);
	ctx = g_main_context_new();
	d.ctx = ctx;
	d.uri = "domus:///system";
	d.cfg = (struct virtd_config){ .max_clients = 10, .max_workers = 2,
				       .max_client_requests = 2, .emulator = (char *)"/x" };
	d.srv = rpc_server_new(ctx, &cfg, &remote_server_ops, &d);
	d.backend = domain_backend_none_new(&sink);
	remote_init(&d);
	test_server_start(&ts, ctx, d.srv);
	g_test_add_func("/events/delivery", test_delivery);
	g_test_add_func("/events/job-completed", test_job_completed);
	ret = g_test_run();
	test_server_stop(&ts);
	d.srv = NULL;
	remote_shutdown(&d);
	domain_backend_free(d.backend);
	g_main_context_unref(ctx);
	return ret;
}
