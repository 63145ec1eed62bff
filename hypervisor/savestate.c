// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The saved-state stream's framing: header, records, crc32c (savestate.h,
 * docs/savestate.md). Knows nothing about what the records mean; save.c and restore.c do.
 * Works on any fd (file, pipe, socket): no mmap, and no seeking but to skip page data for
 * a lazy restore from a file (defer_pages).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "savestate.h"

#define fail ss_reader_fail

/* ---- crc32c (Castagnoli): SSE4.2's crc32 instruction where there is one ---- */

static uint32_t crc_table[256];

static void crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32c_sw(uint32_t crc, const uint8_t *p, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, crc_table_init);
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc;

	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	crc = c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}

uint32_t ss_crc32c(uint32_t crc, const void *buf, size_t len)
{
	static int hw = -1;

	if (hw < 0)
		hw = __builtin_cpu_supports("sse4.2");
	crc = ~crc;
	crc = hw ? crc32c_hw(crc, buf, len) : crc32c_sw(crc, buf, len);
	return ~crc;
}

/* ---- writing ---- */

uint64_t ss_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static bool cancelled(const struct ss_writer *w)
{
	return w->cancel && __atomic_load_n(w->cancel, __ATOMIC_ACQUIRE);
}

/*
 * Bandwidth limit: sleep until the bytes written so far are due, in slices of at most
 * 50 ms so that a cancel (or a new limit, through on_write) is not held up by a slow link.
 */
static int pace(struct ss_writer *w)
{
	for (;;) {
		uint64_t due, now, wait;

		if (cancelled(w))
			return -ECANCELED;
		if (w->on_write)
			w->on_write(w->opaque);
		if (!w->rate)
			return 0;
		due = w->start_ns + (uint64_t)((double)(w->bytes - w->rate_base) * 1e9 /
					       (double)w->rate);
		now = ss_now_ns();
		if (due <= now)
			return 0;
		wait = due - now < 50000000ULL ? due - now : 50000000ULL;
		nanosleep(&(struct timespec){ 0, wait }, NULL);
	}
}

static int write_all(struct ss_writer *w, struct iovec *iov, int n)
{
	int ret = pace(w);

	if (ret)
		return ret;
	while (n > 0) {
		ssize_t done;

		/* A cancel interrupts a write blocked on a pipe (job.c): stop between parts. */
		if (cancelled(w))
			return -ECANCELED;
		done = writev(w->fd, iov, n);
		if (done < 0) {
			if (errno == EINTR)
				continue;
			return cancelled(w) ? -ECANCELED : -errno;
		}
		w->bytes += done;
		if (w->live_bytes)
			__atomic_store_n(w->live_bytes, w->bytes, __ATOMIC_RELAXED);
		while (n > 0 && (size_t)done >= iov->iov_len) {
			done -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + done;
			iov->iov_len -= done;
		}
	}
	return 0;
}

int ss_write_header(struct ss_writer *w, uint32_t flags)
{
	struct ss_header h = { .version = SS_VERSION, .flags = flags };
	struct iovec iov = { &h, sizeof(h) };

	memcpy(h.magic, SS_MAGIC, sizeof(h.magic));
	h.crc = ss_crc32c(0, &h, offsetof(struct ss_header, crc));
	return write_all(w, &iov, 1);
}

#define SS_MAX_IOV 8

int ss_write_recordv(struct ss_writer *w, uint32_t type, uint32_t flags,
		     const struct iovec *iov, int n)
{
	struct ss_rec_hdr h = { .type = type, .flags = flags };
	struct iovec all[SS_MAX_IOV + 1] = { { &h, sizeof(h) } };
	size_t len = 0;

	if (n > SS_MAX_IOV)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		len += iov[i].iov_len;
		all[i + 1] = iov[i];
	}
	if (len > SS_MAX_BODY)
		return -EMSGSIZE;
	h.len = len;
	h.crc = ss_crc32c(0, &h, offsetof(struct ss_rec_hdr, crc));
	for (int i = 0; i < n; i++)
		h.crc = ss_crc32c(h.crc, iov[i].iov_base, iov[i].iov_len);
	return write_all(w, all, n + 1);
}

int ss_write_record(struct ss_writer *w, uint32_t type, uint32_t flags, const void *body,
		    size_t len)
{
	struct iovec iov = { (void *)body, len };

	return ss_write_recordv(w, type, flags, &iov, len ? 1 : 0);
}

