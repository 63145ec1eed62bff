/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-domain control protocol between libxc (client) and domus-vmm (server), version 1.
 * docs/control-protocol.md is the prose version of this file, with octet diagrams.
 *
 * GENERAL
 *
 * Transport: a Unix stream socket. domus-vmm listens on it (--control PATH, mode 0600, or
 * --control-fd N, a listening socket inherited from libxc) and serves any number of clients
 * at once from its main thread; a client that does not read cannot hold the VMM up.
 *
 * Framing: every message is a struct domus_ctl_hdr followed by exactly hdr.len bytes of body
 * (at most DOMUS_CTL_MAX_BODY). All integers are little-endian and every field is aligned
 * to its size. Reserved fields are sent as zero and ignored on receipt.
 *
 * Requests and replies: the client picks a non-zero id for each request; the server answers
 * every request with exactly one reply carrying the same id and the type with
 * DOMUS_CTL_REPLY set, in the order the requests arrived. A reply body is a struct
 * domus_ctl_reply (status: 0 or -errno, as Linux numbers them), then a type-specific payload
 * (present when status is 0), then msg_len bytes of human-readable text (UTF-8, no NUL)
 * that says what went wrong, or is empty. payload length = len - 8 - msg_len.
 *
 * Events: id 0 is never a request id; a message with id 0 is an event the server sends
 * on its own to clients that asked for it with DOMUS_CTL_SUBSCRIBE.
 *
 * File descriptors travel as SCM_RIGHTS ancillary data on the message's first byte (one
 * sendmsg per message); the receiver owns them and takes them with MSG_CMSG_CLOEXEC.
 *
 * Versioning: hdr.version is the protocol version of the message. The server answers a
 * version it does not speak with status -EPROTONOSUPPORT, a struct domus_ctl_versions
 * payload saying which it does, and then closes the connection. Any change to a body's
 * layout or meaning is a new version; the server keeps serving the previous one.
 *
 * Errors of the stream itself (bad magic, a body over the limit, a header or body cut short
 * by the client closing) end the connection, after an error reply where one can be sent.
 * A well-framed request of a type the server does not know gets -EOPNOTSUPP; a body of the
 * wrong size gets -EINVAL. Neither ends the connection.
 */
#ifndef DOMUS_CONTROL_H
#define DOMUS_CONTROL_H

#include <stdint.h>

#include <domus/vmm-exit.h>

/* Both ends are on the same host: the wire order is the host's, which must be little-endian. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the control protocol is little-endian: a big-endian port must byte-swap");

#define DOMUS_CTL_MAGIC		0x434d4f44u	/* "DOMC" on the wire */
#define DOMUS_CTL_VERSION	1		/* what both ends speak and send */
#define DOMUS_CTL_VERSION_MIN	1		/* the oldest version the server still serves */
#define DOMUS_CTL_MAX_BODY	65536u
#define DOMUS_CTL_MAX_FDS	8		/* per message */

struct domus_ctl_hdr {
	uint32_t magic;		/* DOMUS_CTL_MAGIC */
	uint16_t version;	/* DOMUS_CTL_VERSION */
	uint16_t type;		/* enum domus_ctl_type, | DOMUS_CTL_REPLY in replies */
	uint32_t id;		/* request id, echoed in the reply; 0 = event */
	uint32_t len;		/* body bytes that follow, <= DOMUS_CTL_MAX_BODY */
};
_Static_assert(sizeof(struct domus_ctl_hdr) == 16, "wire size");

#define DOMUS_CTL_REPLY		0x8000u		/* set in a reply's type */

enum domus_ctl_type {
	DOMUS_CTL_HELLO = 1,		/* body: client name (0-64 bytes of text); -> hello */
	DOMUS_CTL_GET_INFO = 2,		/* empty; -> info + nr_vcpus * vcpu_info */
	DOMUS_CTL_PAUSE = 3,		/* empty; every vCPU paused when the reply comes */
	DOMUS_CTL_UNPAUSE = 4,		/* empty */
	DOMUS_CTL_SHUTDOWN = 5,		/* struct domus_ctl_shutdown; the guest is asked */
	DOMUS_CTL_DESTROY = 6,		/* empty; the VMM ends now, exit status 4 */
	DOMUS_CTL_SUBSCRIBE = 7,	/* struct domus_ctl_subscribe */
	DOMUS_CTL_GET_CONSOLE = 8,	/* empty; -> one fd: the guest's serial console */
	DOMUS_CTL_SET_MEMORY_TARGET = 9, /* struct domus_ctl_memory_target (balloon) */
	/* 16..31: domain control. */
	DOMUS_CTL_RESET = 16,		/* empty; hard reset: the machine reboots now */
	DOMUS_CTL_GET_STATS = 17,	/* empty; -> stats + disks * blk_stats + nics * net_stats */

