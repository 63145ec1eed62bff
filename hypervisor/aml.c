// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * AML encoder: opcodes and layouts from ACPI 6.x §20.2 (AML grammar) and §6.4 (resource
 * descriptors). Multi-byte values in AML and in descriptors are little endian.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aml.h"

#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_METHOD_OP		0x14
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_EXT_OP_PREFIX	0x5b
#define AML_DEVICE_OP		0x82	/* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR		'\\'
#define AML_NOTIFY_OP		0x86
#define AML_RETURN_OP		0xa4
#define AML_ONES_OP		0xff

/* Resource descriptor tags (small: type and length in one byte; large: type, then a u16). */
#define RD_IO			0x47	/* small, 7 bytes follow */
#define RD_END_TAG		0x79	/* small, 1 byte (checksum) follows */
#define RD_DWORD_ADDR		0x87
#define RD_WORD_ADDR		0x88
#define RD_EXT_IRQ		0x89
#define RD_QWORD_ADDR		0x8a

#define RD_IO_DECODE16		0x01
#define RD_ADDR_MEMORY		0
#define RD_ADDR_IO		1
#define RD_ADDR_BUS		2
#define RD_ADDR_FIXED		0x0c	/* producer, MinFixed, MaxFixed, positive decode */
#define RD_IO_ENTIRE_RANGE	0x03
#define RD_MEM_RW		0x01	/* read-write, non-cacheable */

