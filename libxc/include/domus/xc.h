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
 * Domains: xc_domain_create() builds a domain from an xc_build_config: it allocates a domid,
 * records the domain in the runtime registry, opens everything the VMM needs (/dev/kvm, the
 * kernel, disks, taps, the control socket) and starts domus-vmm with those descriptors,
 * detached from the caller, so that domains outlive the process that created them. Any
 * later process finds them again by domid, name or UUID (xc_domain_open(),
 * xc_domain_lookup(), xc_domain_list()).
 *
 * The registry is a directory: /run/domus for root, $XDG_RUNTIME_DIR/domus otherwise, or
 * $DOMUS_RUN_DIR. Each domain has a subdirectory named by its domid with its record, its
 * control socket, the VMM's log and its exit record (docs/libxc.md). A domain whose VMM
 * ended (the guest powered off or crashed, or the VMM died) stays there, in state shutdown
 * or crashed with the reason, until xc_domain_destroy() removes it: like a Xen domain, it
 * is not gone before the toolstack says so.
 *
 * An xc_domain is an open handle on one domain: usually a control connection to its VMM
 * (libxc/include/domus/control.h is the protocol). xc_domain_connect() opens one on a bare
 * control socket, for VMMs started by hand. When the guest reboots, the VMM rebuilds the
 * machine in the same process; the handle connects again by itself.
 */
#ifndef DOMUS_XC_H
#define DOMUS_XC_H

#include <sched.h>
#include <stdbool.h>
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
#define XC_HAVE_DOMAIN_CREATE		1	/* 0.1.0: create, open, lookup, list, registry */
#define XC_HAVE_DOMAIN_REBOOT		1	/* 0.1.0: reboot, reset */
#define XC_HAVE_VCPU_AFFINITY		1	/* 0.1.0 */
#define XC_HAVE_SCHED_CREDIT		1	/* 0.1.0: weight and cap */
#define XC_HAVE_DOMAIN_STATS		1	/* 0.1.0: block, network, balloon */
#define XC_HAVE_DOMAIN_SAVE		1	/* 0.1.0: save, restore, migrate, jobs */

typedef struct xc_interface_core xc_interface;
typedef struct xc_domain xc_domain;

