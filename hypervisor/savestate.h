/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The saved-state stream (docs/savestate.md): what `SAVE` writes, `--restore` reads and
 * migration will send. A 24-byte header, then typed records until an END record:
 *
 *   header: magic "DOMUSSV\n", u32 version, u32 flags, u32 reserved, u32 crc32c(bytes 0-19)
 *   record: u32 type, u32 flags, u32 len, u32 crc32c(type, flags, len, body), body[len]
 *
 * Little-endian, no padding between records. A record with SS_F_MANDATORY that the reader
 * does not know makes it refuse the stream; an unknown optional record is skipped. Bodies
 * are the structs below (and, for vCPU and VM state, the kernel's own KVM structs, which
 * are stable ABI). The first record is always MACHINE, the last END.
 *
 * Threads: a writer or reader belongs to one thread (the main thread); nothing is shared.
 */
#ifndef DOMUS_SAVESTATE_H
#define DOMUS_SAVESTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <domus/cleanup.h>

#define SS_MAGIC		"DOMUSSV\n"
#define SS_VERSION		1
#define SS_MAX_BODY		(16u << 20)	/* a record body larger than this is corrupt */
#define SS_MAX_STATE_BODY	(64u << 10)	/* ... and a non-PAGES one larger than this */
#define SS_PAGE_SIZE		4096u
#define SS_PAGES_PER_RECORD	256u		/* 1 MiB of page data per PAGES record */
#define SS_RECV_TIMEOUT_S	30		/* a socket sender may go quiet this long */

struct ss_header {
	char magic[8];		/* SS_MAGIC */
	uint32_t version;	/* SS_VERSION */
	uint32_t flags;		/* SS_HDR_* */
	uint32_t reserved;
	uint32_t crc;		/* crc32c of the 20 bytes before */
};
_Static_assert(sizeof(struct ss_header) == 24, "wire size");

#define SS_HDR_LIVE		(1u << 0)	/* a migration stream (pages may repeat) */

struct ss_rec_hdr {
	uint32_t type;		/* enum ss_rec_type */
	uint32_t flags;		/* SS_F_* */
	uint32_t len;		/* body bytes that follow, <= SS_MAX_BODY */
	uint32_t crc;		/* crc32c of type, flags, len and the body */
};
_Static_assert(sizeof(struct ss_rec_hdr) == 16, "wire size");

#define SS_F_MANDATORY		(1u << 0)	/* a reader that does not know the type must refuse */

enum ss_rec_type {
	SS_REC_END = 0,			/* empty; the stream is complete */
	SS_REC_MACHINE = 1,		/* struct ss_machine + nr_devices struct ss_machine_dev */
	SS_REC_PAGES = 2,		/* struct ss_pages + nr_pages * 4096 bytes */
	SS_REC_ZERO_PAGES = 3,		/* struct ss_pages: these pages are all zero */
	SS_REC_VM = 4,			/* struct vm_state (PICs, IOAPIC, PIT, kvmclock) */
	SS_REC_CPUID = 5,		/* vCPU 0's CPUID: nent * kvm_cpuid_entry2 (same CPU?) */
	SS_REC_SYNC = 6,		/* live streams, mandatory: struct ss_sync; the reader
					 * answers on the socket once all before it is applied */

	/* vCPU state: struct ss_vcpu, then the KVM struct named. */
	SS_REC_VCPU_REGS = 16,		/* kvm_regs */
	SS_REC_VCPU_SREGS = 17,		/* kvm_sregs (hosts without KVM_CAP_SREGS2) */
	SS_REC_VCPU_SREGS2 = 18,	/* kvm_sregs2 (with the PDPTRs) */
	SS_REC_VCPU_FPU = 19,		/* kvm_fpu (hosts without KVM_CAP_XSAVE) */
	SS_REC_VCPU_XSAVE = 20,		/* the XSAVE area, KVM_CAP_XSAVE2 bytes (>= 4096) */
	SS_REC_VCPU_XCRS = 21,		/* kvm_xcrs */
	SS_REC_VCPU_MSRS = 22,		/* u32 nmsrs, u32 pad, nmsrs * kvm_msr_entry */
	SS_REC_VCPU_LAPIC = 23,		/* kvm_lapic_state */
	SS_REC_VCPU_EVENTS = 24,	/* kvm_vcpu_events */
	SS_REC_VCPU_MP_STATE = 25,	/* kvm_mp_state */
	SS_REC_VCPU_DEBUGREGS = 26,	/* kvm_debugregs */