	/* Save/restore and migration: types 32-47 (docs/savestate.md). */
	DOMUS_CTL_SAVE = 32,		/* struct domus_ctl_save + one fd; -> domus_ctl_save_result */
	DOMUS_CTL_MIGRATE_SEND = 33,	/* struct domus_ctl_migrate + one fd; -> ..._migrate_result */
	DOMUS_CTL_GET_JOB = 34,		/* empty; -> struct domus_ctl_job_info */
	DOMUS_CTL_ABORT_JOB = 35,	/* empty; cancels the running SAVE or MIGRATE_SEND */
	DOMUS_CTL_MIGRATE_SET = 36,	/* struct domus_ctl_migrate_set; -> empty */

	DOMUS_CTL_EVENT_STATE = 0x4001,	/* event (id 0): struct domus_ctl_event_state */
};

/* The first 8 bytes of every reply body. */
struct domus_ctl_reply {
	int32_t status;		/* 0 or -errno */
	uint16_t msg_len;	/* text at the end of the body */
	uint16_t reserved;
};
_Static_assert(sizeof(struct domus_ctl_reply) == 8, "wire size");

/* Payload of a -EPROTONOSUPPORT reply. */
struct domus_ctl_versions {
	uint16_t min_version;
	uint16_t max_version;
	uint32_t reserved;
};
_Static_assert(sizeof(struct domus_ctl_versions) == 8, "wire size");

/* What this VMM offers (hello.features, info.features). */
#define DOMUS_CTL_FEAT_CONSOLE	(1u << 0)	/* GET_CONSOLE works with this console kind */
#define DOMUS_CTL_FEAT_BALLOON	(1u << 1)	/* SET_MEMORY_TARGET works */

/* HELLO reply payload. */
struct domus_ctl_hello {
	uint16_t min_version;	/* versions this server speaks */
	uint16_t max_version;
	uint32_t features;	/* DOMUS_CTL_FEAT_* */
	uint32_t pid;		/* the VMM's process id */
	uint32_t reserved;
	char vmm_version[16];	/* "0.1.0", NUL-padded */
};
_Static_assert(sizeof(struct domus_ctl_hello) == 32, "wire size");

/*
 * Domain states, numbered like the issue lists them (xm list's r b p s c, plus dying).
 * Only the VMM's own view: a VMM that is gone reports nothing, libxc tells that case.
 */
enum domus_ctl_state {
	DOMUS_CTL_STATE_RUNNING = 1,
	DOMUS_CTL_STATE_BLOCKED = 2,	/* reserved: the VMM does not tell hlt from running */
	DOMUS_CTL_STATE_PAUSED = 3,
	DOMUS_CTL_STATE_SHUTDOWN = 4,	/* the machine ended; the VMM is about to exit */
	DOMUS_CTL_STATE_CRASHED = 5,	/* the machine ended with a guest crash or host error */
	DOMUS_CTL_STATE_DYING = 6,	/* reserved for libxc (VMM exiting, not yet reaped) */
};

/* Why a state was entered (event_state.reason). */
enum domus_ctl_reason {
	DOMUS_CTL_REASON_NONE = 0,
	DOMUS_CTL_REASON_PAUSED = 1,	/* PAUSE from a client */
	DOMUS_CTL_REASON_UNPAUSED = 2,	/* UNPAUSE from a client */
	DOMUS_CTL_REASON_POWEROFF = 3,	/* the guest powered off (ACPI S5): exit status 0 */
	DOMUS_CTL_REASON_REBOOT = 4,	/* the guest asked for a reset: exit status 2 */
	DOMUS_CTL_REASON_CRASH = 5,	/* triple fault, KVM internal error: exit status 3 */
	DOMUS_CTL_REASON_DESTROYED = 6,	/* stopped by the host (DESTROY, signals): status 4 */
	DOMUS_CTL_REASON_HOST_ERROR = 7, /* the VMM failed: exit status 1 */
	DOMUS_CTL_REASON_TEST_EXIT = 8,	/* the test device's exit port: status 64 + N */
	DOMUS_CTL_REASON_SAVED = 32,	/* SAVE with DOMUS_CTL_SAVE_STOP: exit status 4 */
	DOMUS_CTL_REASON_MIGRATED = 33,	/* MIGRATE_SEND succeeded: exit status 4 */
};