int ss_error(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* ---- reading ---- */

static const char *const rec_names[] = {
	[SS_REC_END] = "END",
	[SS_REC_MACHINE] = "MACHINE",
	[SS_REC_PAGES] = "PAGES",
	[SS_REC_ZERO_PAGES] = "ZERO_PAGES",
	[SS_REC_VM] = "VM",
	[SS_REC_CPUID] = "CPUID",
	[SS_REC_SYNC] = "SYNC",
	[SS_REC_VCPU_REGS] = "VCPU_REGS",
	[SS_REC_VCPU_SREGS] = "VCPU_SREGS",
	[SS_REC_VCPU_SREGS2] = "VCPU_SREGS2",
	[SS_REC_VCPU_FPU] = "VCPU_FPU",
	[SS_REC_VCPU_XSAVE] = "VCPU_XSAVE",
	[SS_REC_VCPU_XCRS] = "VCPU_XCRS",
	[SS_REC_VCPU_MSRS] = "VCPU_MSRS",
	[SS_REC_VCPU_LAPIC] = "VCPU_LAPIC",
	[SS_REC_VCPU_EVENTS] = "VCPU_EVENTS",
	[SS_REC_VCPU_MP_STATE] = "VCPU_MP_STATE",
	[SS_REC_VCPU_DEBUGREGS] = "VCPU_DEBUGREGS",
	[SS_REC_UART] = "UART",
	[SS_REC_PCI] = "PCI",
	[SS_REC_VIRTIO] = "VIRTIO",
	[SS_REC_TESTDEV] = "TESTDEV",
	[SS_REC_BALLOON] = "BALLOON",
};

const char *ss_rec_name(uint32_t type)
{
	return type < ARRAY_SIZE(rec_names) ? rec_names[type] : NULL;
}

int ss_reader_fail(struct ss_reader *r, int ret, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->err, sizeof(r->err), "%s: ", r->name);

	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof(r->err) - n, fmt, ap);
	va_end(ap);
	return ret;
}

void ss_reader_init(struct ss_reader *r, int fd, const char *name)
{
	*r = (struct ss_reader){ .fd = fd, .name = name };
}