/* Domain states (xm list's r b p s c, plus dying). */
enum xc_domain_state {
	XC_DOMSTATE_RUNNING = 1,
	XC_DOMSTATE_BLOCKED = 2,	/* not reported yet: running covers it */
	XC_DOMSTATE_PAUSED = 3,
	XC_DOMSTATE_SHUTDOWN = 4,	/* the machine ended; see the reason */
	XC_DOMSTATE_CRASHED = 5,
	XC_DOMSTATE_DYING = 6,		/* ended, but the VMM did not exit within the timeout */
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
	XC_REASON_SAVED = 32,		/* xc_domain_save() with stop: the state is in a file */
	XC_REASON_MIGRATED = 33,	/* xc_domain_migrate(): it runs elsewhere now */
	/* 64 and up: libxc's own, never on the wire. */
	XC_REASON_VMM_DIED = 64,	/* the VMM ended without saying how (killed) */
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

/* ---- domains: create, find, list ---- */

#define XC_NAME_MAX 64		/* bytes of a domain name */
#define XC_MAX_VCPUS 255

typedef struct xc_disk_config {
	const char *path;		/* raw image or block device */
	bool readonly;
	const char *serial;		/* up to 20 bytes, or NULL */
} xc_disk_config;

typedef struct xc_nic_config {
	const char *tap;		/* tap name; NULL: "dom<domid>.<n>" (made by libxc) */
	const char *bridge;		/* attach the tap to this bridge, or NULL */
	uint8_t mac[6];			/* all zero: a random locally administered one */
} xc_nic_config;

enum xc_console_kind {
	XC_CONSOLE_PTY = 0,		/* a pty; xc_domain_console_fd() opens it */
	XC_CONSOLE_SOCKET = 1,		/* a Unix socket in the registry; likewise */
	XC_CONSOLE_FILE = 2,		/* append to console_path (no input) */
	XC_CONSOLE_NONE = 3,
};

/* What a domain is built from. Zero is the default for every field but name and kernel. */
typedef struct xc_build_config {
	const char *name;		/* required: 1-64 printable bytes, no '/', unique */
	uint8_t uuid[16];		/* all zero: a random (version 4) UUID; else unique */
	const char *kernel;		/* required: bzImage (or an ELF64 test guest) */
	const char *initrd, *cmdline;
	uint64_t max_mem_bytes;		/* guest RAM (Xen's maxmem); 0: mem_bytes */
	uint64_t mem_bytes;		/* what the guest starts with (Xen's memory); 0: 256 MiB.
					 * Below max_mem_bytes needs a balloon */
	unsigned int nr_vcpus;		/* 0: 1 */
	const xc_disk_config *disks;
	unsigned int nr_disks;
	const xc_nic_config *nics;
	unsigned int nr_nics;
	unsigned int console;		/* enum xc_console_kind */
	const char *console_path;	/* XC_CONSOLE_FILE */
	bool rng;
	bool balloon;
	bool start_paused;		/* return with the vCPUs not started yet */
	unsigned int weight, cap;	/* xc_sched_credit_set(); 0: 256 and no cap */
	const char *log_path;		/* the VMM's stderr; NULL: vmm.log in the registry */
	uid_t uid;			/* run the VMM as this user (0: as the caller), with */
	gid_t gid;			/* only the descriptors libxc passed it */
	const char *vmm_path;		/* NULL: $DOMUS_VMM, else the installed domus-vmm */
	/*
	 * Restore or receive a domain instead of booting one (docs/libxc.md, "Save, restore
	 * and migration"): the same name, UUID and devices as the saved domain; kernel and
	 * initrd (optional here) are for the machine after a reboot.
	 */
	const char *restore_path;	/* a file from xc_domain_save(); memory and vCPUs may
					 * be left 0: they are read from it */
	bool incoming;			/* receive a live migration on incoming_fd (a
					 * connected socket, given to the VMM); create returns
					 * once the VMM waits for it: xc_domain_wait_running() */
	int incoming_fd;
	const char *const *vmm_args;	/* extra options, NULL-terminated (tests) */
} xc_build_config;

/**
 * xc_domain_create() - build and start a domain.
 * @ret_dom: a handle on it, written on success only; @ret_domid likewise (may be NULL).
 *
 * Returns when the guest runs (or is paused, with start_paused). On failure nothing of the
 * domain is left behind, and the last error says why, in the VMM's words if it started.
 * Return: 0; -EINVAL for a bad config; -EEXIST for a name or UUID in use; -ENOENT for a
 * missing kernel, initrd or disk; -EBUSY for a disk another domain (or process) has
 * locked: any lock to write it, a write lock to read it; -EACCES, -EPERM; -EIO if the VMM
 * failed to start.
 */
int xc_domain_create(xc_interface *xch, const xc_build_config *cfg, xc_domain **ret_dom);

/* Open a handle on domain @domid. Return: 0; -ESRCH if there is no such domain. */
int xc_domain_open(xc_interface *xch, uint32_t domid, xc_domain **ret_dom);

/*
 * xc_domain_kill() - end domain @domid's VMM at once (SIGKILL), without talking to it: for
 * a VMM that does not answer yet, an incoming migration that has not arrived. The
 * registry entry and the resources stay for the handle that created it, whose
 * xc_domain_wait_running() then reports the end (-EIO) and cleans up; any other domain is
 * cleaned up by xc_domain_destroy() as after a crash. Return: 0; -ESRCH no such domain, or
 * it has ended.
 */
int xc_domain_kill(xc_interface *xch, uint32_t domid);

/*
 * xc_domain_lookup() - a domain's domid from what a user typed: a domid, a name or a UUID
 * (as xm and virsh accept), tried in the order domid, UUID, name as virsh does (a domain
 * may be named "4"). Return: 0; -ESRCH if nothing matches.
 */
int xc_domain_lookup(xc_interface *xch, const char *what, uint32_t *ret_domid);

/* Every domain in the registry, by ascending domid; free(*ret_domids). Return: the count. */
int xc_domain_list(xc_interface *xch, uint32_t **ret_domids);

uint32_t xc_domain_id(const xc_domain *dom);		/* 0 for xc_domain_connect() handles */
const char *xc_domain_name(const xc_domain *dom);	/* "" likewise */
const uint8_t *xc_domain_uuid(const xc_domain *dom);	/* 16 bytes; zero likewise */

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (37 bytes with the NUL) and back. */
void xc_uuid_format(const uint8_t uuid[16], char out[37]);
int xc_uuid_parse(const char *s, uint8_t uuid[16]);	/* 0 or -EINVAL */

/* Per vCPU, in xc_dominfo.vcpus. */
typedef struct xc_vcpuinfo {
	unsigned int id;
	pid_t tid;			/* host thread (affinity, cgroups); 0 if not running */
	unsigned int running;		/* 1: the thread runs the vCPU (not paused or stopped) */
	uint64_t cpu_time_ns;
} xc_vcpuinfo;

/* A caller-allocated snapshot of a domain; xc_dominfo_init() before use. */
typedef struct xc_dominfo {
	uint32_t domid;			/* 0 for xc_domain_connect() handles */
	char name[XC_NAME_MAX + 1];
	uint8_t uuid[16];
	unsigned int state;		/* enum xc_domain_state */
	unsigned int reason;		/* why it is in that state, for shutdown and crashed */
	int exit_status;		/* the VMM's, once it ended; else -1 */
	uint64_t max_mem_bytes;		/* what xc_domain_set_max_memory() allows */
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
 * xc_domain_destroy() - end the domain now, without asking the guest, and remove it: the
 * VMM exits (status 4, killed if it does not within the timeout) and, for a domain from the
 * registry, its record, cgroup and sockets go. A domain that already ended is just removed.
 * Afterwards only xc_domain_close() is useful on @dom. For an xc_domain_connect() handle it
 * returns when the VMM accepted the request.
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
 * A VMM that dies without its last event (killed) gives one last event of its own: crashed,
 * reason XC_REASON_VMM_DIED.
 * Return: 0 with @ev filled; -ETIMEDOUT; -ECONNRESET when the VMM closed the connection
 * (after its last event: the process is exiting or gone); -EINVAL without a subscription.
 */
int xc_domain_wait_event(xc_interface *xch, xc_domain *dom, int timeout_ms,
			 xc_domain_event *ev);

/*
 * xc_domain_event_fd() - the descriptor to poll() for POLLIN in an event loop: when it is
 * readable, call xc_domain_wait_event() with timeout 0 until it returns -ETIMEDOUT. The
 * descriptor changes when the handle connects again (after a reboot): ask for it after
 * every wait. Return: the fd (still the handle's), or -ENOTCONN once the VMM is gone.
 */
int xc_domain_event_fd(xc_interface *xch, xc_domain *dom);

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
 * Return: 0; -EOPNOTSUPP without a balloon; -ERANGE above the domain's max memory (the
 * guest's RAM unless xc_domain_set_max_memory() lowered it).
 */
int xc_domain_set_memory_target(xc_interface *xch, xc_domain *dom, uint64_t bytes);

/*
 * xc_domain_set_max_memory() - the most the balloon target may be set to (Xen's mem-max).
 * RAM cannot grow past what the domain was built with; a target above the new maximum is
 * lowered to it. Return: 0; -ERANGE above the guest's RAM or below 2 MiB.
 */
int xc_domain_set_max_memory(xc_interface *xch, xc_domain *dom, uint64_t bytes);

/*
 * xc_domain_reboot() - ask the guest to reboot: the ACPI power button, and the guest's
 * poweroff then restarts the machine (libvirt's ACPI reboot). xc_domain_reset() restarts
 * it at once, like the reset button. The domain keeps its domid, pid and handles; state
 * events say "running, reboot" when the new machine starts.
 */
int xc_domain_reboot(xc_interface *xch, xc_domain *dom);
int xc_domain_reset(xc_interface *xch, xc_domain *dom);

/*
 * xc_vcpu_setaffinity() - run vCPU @vcpu only on the host CPUs in @cpus. Kept across
 * reboots. xc_vcpu_getaffinity() reads it back. Return: 0; -EINVAL for a vCPU the domain
 * does not have or an empty set; -ESRCH if the domain is not running.
 */
int xc_vcpu_setaffinity(xc_interface *xch, xc_domain *dom, unsigned int vcpu,
			const cpu_set_t *cpus);
int xc_vcpu_getaffinity(xc_interface *xch, xc_domain *dom, unsigned int vcpu,
			cpu_set_t *cpus);

/*
 * The credit scheduler's parameters (Xen's sched-credit), enforced with the domain's cgroup
 * (cgroup v2 cpu.weight and cpu.max, or v1 cpu.shares and the CFS quota), whichever the
 * host has. weight: 1-65535, relative CPU share under contention (default 256). cap: the
 * most CPU the whole domain may use, in percent of one host CPU (0 = no cap; 150 = one and
 * a half CPUs).
 */
typedef struct xc_sched_credit {
	unsigned int weight;
	unsigned int cap;
} xc_sched_credit;

/* Return: 0; -EINVAL out of range; -EOPNOTSUPP without a cpu cgroup controller. */
int xc_sched_credit_set(xc_interface *xch, xc_domain *dom, const xc_sched_credit *sc);
int xc_sched_credit_get(xc_interface *xch, xc_domain *dom, xc_sched_credit *sc);

/* Statistics (xc_domain_get_stats()). */
typedef struct xc_blk_stats {
	uint64_t rd_reqs, rd_bytes, wr_reqs, wr_bytes, flush_reqs, discard_reqs, errors;
} xc_blk_stats;

typedef struct xc_net_stats {
	char ifname[16];		/* the tap */
	uint8_t mac[6];
	uint64_t rx_bytes, rx_packets, rx_errors, rx_drops;	/* to the guest */
	uint64_t tx_bytes, tx_packets, tx_errors, tx_drops;	/* from the guest */
} xc_net_stats;

/* The guest balloon driver's own report, by virtio tag (VIRTIO_BALLOON_S_*). */
#define XC_BALLOON_STATS 10

typedef struct xc_domstats {
	unsigned int nr_disks, nr_nics;
	xc_blk_stats *disks;		/* vda, vdb, ... */
	xc_net_stats *nics;
	uint32_t balloon_valid;		/* bit n: balloon[n] was reported */
	uint64_t balloon[XC_BALLOON_STATS];
	uint64_t balloon_age_ns;	/* since the guest's last report; 0: none yet */
} xc_domstats;

void xc_domstats_dispose(xc_domstats *st);	/* frees the arrays; zeroes @st */
int xc_domain_get_stats(xc_interface *xch, xc_domain *dom, xc_domstats *st);

/* ---- save, restore, live migration (docs/libxc.md) ---- */

#define XC_SAVE_STOP	(1u << 0)	/* end the domain once saved (reason saved) */

typedef struct xc_save_result {
	uint64_t bytes;			/* stream length */
	uint64_t pages;			/* non-zero pages in it */
	uint64_t write_ns;		/* writing and syncing */
	uint64_t paused_ns;		/* how long the guest was paused for it */
} xc_save_result;

/*
 * xc_domain_save() - write the domain's state to @fd (a file, pipe or socket open for
 * writing; libxc keeps its own descriptor, the VMM gets a copy). Blocks until the save is
 * over (no timeout): progress and cancel go through another handle on the same domain
 * (xc_domain_open() again, in another thread or process): xc_domain_get_job(),
 * xc_domain_abort_job(). With XC_SAVE_STOP the domain then ends, state shutdown with reason
 * saved, and stays in the registry so until xc_domain_destroy(). Return: 0; -EBUSY another
 * job runs; -ECANCELED aborted (the guest runs on; the partial file is the caller's);
 * -errno the write failed (the guest runs on).
 */
int xc_domain_save(xc_interface *xch, xc_domain *dom, int fd, unsigned int flags,
		   xc_save_result *result);

/*
 * xc_save_file_open() - create or open @path (@mode if created) to save into, without
 * destroying what it holds while a VMM still reads it: a domain restored lazily from this
 * very file holds an OFD read lock on it until all its memory is in (docs/savestate.md,
 * "Lazy restore"). Takes an OFD write lock, waiting up to 30 s for readers to let go, then
 * truncates the file (a FIFO or a device is returned as opened, unlocked). The lock goes with
 * the descriptor. Return: the descriptor, or -errno
 * with the error set (-EBUSY: still read after 30 s).
 */
int xc_save_file_open(xc_interface *xch, const char *path, unsigned int mode);

typedef struct xc_migrate_params {
	uint32_t max_downtime_ms;	/* 0: 300 */
	uint64_t bandwidth;		/* bytes per second; 0: no limit */
	bool auto_converge;		/* throttle a guest that dirties faster than the link */
} xc_migrate_params;

typedef struct xc_migrate_result {
	uint64_t bytes, pages, total_ns, downtime_ns;
	uint32_t rounds, final_pages, throttle;
} xc_migrate_result;

/*
 * A migration's TCP connection (the socket given to xc_domain_migrate_send() and an
 * incoming domain's incoming_fd) gets keepalive probes after XC_MIGRATE_KEEPIDLE_S of
 * silence and is given up (ETIMEDOUT) once what it sent has gone unacknowledged for
 * XC_MIGRATE_DEAD_PEER_MS: a cut link or a dead host fails the migration in about that
 * long, while a slow link that still carries data does not (docs/savestate.md).
 */
#define XC_MIGRATE_DEAD_PEER_MS		10000
#define XC_MIGRATE_KEEPIDLE_S		2

/* Those settings on @fd, done by libxc itself for the sockets above; for a manager's own
 * connections of a migration (virtdomusd's to the other daemon). Not TCP: nothing, 0. */
int xc_migrate_socket_tune(int fd);

/*
 * xc_domain_migrate_send() - live-migrate the domain over @fd, a connected stream socket to
 * a domain created with cfg.incoming on the destination. Blocks until the destination runs
 * it (then this domain has ended, reason migrated) or the migration failed (the guest runs
 * on here). @params may be NULL. Return as xc_domain_save().
 */
int xc_domain_migrate_send(xc_interface *xch, xc_domain *dom, int fd,
			   const xc_migrate_params *params, xc_migrate_result *result);

enum xc_job_phase {
	XC_JOB_NONE = 0, XC_JOB_SAVING = 1, XC_JOB_MIGRATING = 2, XC_JOB_STOP_AND_COPY = 3,
	XC_JOB_WAITING_FOR_DESTINATION = 4, XC_JOB_COMPLETED = 5, XC_JOB_FAILED = 6,
	XC_JOB_CANCELLED = 7,
};

enum xc_job_kind { XC_JOB_KIND_NONE = 0, XC_JOB_KIND_SAVE = 1, XC_JOB_KIND_MIGRATE = 2 };

/* A running job's progress, or (phase >= XC_JOB_COMPLETED) the last job's outcome. */
typedef struct xc_job_info {
	unsigned int phase;		/* enum xc_job_phase */
	unsigned int kind;		/* enum xc_job_kind */
	uint64_t elapsed_ns;
	uint64_t bytes;			/* written so far */
	uint64_t pages_total, pages_sent, pages_remaining;
	uint64_t dirty_rate;		/* pages per second, in the last round */
	uint64_t expected_downtime_ns;
	uint64_t bandwidth;		/* the current limit; 0: none */
	uint32_t max_downtime_ms;
	uint32_t rounds;
	uint32_t throttle;		/* auto-converge percent now */
	int status;			/* the last finished job: 0 or -errno */
	char error[128];		/* and why it failed */
} xc_job_info;

/* "none", "saving", "migrating", "stop-and-copy", ...; "unknown" otherwise. Never NULL. */
const char *xc_job_phase_name(unsigned int phase);

int xc_domain_get_job(xc_interface *xch, xc_domain *dom, xc_job_info *info);
/* Return: 0; -ENOENT no job runs; -EALREADY the destination was already told to run it. */
int xc_domain_abort_job(xc_interface *xch, xc_domain *dom);

#define XC_MIGRATE_SET_DOWNTIME		(1u << 0)
#define XC_MIGRATE_SET_BANDWIDTH	(1u << 1)
/* Change the running migration's limits (the flags say which). -ENOENT: no migration. */
int xc_domain_migrate_set(xc_interface *xch, xc_domain *dom, unsigned int which,
			  uint32_t max_downtime_ms, uint64_t bandwidth);

/*
 * xc_domain_wait_running() - for a domain created with cfg.incoming: wait until the
 * migration arrived and the guest runs here (0, the handle is then fully usable), or the
 * VMM gave up (-EIO with its words in xc_last_error(); the domain is gone from the
 * registry, nothing to destroy), or @timeout_ms passed (-ETIMEDOUT, -1: no limit; the
 * domain is left, xc_domain_destroy() ends it). Until it returned 0 the handle takes only
 * this call and xc_domain_destroy(). Also 0 at once for any connected handle.
 */
int xc_domain_wait_running(xc_interface *xch, xc_domain *dom, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
