/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libxc internals: the handles and the wire layer under the xc_* calls (xc__ prefix). */
#ifndef DOMUS_XC_PRIVATE_H
#define DOMUS_XC_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <domus/cleanup.h>
#include <domus/control.h>
#include <domus/xc.h>

#define XC_DEFAULT_TIMEOUT_MS	30000
#define XC_MAX_QUEUED_EVENTS	256	/* events nobody waited for yet; older ones are dropped */

struct xc__event {
	struct xc__event *next;
	xc_domain_event ev;
};

struct xc_interface_core {
	int timeout_ms;
	char *run_dir;			/* the registry; found on first use (xc__run_dir()) */
	char last_error[1024];
	struct xc_domain *domains;	/* open through this handle, to close with it */
};

struct xc_domain {
	struct xc_domain *next;		/* in xc_interface_core.domains */
	int fd;				/* the control connection; -1 once broken */
	bool gone;			/* the VMM closed the connection */
	bool ended;			/* the machine ended: the last event had an exit status */
	bool destroyed;			/* xc_domain_destroy() removed it */
	bool pending;			/* incoming migration: not connected until
					 * xc_domain_wait_running() */

	/* From the registry; zero for xc_domain_connect() handles. */
	uint32_t domid;
	char name[XC_NAME_MAX + 1];
	uint8_t uuid[16];
	pid_t pid;			/* the VMM, and its start time (pid reuse) */
	uint64_t pid_start;
	uint32_t next_id;
	char *control_path;
	struct domus_ctl_hello hello;
	bool subscribed;
	struct xc__event *events, *events_tail;
	unsigned int nr_events;
};

/* A reply as received: @body owns the payload and the text. */
struct xc__reply {
	int status;
	const uint8_t *payload;
	size_t payload_len;
	char msg[256];
	int fd;				/* passed with the reply, or -1; owned */
	uint8_t *body;
};

void xc__reply_dispose(struct xc__reply *r);