	/* Devices. */
	SS_REC_UART = 32,		/* struct uart_state */
	SS_REC_PCI = 33,		/* struct ss_pci: CONFIG_ADDRESS and every slot's config */
	SS_REC_VIRTIO = 34,		/* struct ss_virtio + extra_len bytes of device state */
	SS_REC_TESTDEV = 35,		/* optional: the test device's scratch register */
	SS_REC_BALLOON = 36,		/* optional: struct ss_balloon + nr_words u64 of the
					 * balloon's held-page bitmap */
};

/* MACHINE: what must match for a restore; the command line supplies the backends. */
struct ss_machine {
	uint64_t mem_size;	/* guest RAM, bytes */
	uint32_t nr_vcpus;
	uint32_t nr_devices;	/* struct ss_machine_dev entries that follow */
	uint32_t flags;		/* SS_MACHINE_* */
	uint32_t reserved;
	char vmm_version[16];	/* who wrote it, for messages */
};
_Static_assert(sizeof(struct ss_machine) == 40, "wire size");

#define SS_MACHINE_TEST_DEVICE	(1u << 0)

struct ss_machine_dev {
	uint8_t slot;		/* PCI slot */
	uint8_t reserved;
	uint16_t virtio_id;	/* VIRTIO_ID_* */
	uint32_t flags;		/* SS_DEV_READONLY */
	uint64_t size;		/* disk capacity in bytes; 0 for other devices */
};
_Static_assert(sizeof(struct ss_machine_dev) == 16, "wire size");

#define SS_DEV_READONLY		(1u << 0)

/* PAGES / ZERO_PAGES: a run of 4 KiB pages of the RAM memfd (page index, not GPA). */
struct ss_pages {
	uint64_t first;		/* index of the first page in the RAM file */
	uint32_t nr;		/* pages (PAGES: at most SS_PAGES_PER_RECORD) */
	uint32_t reserved;
};
_Static_assert(sizeof(struct ss_pages) == 16, "wire size");

/*
 * SYNC: the migration's source waits (guest running) until the destination has read and
 * applied everything before this record, which it says with a SYNCED message carrying
 * @seq on the socket's back channel (migrate.c). Only in a LIVE stream.
 */
struct ss_sync {
	uint64_t seq;		/* counts up from 1 in a stream */
};
_Static_assert(sizeof(struct ss_sync) == 8, "wire size");

/* BALLOON: words [first_word, first_word + nr_words) of the bitmap of held 4 KiB pages. */
struct ss_balloon {
	uint8_t slot;		/* the balloon's PCI slot */
	uint8_t reserved[3];
	uint32_t nr_words;	/* u64 words that follow, 1..SS_BALLOON_WORDS */
	uint64_t first_word;	/* bit n of word w: RAM file page w * 64 + n */
};
_Static_assert(sizeof(struct ss_balloon) == 16, "wire size");

#define SS_BALLOON_WORDS	4096u	/* 32 KiB of bitmap (16 GiB of RAM) per record */

struct ss_vcpu {
	uint32_t id;
	uint32_t reserved;
};
_Static_assert(sizeof(struct ss_vcpu) == 8, "wire size");

#define SS_PCI_SLOTS		32

struct ss_pci {
	uint32_t config_addr;	/* 0xcf8 latch */
	uint32_t present;	/* bit n: slot n's config follows in cfg[n] */
	uint8_t cfg[SS_PCI_SLOTS][256];
};
_Static_assert(sizeof(struct ss_pci) == 8 + 32 * 256, "wire size");

#define SS_VIRTIO_QUEUES	8
#define SS_VIRTIO_VECTORS	(SS_VIRTIO_QUEUES + 1)

struct ss_virtqueue {
	uint16_t size;
	uint8_t enabled;
	uint8_t signalled_used_valid;
	uint16_t msix_vector;
	uint16_t last_avail;	/* next available entry the device takes */
	uint16_t used_idx;	/* the device's copy of used->idx */
	uint16_t signalled_used;
	uint32_t reserved;
	uint64_t desc_gpa, avail_gpa, used_gpa;
};
_Static_assert(sizeof(struct ss_virtqueue) == 40, "wire size");