/* GET_INFO reply payload, followed by nr_vcpus struct domus_ctl_vcpu_info. */
struct domus_ctl_info {
	uint32_t state;		/* enum domus_ctl_state */
	uint32_t nr_vcpus;
	uint64_t mem_bytes;	/* guest RAM */
	uint64_t mem_target_bytes; /* balloon target; mem_bytes without a balloon */
	uint64_t mem_actual_bytes; /* what the guest's balloon driver says it kept */
	uint64_t uptime_ns;	/* since the vCPUs were started */
	uint64_t cpu_time_ns;	/* sum over the vCPU threads */
	uint32_t pid;
	uint32_t features;	/* DOMUS_CTL_FEAT_* */
};
_Static_assert(sizeof(struct domus_ctl_info) == 56, "wire size");

enum domus_ctl_vcpu_state {
	DOMUS_CTL_VCPU_CREATED = 0,
	DOMUS_CTL_VCPU_RUNNING = 1,
	DOMUS_CTL_VCPU_PAUSED = 2,
	DOMUS_CTL_VCPU_STOPPED = 3,
};

struct domus_ctl_vcpu_info {
	uint32_t id;
	uint32_t tid;		/* host thread id (for affinity, cgroups); 0 if not running */
	uint32_t state;		/* enum domus_ctl_vcpu_state */
	uint32_t reserved;
	uint64_t cpu_time_ns;	/* utime + stime of the thread (/proc/self/task/TID/stat) */
};
_Static_assert(sizeof(struct domus_ctl_vcpu_info) == 24, "wire size");

/* SHUTDOWN request body. */
enum domus_ctl_shutdown_mode {
	DOMUS_CTL_SHUTDOWN_POWER_BUTTON = 0,	/* press the ACPI power button */
	DOMUS_CTL_SHUTDOWN_REBOOT = 1,		/* press it, and count the guest's poweroff
						 * as a reboot (libvirt's ACPI reboot) */
};

struct domus_ctl_shutdown {
	uint32_t mode;		/* enum domus_ctl_shutdown_mode; others: -EOPNOTSUPP */
	uint32_t reserved;
};
_Static_assert(sizeof(struct domus_ctl_shutdown) == 8, "wire size");

/* SUBSCRIBE request body: the events this connection gets from now on (0 = none). */
#define DOMUS_CTL_EVENTS_STATE	(1u << 0)

struct domus_ctl_subscribe {
	uint32_t events;	/* DOMUS_CTL_EVENTS_*; unknown bits: -EINVAL */
	uint32_t reserved;
};
_Static_assert(sizeof(struct domus_ctl_subscribe) == 8, "wire size");

/* SET_MEMORY_TARGET request body. */
struct domus_ctl_memory_target {
	uint64_t target_bytes;	/* what the guest should keep; <= mem_bytes */
};
_Static_assert(sizeof(struct domus_ctl_memory_target) == 8, "wire size");

/* The state and reason a VMM exit status (vmm-exit.h) stands for. */
static inline void domus_ctl_exit_state(int status, uint32_t *state, uint32_t *reason)
{
	*state = DOMUS_CTL_STATE_SHUTDOWN;
	switch (status) {
	case DOMUS_EXIT_POWEROFF: *reason = DOMUS_CTL_REASON_POWEROFF; break;
	case DOMUS_EXIT_REBOOT: *reason = DOMUS_CTL_REASON_REBOOT; break;
	case DOMUS_EXIT_STOPPED: *reason = DOMUS_CTL_REASON_DESTROYED; break;
	case DOMUS_EXIT_CRASH:
		*state = DOMUS_CTL_STATE_CRASHED;
		*reason = DOMUS_CTL_REASON_CRASH;
		break;
	default:
		if (status >= DOMUS_EXIT_TEST_BASE) {
			*reason = DOMUS_CTL_REASON_TEST_EXIT;
		} else {
			*state = DOMUS_CTL_STATE_CRASHED;
			*reason = DOMUS_CTL_REASON_HOST_ERROR;
		}
		break;
	}
}

