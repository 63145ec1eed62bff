/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libxc: the Domus control library (Xen's libxc in spirit). The node manager and tools
 * use it to control domus-vmm processes; nothing else talks to a VMM directly.
 *
 * GENERAL
 *
 * Unless said otherwise, every function returns 0 (or a count) on success and a negative
 * errno value on failure, never -1 with errno set. After a failure, xc_last_error() on the
 * handle describes it in words ("pause: the VMM closed the connection"); the text stays
 * valid until the next failing call on that handle.
 *
 * An xc_interface and every xc_domain opened through it belong to one thread at a time.
 * libxc never logs, keeps no global state and starts no threads. Every file descriptor it
 * creates or receives is close-on-exec, and one it returns is the caller's to close.
 *
 * A call waits for its reply from the VMM for at most the handle's timeout (30 s unless
 * xc_interface_set_timeout() says otherwise). A connection that timed out in the middle of
 * a message cannot be trusted to be in step any more: later calls on that domain fail
 * with -ENOTCONN, and the domain has to be connected to again.
 *
 * Domain handles: an xc_domain is an open control connection to one domain's VMM
 * (libxc/include/domus/control.h is the protocol). Today a handle comes from
 * xc_domain_connect() with the path of the VMM's control socket; creating domains,
 * domids and the runtime registry under /run/domus will hand out the same handles.
 */
#ifndef DOMUS_XC_H
#define DOMUS_XC_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Feature macros: one per addition, so callers can build against several releases. */
#define XC_HAVE_DOMAIN_CONNECT		1	/* 0.1.0: connect, getinfo, pause ... destroy */
#define XC_HAVE_DOMAIN_EVENTS		1	/* 0.1.0: subscribe, wait_event */
#define XC_HAVE_DOMAIN_CONSOLE_FD	1	/* 0.1.0 */
#define XC_HAVE_DOMAIN_MEMORY_TARGET	1	/* 0.1.0 */

typedef struct xc_interface_core xc_interface;
typedef struct xc_domain xc_domain;

/* Domain states (xm list's r b p s c, plus dying). */
enum xc_domain_state {
	XC_DOMSTATE_RUNNING = 1,
	XC_DOMSTATE_BLOCKED = 2,	/* not reported yet: running covers it */
	XC_DOMSTATE_PAUSED = 3,
	XC_DOMSTATE_SHUTDOWN = 4,	/* the machine ended; see the reason */
	XC_DOMSTATE_CRASHED = 5,
	XC_DOMSTATE_DYING = 6,
};

/* Why a domain entered its state (xc_domain_event.reason). */
enum xc_domain_reason {
	XC_REASON_NONE = 0,
	XC_REASON_PAUSED = 1,		/* xc_domain_pause() */
	XC_REASON_UNPAUSED = 2,		/* xc_domain_unpause() */
	XC_REASON_POWEROFF = 3,		/* the guest powered off */
	XC_REASON_REBOOT = 4,		/* the guest asked for a reset */
	XC_REASON_CRASH = 5,		/* triple fault, KVM internal error */
	XC_REASON_DESTROYED = 6,	/* xc_domain_destroy(), or stopped by a signal */
	XC_REASON_HOST_ERROR = 7,	/* the VMM failed */
	XC_REASON_TEST_EXIT = 8,	/* tiny test guests: the test device's exit port */
};

/* "running", "paused", ...; "unknown" for values not listed above. Never NULL. */
const char *xc_domain_state_name(unsigned int state);
/* "poweroff", "reboot", "crash", "destroyed", ...; "unknown" likewise. Never NULL. */
const char *xc_domain_reason_name(unsigned int reason);

/**
 * xc_interface_open() - open a library handle.
 * @flags: reserved, 0.
 * @ret_xch: the new handle, written on success only.
 *
 * Return: 0, -EINVAL for unknown flags, -ENOMEM. Close it with xc_interface_close().
 */
/*
 * xc_parse_size() - "512M", "2G", "65536K", "1GiB"; a plain number is MiB (like xm's
 * memory= and QEMU's -m). Return: 0, -EINVAL for a malformed size, -ERANGE on overflow.
 */
int xc_parse_size(const char *s, uint64_t *out);

int xc_interface_open(unsigned int flags, xc_interface **ret_xch);

/* Close the handle and every domain handle still open through it. NULL is a no-op. */
void xc_interface_close(xc_interface *xch);

/* The last failure on @xch in words; "" if nothing failed yet. Owned by the handle. */
const char *xc_last_error(xc_interface *xch);

/* How long a call waits for the VMM (default 30000 ms). Return: 0, -EINVAL if <= 0. */
int xc_interface_set_timeout(xc_interface *xch, int timeout_ms);

/**
 * xc_domain_connect() - connect to a running domain's VMM by its control socket.
 * @control_path: the socket domus-vmm was started with (--control PATH).
 * @ret_dom: the domain handle, written on success only.
 *
 * Says hello and checks that the VMM speaks our protocol version.
 * Return: 0; -ENOENT or -ECONNREFUSED if nothing serves @control_path; -EPROTONOSUPPORT if
 * the VMM speaks other versions only; -ETIMEDOUT. Close it with xc_domain_close().
 */