struct ss_virtio {
	uint8_t slot;
	uint8_t nr_queues;
	uint16_t virtio_id;
	uint8_t status;
	uint8_t isr;
	uint8_t config_generation;
	uint8_t flags;		/* SS_VIRTIO_* */
	uint32_t device_feature_sel, driver_feature_sel;
	uint64_t driver_features;
	uint16_t queue_sel;
	uint16_t msix_config;
	uint16_t nr_vectors;
	uint16_t extra_len;	/* device-specific bytes after this struct */
	uint64_t msix_pending;
	uint32_t msix[SS_VIRTIO_VECTORS][4];	/* addr_lo, addr_hi, data, ctrl */
	struct ss_virtqueue vqs[SS_VIRTIO_QUEUES];
};
_Static_assert(sizeof(struct ss_virtio) == 40 + 144 + 320, "wire size");

#define SS_VIRTIO_INTX		(1u << 0)	/* INTA# was asserted */
#define SS_VIRTIO_MSIX_ON	(1u << 1)
#define SS_VIRTIO_MSIX_MASKED	(1u << 2)

uint32_t ss_crc32c(uint32_t crc, const void *buf, size_t len);
uint64_t ss_now_ns(void);		/* CLOCK_MONOTONIC */
/* Format @fmt into @err and return @ret (for the save and migration code's messages). */
int ss_error(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- writing ---- */

struct ss_writer {
	int fd;
	uint64_t bytes;		/* written so far */
	uint64_t rate;		/* bytes per second at most (migration); 0: no limit */
	uint64_t start_ns;	/* CLOCK_MONOTONIC when the rate counts from */
	uint64_t rate_base;	/* ... and the byte count it counts from */
	uint8_t *bounce;	/* live: pages are copied here first (the guest runs), 1 MiB */
	void (*on_write)(void *opaque);	/* called before each write (migration's throttle) */
	void *opaque;
	const bool *cancel;	/* if set and true (atomic), writes fail with -ECANCELED */
	uint64_t *live_bytes;	/* if set, @bytes is stored here (atomic) after each write */
	uint64_t *live_pages;	/* if set, pages of PAGES/ZERO_PAGES records are counted
				 * here (atomic) as they go (save.c) */
};

int ss_write_header(struct ss_writer *w, uint32_t flags) _must_check_;
/* One record whose body is the concatenation of @iov[0..n). */
int ss_write_recordv(struct ss_writer *w, uint32_t type, uint32_t flags,
		     const struct iovec *iov, int n) _must_check_;
int ss_write_record(struct ss_writer *w, uint32_t type, uint32_t flags, const void *body,
		    size_t len) _must_check_;

/* ---- reading ---- */

struct ss_reader {
	int fd;
	const char *name;	/* the file, for messages */
	uint64_t offset;	/* bytes consumed */
	uint32_t hdr_flags;	/* the header's SS_HDR_* */
	uint8_t *buf;		/* the current record's body */
	size_t cap;
	uint8_t *ram;		/* PAGES data goes straight to its place here */
	uint64_t ram_pages;
	bool defer_pages;	/* seekable file: skip PAGES data (lazy restore, lazy.h) */
	uint64_t end;		/* with defer_pages: the stream's bytes in the file */
	char err[320];		/* what was wrong, when a call failed */
};

struct ss_record {
	uint32_t type, flags, len;
	uint64_t offset;	/* of its header in the stream */
	const uint8_t *body;	/* valid until the next ss_read_record(); NULL for an optional
				 * unknown record too large to keep (its checksum was checked) */
	/*
	 * PAGES: body has the ss_pages, the data is in r->ram already, or with defer_pages
	 * (deferred) at stream offset data_at, unchecked: its checksum is crc32c continued
	 * from crc_part over the data, and must come out as crc.
	 */
	bool deferred;
	uint64_t data_at;
	uint32_t crc_part, crc;
};

void ss_reader_init(struct ss_reader *r, int fd, const char *name);
void ss_reader_release(struct ss_reader *r);
/* Check magic, version and checksum. Return: 0 or -errno with r->err set. */
int ss_read_header(struct ss_reader *r) _must_check_;
/* The next record, checksum verified. Return: 0 or -errno with r->err set. */
int ss_read_record(struct ss_reader *r, struct ss_record *rec) _must_check_;

/* Set r->err to "NAME: what" and return @ret (for the layers above the framing). */
int ss_reader_fail(struct ss_reader *r, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A record type's name for messages ("VCPU_REGS"), or NULL if unknown. */
const char *ss_rec_name(uint32_t type);

#endif