/* GET_STATS reply payload: this, then nr_disks blk_stats, then nr_nics net_stats. */
#define DOMUS_CTL_BALLOON_STATS 10	/* virtio-balloon statistics tags 0..9 */

struct domus_ctl_stats {
	uint32_t nr_disks;	/* in PCI order: vda, vdb, ... */
	uint32_t nr_nics;
	uint32_t balloon_valid;	/* bit n: balloon[n] came from the guest's last report */
	uint32_t reserved;
	uint64_t balloon_updated_ns; /* age of that report (0: none yet) */
	uint64_t balloon[DOMUS_CTL_BALLOON_STATS]; /* the guest's words, by virtio tag */
};
_Static_assert(sizeof(struct domus_ctl_stats) == 104, "wire size");

struct domus_ctl_blk_stats {
	uint64_t reads, writes;		/* requests completed successfully */
	uint64_t read_bytes, write_bytes;
	uint64_t flushes, discards, write_zeroes;
	uint64_t errors;		/* requests failed or dropped */
};
_Static_assert(sizeof(struct domus_ctl_blk_stats) == 64, "wire size");

struct domus_ctl_net_stats {
	char ifname[16];		/* the tap, NUL-padded */
	uint8_t mac[6];			/* the guest's address */
	uint16_t reserved;
	uint32_t reserved2;
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;	/* host -> guest */
	uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;	/* guest -> host */
};
_Static_assert(sizeof(struct domus_ctl_net_stats) == 96, "wire size");

/*
 * SAVE request body; the request carries one descriptor (SCM_RIGHTS) open for writing: a
 * file, pipe or socket that gets the saved-state stream (docs/savestate.md). The VMM
 * pauses the vCPUs, writes the whole stream (the control socket waits meanwhile), syncs it
 * if it is a regular file, then either ends (DOMUS_CTL_SAVE_STOP: exit status 4, the last
 * event is "shutdown: saved") or resumes the guest, unless it was paused before.
 */
#define DOMUS_CTL_SAVE_STOP	(1u << 0)	/* end the domain once the stream is written */

struct domus_ctl_save {
	uint32_t flags;		/* DOMUS_CTL_SAVE_*; unknown bits: -EINVAL */
	uint32_t reserved;
};
_Static_assert(sizeof(struct domus_ctl_save) == 8, "wire size");

/* SAVE reply payload. */
struct domus_ctl_save_result {
	uint64_t bytes;		/* length of the stream written */
	uint64_t pages;		/* 4 KiB pages of RAM in it (zero pages are left out) */
	uint64_t write_ns;	/* time spent writing (and syncing) */
	uint64_t paused_ns;	/* how long the guest was paused for it */
};
_Static_assert(sizeof(struct domus_ctl_save_result) == 32, "wire size");

/*
 * MIGRATE_SEND request body; one descriptor travels with it: a connected stream socket (or
 * pipe) to a `domus-vmm --incoming fd=N` started with the same device options. The VMM
 * sends the domain while it runs (pre-copy with dirty logging), pauses it for the rest,
 * waits until the destination says it has all of it, tells it to go on and ends (exit
 * status 4, last event "shutdown: migrated"). On any failure the guest runs on here and the
 * reply says why. The control socket waits while the migration runs.
 */
#define DOMUS_CTL_MIGRATE_AUTO_CONVERGE	(1u << 0)	/* throttle a guest that dirties
							 * memory faster than the link */

struct domus_ctl_migrate {
	uint32_t flags;		/* DOMUS_CTL_MIGRATE_*; unknown bits -EINVAL */
	uint32_t max_downtime_ms; /* stop-and-copy once the rest fits; 0: 300 */
	uint64_t bandwidth;	/* bytes per second at most; 0: as fast as the link */
};
_Static_assert(sizeof(struct domus_ctl_migrate) == 16, "wire size");

