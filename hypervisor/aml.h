/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small AML encoder (ACPI 6.x §20) for the few objects a Domus DSDT needs.
 *
 * Every emitter appends to a growable buffer and never fails on its own: the first error (-ENOMEM,
 * -EINVAL for a malformed name or id, -E2BIG for an object over 256 MiB) is kept in the buffer and
 * returned once by aml_error(), so a table is built straight through and checked at the end.
 *
 * Objects with a PkgLength (Scope, Device, Method, Package, Buffer) nest with begin/end pairs:
 * *_begin() returns a mark, and *_end() inserts the PkgLength there once the body is complete,
 * because its size depends on the body's.
 *
 * Tables that use these helpers must be DSDT revision 2 or later (64-bit integers).
 */
#ifndef DOMUS_AML_H
#define DOMUS_AML_H

#include <stddef.h>
#include <stdint.h>

struct aml_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err;		/* first error, sticky; 0 while all is well */
};

/* Extended Interrupt descriptor flags; 0 means producer, level, active high, exclusive. */
#define AML_IRQ_CONSUMER	(1 << 0)
#define AML_IRQ_EDGE		(1 << 1)
#define AML_IRQ_ACTIVE_LOW	(1 << 2)
#define AML_IRQ_SHARED		(1 << 3)

void aml_init(struct aml_buf *b);
void aml_free(struct aml_buf *b);
int aml_error(const struct aml_buf *b);

void aml_byte(struct aml_buf *b, uint8_t v);
void aml_bytes(struct aml_buf *b, const void *p, size_t n);

/* PkgLength for @body bytes into @out: returns its size (1-4), or -E2BIG. */
int aml_pkglen_encode(uint8_t out[4], size_t body);

/* Data objects. aml_integer() picks the shortest of Zero/One/Ones/Byte/Word/DWord/QWord. */
void aml_integer(struct aml_buf *b, uint64_t v);
void aml_string(struct aml_buf *b, const char *s);
void aml_eisaid(struct aml_buf *b, const char *id);		/* "PNP0A03" */

/*
 * NameString: "\\" prefix for the root, '.'-separated segments of up to 4 characters that are
 * padded with '_' ("\\_SB.COM1", "_S5", "PCI0").
 */
void aml_name_string(struct aml_buf *b, const char *path);

/* Name(@name, <next term>): the caller appends the data object. */
void aml_name(struct aml_buf *b, const char *name);
void aml_name_integer(struct aml_buf *b, const char *name, uint64_t v);
void aml_name_str(struct aml_buf *b, const char *name, const char *s);
void aml_name_eisaid(struct aml_buf *b, const char *name, const char *id);

/* Statements inside a Method. aml_return() is followed by its operand. */
void aml_notify(struct aml_buf *b, const char *target, uint64_t value);
void aml_return(struct aml_buf *b);

/* Nesting: each *_begin() returns the mark that its matching end call takes. */
size_t aml_scope_begin(struct aml_buf *b, const char *name);
size_t aml_device_begin(struct aml_buf *b, const char *name);
size_t aml_method_begin(struct aml_buf *b, const char *name, unsigned int argc, int serialized);
size_t aml_package_begin(struct aml_buf *b, uint8_t nr_elements);
size_t aml_buffer_begin(struct aml_buf *b);
void aml_pkg_end(struct aml_buf *b, size_t mark);	/* Scope, Device, Method, Package */
void aml_buffer_end(struct aml_buf *b, size_t mark);	/* inserts BufferSize, then PkgLength */

/* ResourceTemplate: a Buffer of descriptors closed by an EndTag. */
size_t aml_rt_begin(struct aml_buf *b);
void aml_rt_end(struct aml_buf *b, size_t mark);

void aml_rd_io(struct aml_buf *b, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
void aml_rd_ext_irq(struct aml_buf *b, uint32_t gsi, uint8_t flags);
/* Address-space windows that a bridge produces, [min, max] with fixed bounds. */
void aml_rd_word_bus(struct aml_buf *b, uint16_t min, uint16_t max);
void aml_rd_dword_io(struct aml_buf *b, uint32_t min, uint32_t max);
void aml_rd_dword_memory(struct aml_buf *b, uint32_t min, uint32_t max);
void aml_rd_qword_memory(struct aml_buf *b, uint64_t min, uint64_t max);

#endif