/* Record a failure for xc_last_error() and return @err (a -errno value). */
int xc__error(xc_interface *xch, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What a caller gave, for an error message: control bytes as \xNN, about 320 bytes. */
#define XC_QUOTED_MAX 328	/* 320 bytes of text, an escape begun there, "..." and NUL */
const char *xc__quoted(const char *s, char out[XC_QUOTED_MAX]);

/* ---- the registry (xc_registry.c) ---- */

/*
 * xc__read_line() - the next line of @f into @buf without its newline, skipping whole any
 * line longer than @len - 1 (a piece of one must not parse as a line of its own).
 * Return: false at end of file.
 */
bool xc__read_line(FILE *f, char *buf, size_t len);

/* A domain's record: <run dir>/<domid>/domain, key=value lines. */
struct xc__record {
	uint32_t domid;
	char name[XC_NAME_MAX + 1];
	uint8_t uuid[16];
	pid_t pid;			/* 0 while being built */
	uint64_t pid_start;		/* /proc/PID/stat starttime */
	pid_t creator;			/* who is building it (pid 0) */
	uint64_t creator_start;
	uint64_t ram_bytes, max_mem_bytes;
	unsigned int nr_vcpus;
	char cgroup[256];		/* the domain's cpu cgroup directory, or "" */
	unsigned int weight, cap;	/* as last set (xc_sched_credit_set()) */
};

/* The registry directory, created if needed. Return: 0 or -errno (described). */
int xc__run_dir(xc_interface *xch, const char **ret);
/* <run dir>/<domid>/<leaf> into @buf (PATH_MAX). */
int xc__domain_path(xc_interface *xch, uint32_t domid, const char *leaf, char *buf);
/* Exclusive lock on the registry (domid and name allocation). Return: an fd or -errno. */
int xc__registry_lock(xc_interface *xch);
int xc__record_read(xc_interface *xch, uint32_t domid, struct xc__record *rec);
int xc__record_write(xc_interface *xch, const struct xc__record *rec);
/* Every domid with a directory, ascending; free(*ret). Return: count or -errno. */
int xc__registry_scan(xc_interface *xch, uint32_t **ret);
/* Remove the domain's directory and everything in it, and its index links. */
void xc__registry_remove(xc_interface *xch, uint32_t domid);
void xc__registry_remove_files(xc_interface *xch, uint32_t domid);
/* The index (by-name/, by-uuid/): the domid a name or UUID string belongs to, or -ENOENT. */
int xc__index_find(xc_interface *xch, bool by_uuid, const char *key, uint32_t *domid);
/* Link @rec's name and UUID to its domid (under the registry lock). */
int xc__index_add(xc_interface *xch, const struct xc__record *rec);

/* Is process @pid still the one that started at @start (and not a zombie)? */
bool xc__process_alive(pid_t pid, uint64_t start);
/* /proc/PID/stat's starttime, or 0 if there is no such process. */
uint64_t xc__process_start(pid_t pid);

/* The exit record the VMM left (--exit-fd): 0 with @status, @reason (-1: not given) and @msg,
 * -ENOENT if none. */
int xc__exit_record_read(xc_interface *xch, uint32_t domid, int *status, int *reason,
			 char *msg, size_t msglen);
/* The VMM's exit status as a domain state and reason. */
void xc__exit_state(int status, unsigned int *state, unsigned int *reason);

/* ---- cgroups (xc_cgroup.c) ---- */

/* Make the domain's cpu cgroup; @path gets its directory. Return: 0, -EOPNOTSUPP, -errno. */
int xc__cgroup_create(xc_interface *xch, uint32_t domid, const uint8_t uuid[16], char *path,
		      size_t len);
void xc__cgroup_remove(const char *path);
int xc__cgroup_set_credit(xc_interface *xch, const char *path, const xc_sched_credit *sc);
int xc__cgroup_get_credit(xc_interface *xch, const char *path, xc_sched_credit *sc);

/* ---- connections ---- */

/* Connect (again) to the domain's control socket and say hello. */
int xc__domain_connect_fd(xc_interface *xch, xc_domain *dom);

/* CLOCK_MONOTONIC in milliseconds: the clock of every deadline in libxc. */
int64_t xc__now_ms(void);
/* The deadline @timeout_ms from now on that clock, or -1 for none (@timeout_ms < 0). */
int64_t xc__deadline_after(int timeout_ms);

/* Connect to @path; Return: a connected, close-on-exec, non-blocking socket or -errno. */
int xc__connect(const char *path);

/*
 * xc__call() - send one request and wait for its reply, queueing events that arrive
 * meanwhile. Return: 0 with @r filled (r->status says how the request went), or -errno
 * if no reply came (described in the handle's last error, prefixed with @what).
 */
int xc__call(xc_interface *xch, xc_domain *dom, const char *what, uint16_t type,
	     const void *body, size_t len, struct xc__reply *r);

/*
 * xc__call_fd() - as xc__call(), with @pass_fd (or -1) sent along with the request and a
 * timeout of its own (-1: none; a job's reply comes when the job ends). Not sent again
 * after a restart: a job does not survive one.
 */
int xc__call_fd(xc_interface *xch, xc_domain *dom, const char *what, uint16_t type,
		const void *body, size_t len, int pass_fd, int timeout_ms, struct xc__reply *r);

/*
 * xc__reply_check() - the reply's status (described with the VMM's words, prefixed with
 * @what, when it is an error), or -EPROTO if its payload is shorter than @min_payload.
 */
int xc__reply_check(xc_interface *xch, const char *what, const struct xc__reply *r,
		    size_t min_payload);

/*
 * xc__call_copy() - xc__call_fd() (or xc__call() if @pass_fd is -1, with the handle's
 * timeout) for a reply with a fixed-size payload (or none: @out_len 0), copied to @out.
 * Return: the reply's status or -errno, described.
 */
int xc__call_copy(xc_interface *xch, xc_domain *dom, const char *what, uint16_t type,
		  const void *body, size_t len, int pass_fd, void *out, size_t out_len);

/* A handle on a domain whose VMM does not serve yet (an incoming migration). */
int xc__domain_open_pending(xc_interface *xch, uint32_t domid, xc_domain **ret_dom);

/* The VMM's last words for a failure: its exit record's message, else its log's last line. */
void xc__vmm_last_words(xc_interface *xch, const char *log_path, uint32_t domid, char *msg,
			size_t len);

/* Queue a state change libxc noticed itself, unless the last queued event says it. */
void xc__queue_state(xc_domain *dom, unsigned int state, unsigned int reason, const char *msg);

/* Wait up to @timeout_ms for one message and queue it if it is an event. */
int xc__poll_events(xc_interface *xch, xc_domain *dom, int timeout_ms);

#endif