/* MIGRATE_SEND reply payload. */
struct domus_ctl_migrate_result {
	uint64_t bytes;		/* stream length */
	uint64_t pages;		/* pages sent, repeats included */
	uint64_t total_ns;	/* from the request to the destination's confirmation */
	uint64_t downtime_ns;	/* the guest paused here until the destination confirmed */
	uint32_t rounds;	/* pre-copy rounds, the first full pass included */
	uint32_t final_pages;	/* dirty pages sent while the guest was paused */
	uint32_t throttle;	/* the highest auto-converge throttle used, percent */
	uint32_t reserved;
};
_Static_assert(sizeof(struct domus_ctl_migrate_result) == 48, "wire size");

/*
 * SAVE and MIGRATE_SEND run as a job on a thread of their own: the control socket goes on
 * serving other connections (the requester's own connection gets its later replies after
 * the job's, in order). At most one job runs at a time (-EBUSY).
 */
enum domus_ctl_job_phase {
	DOMUS_CTL_JOB_NONE = 0,		/* no job has run in this machine */
	DOMUS_CTL_JOB_SAVING = 1,
	DOMUS_CTL_JOB_PRECOPY = 2,	/* migration: rounds while the guest runs */
	DOMUS_CTL_JOB_STOP_COPY = 3,	/* guest paused, the rest and the state go */
	DOMUS_CTL_JOB_WAIT_DEST = 4,	/* stream sent, waiting for the destination's READY */
	DOMUS_CTL_JOB_COMPLETED = 5,	/* the last job's outcome (no job running) */
	DOMUS_CTL_JOB_FAILED = 6,
	DOMUS_CTL_JOB_CANCELLED = 7,
};

enum domus_ctl_job_kind {
	DOMUS_CTL_JOB_KIND_NONE = 0,
	DOMUS_CTL_JOB_KIND_SAVE = 1,
	DOMUS_CTL_JOB_KIND_MIGRATE = 2,
};

/* GET_JOB reply payload: the running job, or (phase >= COMPLETED) the last one's totals. */
struct domus_ctl_job_info {
	uint32_t phase;		/* enum domus_ctl_job_phase */
	uint32_t kind;		/* enum domus_ctl_job_kind */
	uint64_t elapsed_ns;	/* since the request (the whole job, once it is over) */
	uint64_t bytes;		/* stream bytes written so far */
	uint64_t pages_total;	/* guest RAM in pages */
	uint64_t pages_sent;	/* pages written so far, repeats included (live) */
	uint64_t pages_remaining; /* migration: dirty at the last collection; save: not yet
				   * written (an upper bound: zero pages are skipped) */
	uint64_t dirty_rate;	/* pages per second the guest dirtied in the last round */
	uint64_t expected_downtime_ns; /* the remaining dirty pages at the last round's rate */
	uint64_t bandwidth;	/* the current limit, bytes per second; 0: none */
	uint32_t max_downtime_ms; /* the current allowed downtime */
	uint32_t rounds;	/* pre-copy rounds so far, the first full pass included */
	uint32_t throttle;	/* auto-converge: the vCPUs are held this percent now */
	int32_t status;		/* the last finished job's result: 0 or -errno */
	char error[128];	/* and its error text, NUL-terminated ("" on success) */
};
_Static_assert(sizeof(struct domus_ctl_job_info) == 216, "wire size");

/* MIGRATE_SET request body: change the running migration's limits. */
#define DOMUS_CTL_MIGRATE_SET_DOWNTIME	(1u << 0)	/* max_downtime_ms is meant */
#define DOMUS_CTL_MIGRATE_SET_BANDWIDTH	(1u << 1)	/* bandwidth is meant */

struct domus_ctl_migrate_set {
	uint32_t flags;		/* DOMUS_CTL_MIGRATE_SET_*; unknown bits or none: -EINVAL */
	uint32_t max_downtime_ms; /* 1 or more */
	uint64_t bandwidth;	/* bytes per second; 0: no limit */
};
_Static_assert(sizeof(struct domus_ctl_migrate_set) == 16, "wire size");

/* EVENT_STATE body, followed by msg_len bytes of text (the VMM's own words). */
struct domus_ctl_event_state {
	uint32_t state;		/* enum domus_ctl_state */
	uint32_t reason;	/* enum domus_ctl_reason */
	int32_t exit_status;	/* the VMM's exit status once the machine ended, else -1 */
	uint16_t msg_len;
	uint16_t reserved;
};
_Static_assert(sizeof(struct domus_ctl_event_state) == 16, "wire size");

#endif