int xc_domain_connect(xc_interface *xch, const char *control_path, xc_domain **ret_dom);

/* Close a domain handle (the domain keeps running). NULL is a no-op. */
void xc_domain_close(xc_interface *xch, xc_domain *dom);

/* Per vCPU, in xc_dominfo.vcpus. */
typedef struct xc_vcpuinfo {
	unsigned int id;
	pid_t tid;			/* host thread (affinity, cgroups); 0 if not running */
	unsigned int running;		/* 1: the thread runs the vCPU (not paused or stopped) */
	uint64_t cpu_time_ns;
} xc_vcpuinfo;

/* A caller-allocated snapshot of a domain; xc_dominfo_init() before use. */
typedef struct xc_dominfo {
	unsigned int state;		/* enum xc_domain_state */
	unsigned int nr_vcpus;
	uint64_t mem_bytes;		/* guest RAM */
	uint64_t mem_target_bytes;	/* balloon target; mem_bytes without a balloon */
	uint64_t mem_actual_bytes;	/* what the guest's balloon driver says it kept */
	uint64_t uptime_ns;
	uint64_t cpu_time_ns;		/* all vCPUs */
	pid_t pid;			/* the VMM process */
	unsigned int has_console:1;	/* xc_domain_console_fd() can work */
	unsigned int has_balloon:1;	/* xc_domain_set_memory_target() can work */
	xc_vcpuinfo *vcpus;		/* nr_vcpus entries; owned, freed by _dispose() */
} xc_dominfo;

/* Make @info empty; idempotent. */
void xc_dominfo_init(xc_dominfo *info);
/* Free what @info owns and make it empty again; safe after a failed getinfo. */
void xc_dominfo_dispose(xc_dominfo *info);

/**
 * xc_domain_getinfo() - state, vCPUs (with thread ids and CPU time), memory, uptime.
 * @info: initialised by the caller; its previous contents are disposed of.
 *
 * Legal in every state while the VMM runs. Return: 0 or -errno.
 */
int xc_domain_getinfo(xc_interface *xch, xc_domain *dom, xc_dominfo *info);

/*
 * xc_domain_pause() - stop every vCPU; returns when none runs any more. Pausing a paused
 * domain succeeds and changes nothing. xc_domain_unpause() is the reverse.
 */
int xc_domain_pause(xc_interface *xch, xc_domain *dom);
int xc_domain_unpause(xc_interface *xch, xc_domain *dom);

/*
 * xc_domain_shutdown() - ask the guest to shut down: press the ACPI power button. Returns
 * once pressed; the domain ends when the guest powers off (a state event says so), or not
 * at all if the guest ignores the button (use xc_domain_destroy() then).
 */
int xc_domain_shutdown(xc_interface *xch, xc_domain *dom);

/*
 * xc_domain_destroy() - end the domain now, without asking the guest; the VMM exits with
 * status 4 (DOMUS_EXIT_STOPPED). Returns when the VMM accepted the request.
 */
int xc_domain_destroy(xc_interface *xch, xc_domain *dom);

/* A state change (xc_domain_wait_event()). */
typedef struct xc_domain_event {
	unsigned int state;		/* enum xc_domain_state */
	unsigned int reason;		/* enum xc_domain_reason */
	int exit_status;		/* the VMM's exit status (vmm-exit.h) once ended, else -1 */
	char message[256];		/* the VMM's words, e.g. "guest powered off (ACPI S5)" */
} xc_domain_event;

/*
 * xc_domain_subscribe() - from now on, queue the domain's state changes on @dom for
 * xc_domain_wait_event(). Changes before this call are not reported: read the state
 * with xc_domain_getinfo() after subscribing.
 */
int xc_domain_subscribe(xc_interface *xch, xc_domain *dom);

/**
 * xc_domain_wait_event() - the next state change, waiting up to @timeout_ms (-1: forever,
 * 0: only what has arrived).
 *
 * Return: 0 with @ev filled; -ETIMEDOUT; -ECONNRESET when the VMM closed the connection
 * (after its last event: the process is exiting or gone); -EINVAL without a subscription.
 */
int xc_domain_wait_event(xc_interface *xch, xc_domain *dom, int timeout_ms,
			 xc_domain_event *ev);

/**
 * xc_domain_console_fd() - a socket (or pty) connected to the guest's serial console:
 * what the guest writes can be read from it, what is written to it the guest receives.
 * Takes over the console from any earlier client.
 * @ret_fd: the caller's, close-on-exec.
 *
 * Return: 0; -EOPNOTSUPP if the VMM's console goes to stdio, a file or nowhere.
 */
int xc_domain_console_fd(xc_interface *xch, xc_domain *dom, int *ret_fd);

/**
 * xc_domain_set_memory_target() - ask the guest's balloon driver to keep @bytes of its
 * RAM (Xen's xm mem-set). The guest follows at its own pace: watch mem_actual_bytes.
 *
 * Return: 0; -EOPNOTSUPP without a balloon; -ERANGE above the guest's RAM.
 */
int xc_domain_set_memory_target(xc_interface *xch, xc_domain *dom, uint64_t bytes);

#ifdef __cplusplus
}
#endif

#endif