void ss_reader_release(struct ss_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

/* Return: bytes read (short only at the end of the stream) or -errno. */
static ssize_t read_full(struct ss_reader *r, void *buf, size_t len)
{
	size_t have = 0;

	while (have < len) {
		ssize_t n = read(r->fd, (uint8_t *)buf + have, len - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		have += n;
	}
	r->offset += have;
	return have;
}

int ss_read_header(struct ss_reader *r)
{
	struct ss_header h;
	ssize_t n = read_full(r, &h, sizeof(h));

	if (n == -EAGAIN)	/* SO_RCVTIMEO expired */
		return fail(r, -ETIMEDOUT, "nothing came for %d s", SS_RECV_TIMEOUT_S);
	if (n < 0)
		return fail(r, n, "cannot read: %s", strerror(-n));
	if (n < (ssize_t)sizeof(h) || memcmp(h.magic, SS_MAGIC, sizeof(h.magic)))
		return fail(r, -EINVAL, "not a Domus saved state (no \"DOMUSSV\" header)");
	if (h.crc != ss_crc32c(0, &h, offsetof(struct ss_header, crc)))
		return fail(r, -EBADMSG, "the header's checksum is wrong: the file is corrupt");
	if (h.version != SS_VERSION)
		return fail(r, -EPROTONOSUPPORT, "saved-state version %u; this domus-vmm reads "
			    "version %u only", h.version, SS_VERSION);
	r->hdr_flags = h.flags;
	return 0;
}

static int grow(struct ss_reader *r, size_t len)
{
	uint8_t *p;

	if (len <= r->cap)
		return 0;
	p = realloc(r->buf, len);
	if (!p)
		return -ENOMEM;
	r->buf = p;
	r->cap = len;
	return 0;
}

static const char *type_name(uint32_t type, char *buf, size_t len)
{
	const char *name = ss_rec_name(type);

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%u", type);
	return buf;
}

static int read_part(struct ss_reader *r, const struct ss_rec_hdr *h, uint64_t at, void *dst,
		     size_t len, uint32_t *crc)
{
	ssize_t n = read_full(r, dst, len);
	char tn[24];

	if (n == -EAGAIN)	/* SO_RCVTIMEO expired */
		return fail(r, -ETIMEDOUT, "nothing more came for %d s at offset %llu",
			    SS_RECV_TIMEOUT_S, (unsigned long long)r->offset);
	if (n < 0)
		return fail(r, n, "cannot read at offset %llu: %s", (unsigned long long)r->offset,
			    strerror(-n));
	if ((size_t)n < len)
		return fail(r, -ENODATA, "truncated: record %s at offset %llu has %u bytes, the "
			    "stream ends before", type_name(h->type, tn, sizeof(tn)),
			    (unsigned long long)at, h->len);
	*crc = ss_crc32c(*crc, dst, len);
	return 0;
}

/*
 * A PAGES record: its ss_pages into r->buf, then the data straight to its place in RAM
 * (no copy, no buffer: a record's length is checked against RAM before anything of it is
 * read), or with defer_pages skipped (the lazy restore reads it later, lazy.c). The
 * checksum is checked by the caller: a bad record then fails the restore, whatever it
 * left in RAM.
 */
static int read_pages(struct ss_reader *r, const struct ss_rec_hdr *h, uint64_t at,
		      uint32_t *crc, struct ss_record *rec)
{
	struct ss_pages p;
	size_t len;
	int ret;

	if (h->len < sizeof(p))
		return fail(r, -EBADMSG, "short page record at offset %llu",
			    (unsigned long long)at);
	if (grow(r, sizeof(p)))
		return fail(r, -ENOMEM, "out of memory");
	ret = read_part(r, h, at, r->buf, sizeof(p), crc);
	if (ret)
		return ret;
	memcpy(&p, r->buf, sizeof(p));
	if (p.first > r->ram_pages || p.nr > r->ram_pages - p.first ||
	    h->len != sizeof(p) + (uint64_t)p.nr * SS_PAGE_SIZE)
		return fail(r, -EBADMSG, "page record at offset %llu: pages %llu+%u do not fit "
			    "%llu pages of RAM or the record's length of %u bytes",
			    (unsigned long long)at, (unsigned long long)p.first, p.nr,
			    (unsigned long long)r->ram_pages, h->len);
	len = (size_t)p.nr * SS_PAGE_SIZE;
	if (!r->defer_pages)
		return read_part(r, h, at, r->ram + p.first * SS_PAGE_SIZE, len, crc);
	rec->deferred = true;
	rec->data_at = r->offset;
	rec->crc_part = *crc;
	if (r->offset + len > r->end)
		return fail(r, -ENODATA, "truncated: record PAGES at offset %llu has %u bytes, "
			    "the file ends before", (unsigned long long)at, h->len);
	if (lseek(r->fd, len, SEEK_CUR) < 0)
		return fail(r, -errno, "cannot seek at offset %llu: %s",
			    (unsigned long long)r->offset, strerror(errno));
	r->offset += len;
	return 0;
}

/*
 * An optional record this reader does not know, larger than any state record: checked and
 * dropped through a bounded buffer, never allocated whole (a crafted length must not make
 * us allocate 16 MiB per record).
 */
static int skip_body(struct ss_reader *r, const struct ss_rec_hdr *h, uint64_t at,
		     uint32_t *crc)
{
	if (grow(r, SS_MAX_STATE_BODY))
		return fail(r, -ENOMEM, "out of memory");
	for (uint32_t done = 0; done < h->len;) {
		uint32_t n = h->len - done < SS_MAX_STATE_BODY ? h->len - done : SS_MAX_STATE_BODY;
		int ret = read_part(r, h, at, r->buf, n, crc);

		if (ret)
			return ret;
		done += n;
	}
	return 0;
}

/*
 * The body, into r->buf, at most SS_MAX_STATE_BODY bytes of it (PAGES data goes to RAM):
 * what a hostile stream can make us allocate is bounded, whatever its lengths say.
 */
static int read_body(struct ss_reader *r, const struct ss_rec_hdr *h, uint64_t at,
		     uint32_t *crc, struct ss_record *rec)
{
	char tn[24];

	rec->deferred = false;
	rec->body = NULL;
	if (h->type == SS_REC_PAGES) {
		int ret = read_pages(r, h, at, crc, rec);

		rec->body = r->buf;
		return ret;
	}
	if (h->len > SS_MAX_STATE_BODY) {
		if (ss_rec_name(h->type) || (h->flags & SS_F_MANDATORY))
			return fail(r, -EBADMSG, "record %s at offset %llu has %u bytes, more than "
				    "any such record can have", type_name(h->type, tn, sizeof(tn)),
				    (unsigned long long)at, h->len);
		return skip_body(r, h, at, crc);
	}
	if (grow(r, h->len ? h->len : 1))
		return fail(r, -ENOMEM, "out of memory for a record of %u bytes", h->len);
	rec->body = r->buf;
	return read_part(r, h, at, r->buf, h->len, crc);
}

int ss_read_record(struct ss_reader *r, struct ss_record *rec)
{
	struct ss_rec_hdr h;
	uint64_t at = r->offset;
	ssize_t n = read_full(r, &h, sizeof(h));
	char tn[24];
	uint32_t crc;

	if (n == -EAGAIN)	/* SO_RCVTIMEO expired */
		return fail(r, -ETIMEDOUT, "nothing more came for %d s at offset %llu",
			    SS_RECV_TIMEOUT_S, (unsigned long long)at);
	if (n < 0)
		return fail(r, n, "cannot read at offset %llu: %s", (unsigned long long)at,
			    strerror(-n));
	if (n < (ssize_t)sizeof(h))
		return fail(r, -ENODATA, "truncated: the stream ends at offset %llu before its "
			    "END record", (unsigned long long)r->offset);
	/* Check the header's own fields before trusting its length. */
	crc = ss_crc32c(0, &h, offsetof(struct ss_rec_hdr, crc));
	if (h.len > SS_MAX_BODY)
		return fail(r, -EBADMSG, "corrupt record header at offset %llu (length %u)",
			    (unsigned long long)at, h.len);
	n = read_body(r, &h, at, &crc, rec);
	if (n)
		return n;
	rec->crc = h.crc;
	if (!rec->deferred && crc != h.crc)
		return fail(r, -EBADMSG, "checksum mismatch in record %s at offset %llu: the "
			    "file is corrupt", type_name(h.type, tn, sizeof(tn)),
			    (unsigned long long)at);
	rec->type = h.type;
	rec->flags = h.flags;
	rec->len = h.len;
	rec->offset = at;
	return 0;
}