void aml_init(struct aml_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void aml_free(struct aml_buf *b)
{
	free(b->data);
	aml_init(b);
}

int aml_error(const struct aml_buf *b)
{
	return b->err;
}

static void aml_fail(struct aml_buf *b, int err)
{
	if (!b->err)
		b->err = err;
}

/* Make room for @n more bytes; false (with the error recorded) if the buffer is unusable. */
static bool aml_reserve(struct aml_buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->err)
		return false;
	if (n <= b->cap - b->len)
		return true;
	if (n > SIZE_MAX / 2 - b->len) {	/* keeps the doubling below from wrapping */
		aml_fail(b, -ENOMEM);
		return false;
	}

	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		aml_fail(b, -ENOMEM);
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void aml_bytes(struct aml_buf *b, const void *p, size_t n)
{
	if (!aml_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void aml_byte(struct aml_buf *b, uint8_t v)
{
	aml_bytes(b, &v, 1);
}

/* Insert @n bytes at @at, which is how a prefix whose size depends on the body gets in. */
static void aml_insert(struct aml_buf *b, size_t at, const uint8_t *p, size_t n)
{
	if (at > b->len)
		aml_fail(b, -EINVAL);
	if (!aml_reserve(b, n))
		return;
	memmove(b->data + at + n, b->data + at, b->len - at);
	memcpy(b->data + at, p, n);
	b->len += n;
}

static size_t put_le(uint8_t *out, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = v >> (8 * i);
	return n;
}

static void aml_le(struct aml_buf *b, uint64_t v, size_t n)
{
	uint8_t tmp[8];

	aml_bytes(b, tmp, put_le(tmp, v, n));
}

/*
 * The encoded length counts the PkgLength bytes themselves. One byte holds 6 bits; longer forms
 * put the byte count - 1 in bits 7:6 and the low nibble in bits 3:0, then 8 bits per extra byte.
 */
int aml_pkglen_encode(uint8_t out[4], size_t body)
{
	size_t total;
	int n;

	if (body + 1 < 64) {
		out[0] = body + 1;
		return 1;
	}
	for (n = 2; n <= 4; n++) {
		total = body + n;
		if (total < (size_t)1 << (4 + 8 * (n - 1)))
			break;
	}
	if (n > 4)
		return -E2BIG;

	out[0] = ((n - 1) << 6) | (total & 0xf);
	put_le(out + 1, total >> 4, n - 1);
	return n;
}

static size_t encode_integer(uint8_t out[9], uint64_t v)
{
	static const uint8_t prefix[9] = {
		[1] = AML_BYTE_PREFIX, [2] = AML_WORD_PREFIX,
		[4] = AML_DWORD_PREFIX, [8] = AML_QWORD_PREFIX,
	};
	size_t n;

	if (v == 0 || v == 1) {
		out[0] = v ? AML_ONE_OP : AML_ZERO_OP;
		return 1;
	}
	if (v == UINT64_MAX) {		/* Ones is all 64 bits only in revision 2+ tables */
		out[0] = AML_ONES_OP;
		return 1;
	}
	n = v <= UINT8_MAX ? 1 : v <= UINT16_MAX ? 2 : v <= UINT32_MAX ? 4 : 8;
	out[0] = prefix[n];
	return 1 + put_le(out + 1, v, n);
}

void aml_integer(struct aml_buf *b, uint64_t v)
{
	uint8_t tmp[9];

	aml_bytes(b, tmp, encode_integer(tmp, v));
}

void aml_string(struct aml_buf *b, const char *s)
{
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c > 0x7f)
			aml_fail(b, -EINVAL);
	}
	aml_byte(b, AML_STRING_PREFIX);
	aml_bytes(b, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Three letters in 5 bits each, then four hex digits; stored as a DWord, most significant first. */
void aml_eisaid(struct aml_buf *b, const char *id)
{
	uint32_t v = 0;
	int i;

	if (strlen(id) != 7) {
		aml_fail(b, -EINVAL);
		return;
	}
	for (i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			aml_fail(b, -EINVAL);
		v |= (uint32_t)((id[i] - 0x40) & 0x1f) << (26 - 5 * i);
	}
	for (i = 3; i < 7; i++) {
		if (hex_digit(id[i]) < 0)
			aml_fail(b, -EINVAL);
		v |= (uint32_t)(hex_digit(id[i]) & 0xf) << (4 * (6 - i));
	}
	aml_byte(b, AML_DWORD_PREFIX);
	aml_le(b, __builtin_bswap32(v), 4);
}

static bool name_char_ok(char c, bool lead)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (!lead && c >= '0' && c <= '9');
}

/* One segment of @n characters, padded with '_' to the fixed four. */
static void aml_name_seg(struct aml_buf *b, const char *s, size_t n)
{
	char seg[4];

	if (n == 0 || n > 4)
		aml_fail(b, -EINVAL);
	for (size_t i = 0; i < 4; i++) {
		seg[i] = i < n ? s[i] : '_';
		if (!name_char_ok(seg[i], i == 0))
			aml_fail(b, -EINVAL);
	}
	aml_bytes(b, seg, 4);
}

void aml_name_string(struct aml_buf *b, const char *path)
{
	size_t nr_segs = 0;
	const char *p;

	if (*path == AML_ROOT_CHAR)
		aml_byte(b, *path++);
	if (*path)
		nr_segs = 1;
	for (p = path; *p; p++)
		nr_segs += *p == '.';

	if (nr_segs == 0) {
		aml_byte(b, AML_ZERO_OP);	/* NullName */
	} else if (nr_segs == 2) {
		aml_byte(b, AML_DUAL_NAME_PREFIX);
	} else if (nr_segs > 2) {
		if (nr_segs > UINT8_MAX)
			aml_fail(b, -EINVAL);
		aml_byte(b, AML_MULTI_NAME_PREFIX);
		aml_byte(b, nr_segs);
	}

	while (*path) {
		size_t n = strcspn(path, ".");

		aml_name_seg(b, path, n);
		path += n;
		if (*path == '.' && !*++path)
			aml_fail(b, -EINVAL);	/* trailing dot */
	}
}

void aml_name(struct aml_buf *b, const char *name)
{
	aml_byte(b, AML_NAME_OP);
	aml_name_string(b, name);
}

void aml_name_integer(struct aml_buf *b, const char *name, uint64_t v)
{
	aml_name(b, name);
	aml_integer(b, v);
}

void aml_name_str(struct aml_buf *b, const char *name, const char *s)
{
	aml_name(b, name);
	aml_string(b, s);
}

void aml_name_eisaid(struct aml_buf *b, const char *name, const char *id)
{
	aml_name(b, name);
	aml_eisaid(b, id);
}

void aml_notify(struct aml_buf *b, const char *target, uint64_t value)
{
	aml_byte(b, AML_NOTIFY_OP);
	aml_name_string(b, target);
	aml_integer(b, value);
}

void aml_return(struct aml_buf *b)
{
	aml_byte(b, AML_RETURN_OP);
}

size_t aml_scope_begin(struct aml_buf *b, const char *name)
{
	size_t mark;

	aml_byte(b, AML_SCOPE_OP);
	mark = b->len;
	aml_name_string(b, name);
	return mark;
}

size_t aml_device_begin(struct aml_buf *b, const char *name)
{
	size_t mark;

	aml_byte(b, AML_EXT_OP_PREFIX);
	aml_byte(b, AML_DEVICE_OP);
	mark = b->len;
	aml_name_string(b, name);
	return mark;
}

/* MethodFlags: bits 2:0 ArgCount, bit 3 SerializeFlag, bits 7:4 SyncLevel (0). */
size_t aml_method_begin(struct aml_buf *b, const char *name, unsigned int argc, int serialized)
{
	size_t mark;

	if (argc > 7)
		aml_fail(b, -EINVAL);
	aml_byte(b, AML_METHOD_OP);
	mark = b->len;
	aml_name_string(b, name);
	aml_byte(b, (argc & 7) | (serialized ? 0x08 : 0));
	return mark;
}

size_t aml_package_begin(struct aml_buf *b, uint8_t nr_elements)
{
	size_t mark;

	aml_byte(b, AML_PACKAGE_OP);
	mark = b->len;
	aml_byte(b, nr_elements);
	return mark;
}

size_t aml_buffer_begin(struct aml_buf *b)
{
	aml_byte(b, AML_BUFFER_OP);
	return b->len;
}

void aml_pkg_end(struct aml_buf *b, size_t mark)
{
	uint8_t pkglen[4];
	int n;

	if (b->err)
		return;
	if (mark > b->len) {
		aml_fail(b, -EINVAL);
		return;
	}
	n = aml_pkglen_encode(pkglen, b->len - mark);
	if (n < 0) {
		aml_fail(b, n);
		return;
	}
	aml_insert(b, mark, pkglen, n);
}

void aml_buffer_end(struct aml_buf *b, size_t mark)
{
	uint8_t size[9];

	if (b->err)
		return;
	aml_insert(b, mark, size, encode_integer(size, b->len - mark));
	aml_pkg_end(b, mark);
}

size_t aml_rt_begin(struct aml_buf *b)
{
	return aml_buffer_begin(b);
}

void aml_rt_end(struct aml_buf *b, size_t mark)
{
	aml_byte(b, RD_END_TAG);
	aml_byte(b, 0);		/* checksum 0: "treat as if the checksum were correct" */
	aml_buffer_end(b, mark);
}

void aml_rd_io(struct aml_buf *b, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	aml_byte(b, RD_IO);
	aml_byte(b, RD_IO_DECODE16);
	aml_le(b, min, 2);
	aml_le(b, max, 2);
	aml_byte(b, align);
	aml_byte(b, len);
}

void aml_rd_ext_irq(struct aml_buf *b, uint32_t gsi, uint8_t flags)
{
	aml_byte(b, RD_EXT_IRQ);
	aml_le(b, 6, 2);
	aml_byte(b, flags);
	aml_byte(b, 1);		/* one interrupt in the table */
	aml_le(b, gsi, 4);
}

/* Word/DWord/QWord Address Space: granularity, min, max, translation, length of @width bytes. */
static void aml_rd_addr(struct aml_buf *b, uint8_t tag, unsigned int width, uint8_t type,
			uint8_t type_flags, uint64_t min, uint64_t max)
{
	uint64_t len = max - min + 1;

	if (max < min || (width < 8 && len >> (8 * width)))
		aml_fail(b, -EINVAL);
	aml_byte(b, tag);
	aml_le(b, 3 + 5 * width, 2);
	aml_byte(b, type);
	aml_byte(b, RD_ADDR_FIXED);
	aml_byte(b, type_flags);
	aml_le(b, 0, width);		/* granularity */
	aml_le(b, min, width);
	aml_le(b, max, width);
	aml_le(b, 0, width);		/* translation offset */
	aml_le(b, len, width);
}

void aml_rd_word_bus(struct aml_buf *b, uint16_t min, uint16_t max)
{
	aml_rd_addr(b, RD_WORD_ADDR, 2, RD_ADDR_BUS, 0, min, max);
}

void aml_rd_dword_io(struct aml_buf *b, uint32_t min, uint32_t max)
{
	aml_rd_addr(b, RD_DWORD_ADDR, 4, RD_ADDR_IO, RD_IO_ENTIRE_RANGE, min, max);
}

void aml_rd_dword_memory(struct aml_buf *b, uint32_t min, uint32_t max)
{
	aml_rd_addr(b, RD_DWORD_ADDR, 4, RD_ADDR_MEMORY, RD_MEM_RW, min, max);
}

void aml_rd_qword_memory(struct aml_buf *b, uint64_t min, uint64_t max)
{
	aml_rd_addr(b, RD_QWORD_ADDR, 8, RD_ADDR_MEMORY, RD_MEM_RW, min, max);
}
