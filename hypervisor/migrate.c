// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Live migration, the VMM's half (migrate.h): pre-copy with KVM's dirty log plus the pages
 * the VMM's own device threads wrote, stop-and-copy, handshake.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "job.h"
#include "log.h"
#include "migrate.h"
#include "save.h"
#include "vcpu.h"
#include "virtio_blk.h"
#include "vm.h"

/*
 * The back channel, destination to source: READY after END, GO in answer, and SYNCED for
 * every SYNC record (docs/savestate.md, "Live migration").
 */
#define MIG_MAGIC	0x47494d44u	/* "DMIG" */
#define MIG_READY	1
#define MIG_GO		2
#define MIG_SYNCED	3		/* followed by the SYNC record's u64 seq */

struct mig_msg {
	uint32_t magic;
	uint32_t code;
};

struct mig_synced {
	struct mig_msg m;
	uint64_t seq;
};

static int write_all(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = write(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EPIPE;
}

static int send_msg(int fd, uint32_t code)
{
	struct mig_msg m = { MIG_MAGIC, code };

	return write_all(fd, &m, sizeof(m));
}

/* Read exactly @len bytes within @ms (each wait; the peer's messages are tiny). */
static int read_msg(int fd, void *buf, size_t len, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t have = 0;

	while (have < len) {
		int r = poll(&pfd, 1, ms);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ETIMEDOUT;
		n = read(fd, (uint8_t *)buf + have, len - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		have += n;
	}
	return 0;
}

/* Wait up to @ms for the peer's @code. */
static int wait_msg(int fd, uint32_t code, int ms)
{
	struct mig_msg m;
	int ret = read_msg(fd, &m, sizeof(m), ms);

	if (ret)
		return ret;
	return m.magic == MIG_MAGIC && m.code == code ? 0 : -EPROTO;
}

/* The machine ended meanwhile (the guest powered off, crashed...): nothing to hand over. */
static bool machine_ending(struct vm *vm)
{
	bool ending;

	pthread_mutex_lock(&vm->exit_lock);
	ending = vm->exit_requested;
	pthread_mutex_unlock(&vm->exit_lock);
	return ending;
}

static uint64_t count_bits(const uint64_t *bitmap, uint64_t words)
{
	uint64_t n = 0;

	for (uint64_t w = 0; w < words; w++)
		n += __builtin_popcountll(bitmap[w]);
	return n;
}

/*
 * Every round ends with a SYNC record, and the source waits, guest running, until the
 * destination answers that it has read and applied everything up to it. Without it a round
 * "ended" when its bytes were written: they could still sit in the source's send buffer
 * and in the destination's receive buffer, megabytes each once TCP autotunes them (0.9-2.5
 * MB unsent at the pause over loopback on the development host, and a receive backlog of
 * several hundred ms in the nested sandbox), the rate was that of a memcpy, and the backlog
 * was drained during the pause. With the sync the rate is the end-to-end one, the pause
 * starts with nothing in flight, and the last round's dirty set is the true remaining one.
 * Return: 0, or -errno (-ETIMEDOUT: no answer in MIGRATE_HANDSHAKE_MS; -ECONNRESET: the
 * destination closed, e.g. an older domus-vmm that refuses the mandatory SYNC record).
 */
static int sync_dest(struct ss_writer *w, uint64_t seq)
{
	struct ss_sync s = { .seq = seq };
	struct mig_synced a;
	int ret = ss_write_record(w, SS_REC_SYNC, SS_F_MANDATORY, &s, sizeof(s));

	if (!ret)
		ret = read_msg(w->fd, &a, sizeof(a), MIGRATE_HANDSHAKE_MS);
	if (!ret && (a.m.magic != MIG_MAGIC || a.m.code != MIG_SYNCED || a.seq != seq))
		ret = -EPROTO;
	return ret;
}

/*
 * Auto-converge: while it is on, the vCPUs are held for @percent of every slice of time the
 * sender spends writing, so a guest that dirties memory faster than the link can carry
 * slows down until the rounds shrink.
 */
struct throttle {
	struct vm *vm;
	struct job_shared *sh;
	struct ss_writer *w;
	bool enabled;			/* not for a guest a client paused */
	unsigned int percent;
	uint64_t slice_start;
};

/* MIGRATE_SET changed the limit: count the new rate from now. */
static void refresh_rate(struct throttle *t)
{
	uint64_t bw = JOB_GET(t->sh, bandwidth);

	if (bw == t->w->rate)
		return;
	t->w->rate = bw;
	t->w->start_ns = ss_now_ns();
	t->w->rate_base = t->w->bytes;
}

/* Before every write of the pre-copy: the current limit, then the throttle. */
static void throttle_tick(void *opaque)
{
	struct throttle *t = opaque;
	uint64_t now = ss_now_ns(), ran = now - t->slice_start, hold;

	refresh_rate(t);
	if (!t->enabled || !t->percent || ran < MIGRATE_THROTTLE_SLICE_MS * 1000000ULL)
		return;
	hold = ran * t->percent / (100 - t->percent);
	vcpu_pause_all(t->vm, true);
	nanosleep(&(struct timespec){ hold / 1000000000ULL, hold % 1000000000ULL }, NULL);
	vcpu_pause_all(t->vm, false);
	t->slice_start = ss_now_ns();
}

/* After a round: harder if the dirty set did not shrink by a fifth. */
static void throttle_adjust(struct throttle *t, uint64_t dirty, uint64_t prev_dirty,
			    struct migrate_stats *st)
{
	if (!prev_dirty || dirty * 5 < prev_dirty * 4)
		return;
	t->percent = !t->percent ? MIGRATE_THROTTLE_START :
		     t->percent + MIGRATE_THROTTLE_STEP > MIGRATE_THROTTLE_MAX ?
		     MIGRATE_THROTTLE_MAX : t->percent + MIGRATE_THROTTLE_STEP;
	t->slice_start = ss_now_ns();
	JOB_SET(t->sh, throttle, t->percent);
	if (t->percent > st->throttle)
		st->throttle = t->percent;
	pr_debug("migrate: not converging (%llu -> %llu pages dirty): throttle %u%%",
		 (unsigned long long)prev_dirty, (unsigned long long)dirty, t->percent);
}

/*
 * Pre-copy: everything once, then what was dirtied meanwhile, round after round, until the
 * rest would go within the allowed downtime at the rate the last round achieved (or the
 * rounds run out). @bitmap is left holding the pages still to send.
 */
/* What GET_JOB reports after a round: the dirty set, its rate and what it would cost. */
static void report_round(struct job_shared *sh, const struct migrate_stats *st,
			 uint64_t dirty, uint64_t round_ns, double rate)
{
	JOB_SET(sh, rounds, st->rounds);
	JOB_SET(sh, pages_remaining, dirty);
	JOB_SET(sh, dirty_rate, round_ns ? (uint64_t)((double)dirty * 1e9 / (double)round_ns) : 0);
	JOB_SET(sh, expected_downtime_ns,
		(uint64_t)((double)dirty * 4096 / (rate > 1 ? rate : 1) * 1e9));
}

static int precopy(struct vm *vm, struct ss_writer *w, struct job_shared *sh,
		   struct throttle *t, uint64_t *bitmap, uint64_t words,
		   struct migrate_stats *st)
{
	struct save_stats ss = {};
	uint64_t t0 = ss_now_ns(), b0 = w->bytes, dirty = 0, prev_dirty;
	int ret = save_write_memory(vm, w, &ss);

	ss.zero_pages = 0;	/* holes and zero pages of the first pass were not sent */
	for (st->rounds = 1; !ret; st->rounds++) {
		uint64_t ns, sent;
		double rate;

		ret = sync_dest(w, st->rounds);
		if (ret)
			break;
		ns = ss_now_ns() - t0;
		sent = w->bytes - b0;
		rate = ns ? (double)sent * 1e9 / (double)ns : 1e9;

		if (machine_ending(vm)) {
			ret = -ESHUTDOWN;
			break;
		}
		if (job_cancelled(sh)) {
			ret = -ECANCELED;
			break;
		}
		memset(bitmap, 0, words * sizeof(uint64_t));
		ret = vm_dirty_collect(vm, bitmap);
		if (ret)
			break;
		prev_dirty = dirty;
		dirty = count_bits(bitmap, words);
		report_round(sh, st, dirty, ns, rate);
		pr_debug("migrate: round %u: %llu bytes applied at %.0f MB/s in %.1f ms; %llu "
			 "pages dirty", st->rounds, (unsigned long long)sent, rate / 1e6, ns / 1e6,
			 (unsigned long long)dirty);
		if ((double)dirty * 4096 / (rate > 1 ? rate : 1) * 1e3 <=
		    JOB_GET(sh, max_downtime_ms) || st->rounds >= MIGRATE_MAX_ROUNDS)
			break;
		if (t->enabled && st->rounds > 1)
			throttle_adjust(t, dirty, prev_dirty, st);
		t0 = ss_now_ns();
		b0 = w->bytes;
		ret = save_write_dirty(vm, w, bitmap, &ss);
	}
	st->pages = ss.pages + ss.zero_pages;
	return ret;
}

/* Stop-and-copy with the vCPUs paused and the devices quiesced, then the handshake. */
static int stop_and_copy(struct vm *vm, struct ss_writer *w, struct job_shared *sh,
			 uint64_t *bitmap, uint64_t words, struct migrate_stats *st, char *err,
			 size_t errlen)
{
	int fd = sh->fd;
	struct save_stats ss = {};
	uint64_t t[4] = { ss_now_ns() };
	int ret;

	if (machine_ending(vm))
		return ss_error(err, errlen, -ESHUTDOWN, "the domain ended during the migration");
	JOB_SET(sh, phase, DOMUS_CTL_JOB_STOP_COPY);
	save_quiesce(vm, true);
	ret = vm_dirty_collect(vm, bitmap);
	if (!ret)
		ret = save_write_dirty(vm, w, bitmap, &ss);
	t[1] = ss_now_ns();
	if (ret)
		ss_error(err, errlen, ret, "cannot send the last pages: %s", strerror(-ret));
	else
		ret = save_write_state(vm, w, err, errlen);
	save_quiesce(vm, false);
	t[2] = ss_now_ns();
	st->final_pages = count_bits(bitmap, words);
	st->pages += ss.pages + ss.zero_pages;
	st->bytes = w->bytes;
	JOB_SET(sh, pages_remaining, 0);
	if (ret)
		return ret;
	JOB_SET(sh, phase, DOMUS_CTL_JOB_WAIT_DEST);
	ret = wait_msg(fd, MIG_READY, MIGRATE_HANDSHAKE_MS);
	t[3] = ss_now_ns();
	/* Where the downtime went (tests/bench/migrate reads it next to the guest's view). */
	pr_info("migrate: stop-and-copy: %llu dirty pages in %.1f ms, device state in %.1f ms, "
		"READY after %.1f ms", (unsigned long long)count_bits(bitmap, words),
		(t[1] - t[0]) / 1e6, (t[2] - t[1]) / 1e6, (t[3] - t[2]) / 1e6);
	if (ret && job_cancelled(sh))
		ret = -ECANCELED;
	if (ret)
		return ss_error(err, errlen, ret, "the destination did not take the domain (%s)",
				 ret == -ETIMEDOUT ? "no answer in 30 s" : strerror(-ret));
	/* The one point of no return: a cancel before it wins, none after it. */
	if (job_commit(sh))
		return ss_error(err, errlen, -ECANCELED, "cancelled before the destination "
				 "was told to go on");
	ret = send_msg(fd, MIG_GO);
	if (ret)
		return ss_error(err, errlen, ret, "cannot tell the destination to go on: %s",
				 strerror(-ret));
	/* The destination waits for the disks' locks before it runs the guest: let go now. */
	for (unsigned int i = 0; i < VM_MAX_DISKS; i++)
		if (vm->disks[i])
			vblk_hand_over(vm->disks[i]);
	return 0;
}

int migrate_send(struct vm *vm, struct job_shared *sh, bool was_paused, bool auto_converge,
		 struct migrate_stats *st, char *err, size_t errlen)
{
	int fd = sh->fd;
	uint64_t words = (vm->mem_size / 4096 + 63) / 64, t0 = ss_now_ns(), t_pause;
	uint64_t *bitmap __free = calloc(words, sizeof(uint64_t));
	uint8_t *bounce __free = malloc(SS_PAGES_PER_RECORD * SS_PAGE_SIZE);
	/* A guest a client paused does not dirty memory: no throttle (it would unpause it). */
	struct throttle t = { .vm = vm, .sh = sh, .enabled = !was_paused && auto_converge };
	struct ss_writer w = {
		.fd = fd, .rate = JOB_GET(sh, bandwidth), .start_ns = t0, .bounce = bounce,
		.on_write = throttle_tick, .opaque = &t, .cancel = &sh->cancel,
		.live_bytes = &sh->bytes, .live_pages = &sh->pages_sent,
	};
	struct timeval tmo = { .tv_sec = MIGRATE_HANDSHAKE_MS / 1000 };
	int ret, one = 1;

	*st = (struct migrate_stats){};
	err[0] = '\0';
	t.w = &w;
	if (!bitmap || !bounce)
		return ss_error(err, errlen, -ENOMEM, "out of memory");
	/* A destination that stops reading must not hold the source up for ever. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
	/* The last records and GO go at once, not behind the previous segment's ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ret = vm_dirty_start(vm);
	if (ret)
		return ss_error(err, errlen, ret, "cannot start dirty logging: %s",
				 strerror(-ret));
	ret = ss_write_header(&w, SS_HDR_LIVE);
	if (!ret)
		ret = save_write_machine(vm, &w);
	if (!ret)
		ret = precopy(vm, &w, sh, &t, bitmap, words, st);
	if (ret) {
		vm_dirty_stop(vm);
		st->bytes = w.bytes;
		/* Ended (or destroyed, which cancels too): nothing to hand over. */
		if (ret == -ESHUTDOWN || machine_ending(vm))
			return ss_error(err, errlen, -ESHUTDOWN, "the domain ended during the "
					 "migration");
		if (ret == -ECANCELED || job_cancelled(sh))
			return ss_error(err, errlen, -ECANCELED, "cancelled (ABORT_JOB)");
		if (ret == -EPROTO)
			return ss_error(err, errlen, ret, "cannot send the domain: the destination "
					 "answered a SYNC record with something else than its SYNCED "
					 "(not a domus-vmm, or another version?)");
		if (ret == -ECONNRESET || ret == -EPIPE)
			return ss_error(err, errlen, ret, "cannot send the domain: the destination "
					 "closed the connection (it ended, or refused the stream: "
					 "another machine, or a domus-vmm too old for its SYNC "
					 "records?)");
		return ss_error(err, errlen, ret, "cannot send the domain: %s", strerror(-ret));
	}
	t_pause = ss_now_ns();
	w.rate = 0;	/* the guest is paused now: the limit would only lengthen the downtime */
	w.on_write = NULL;	/* and the throttle would let it run */
	if (!was_paused)
		vcpu_pause_all(vm, true);
	/* The pause's CLOCK_MONOTONIC too: on one host, the destination's vCPU start (which it
	 * logs likewise) minus this is the downtime from outside the guest. */
	pr_info("migrate: %u rounds, %llu bytes in %.1f ms; vCPUs paused in %.1f ms (at "
		"%.6f s)", st->rounds, (unsigned long long)w.bytes, (t_pause - t0) / 1e6,
		(ss_now_ns() - t_pause) / 1e6, t_pause / 1e9);
	ret = stop_and_copy(vm, &w, sh, bitmap, words, st, err, errlen);
	/* Until GO went: ending dirty logging (memslot updates, slow under nesting) is not. */
	st->downtime_ns = ss_now_ns() - t_pause;
	vm_dirty_stop(vm);
	st->total_ns = ss_now_ns() - t0;
	if (ret && !was_paused)
		vcpu_pause_all(vm, false);		/* the guest stays here and goes on */
	if (ret && machine_ending(vm))
		ret = ss_error(err, errlen, -ESHUTDOWN, "the domain ended during the migration");
	return ret;
}

int migrate_incoming_synced(int fd, uint64_t seq, char *err, size_t errlen)
{
	struct mig_synced a = { { MIG_MAGIC, MIG_SYNCED }, seq };
	int ret = write_all(fd, &a, sizeof(a));

	return ret ? ss_error(err, errlen, ret, "cannot answer the source's SYNC: %s",
			      strerror(-ret)) : 0;
}

int migrate_incoming_confirm(int fd, char *err, size_t errlen)
{
	int ret = send_msg(fd, MIG_READY);

	if (ret)
		return ss_error(err, errlen, ret, "cannot tell the source the domain is here: %s",
				 strerror(-ret));
	ret = wait_msg(fd, MIG_GO, MIGRATE_HANDSHAKE_MS);
	if (ret)
		return ss_error(err, errlen, ret, "the source did not confirm (%s): the domain "
				 "stays there", ret == -ETIMEDOUT ? "no answer in 30 s" :
				 strerror(-ret));
	return 0;
}
