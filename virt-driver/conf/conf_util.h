/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Value types of the domain XML: scaled memory sizes, CPU sets, UUIDs and MAC addresses. */
#ifndef DOMUS_CONF_UTIL_H
#define DOMUS_CONF_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domus_error.h"

/* The largest memory size we represent, in KiB: the size in bytes must fit in 64 bits. */
#define DOMUS_MEMORY_MAX_KIB (UINT64_MAX / 1024)

/*
 * domus_memory_parse_kib() - a memory size as libvirt's <memory unit='…'> spells it, in KiB.
 * @value: decimal digits; @unit: NULL (KiB) or one of libvirt's units, case-insensitive:
 *   b, byte, bytes = 1; k, KiB = 1024; KB = 1000; m, MiB = 1024²; MB = 1000²; … up to
 *   e, EiB / EB.
 * The result is rounded up to a whole KiB (as libvirt does).
 * Return: 0; -1 with VIR_ERR_XML_ERROR (malformed, unknown unit) or VIR_ERR_OVERFLOW (the
 * size in bytes does not fit in 64 bits).
 */
int domus_memory_parse_kib(const char *value, const char *unit, uint64_t *ret_kib,
			   struct domus_error **err);

/* Scale factor in bytes of a libvirt unit; 0 for an unknown unit. NULL means KiB. */
uint64_t domus_memory_unit_scale(const char *unit);

/* A set of host CPUs, 0 .. DOMUS_CPUSET_MAX - 1 (libvirt's cpuset syntax "0-3,^2,8"). */
#define DOMUS_CPUSET_MAX 4096
struct domus_cpuset {
	uint64_t bits[DOMUS_CPUSET_MAX / 64];
};

/* Parses "0-3,^2,8". Return: a new set (g_free), or NULL with VIR_ERR_XML_ERROR for bad
 * syntax, a CPU >= DOMUS_CPUSET_MAX, a reversed range or a set that ends up empty. */
struct domus_cpuset *domus_cpuset_parse(const char *str, struct domus_error **err);

/* Canonical form, ranges ascending: "0-2,5". Return: a new string (g_free). */
char *domus_cpuset_format(const struct domus_cpuset *set);

bool domus_cpuset_test(const struct domus_cpuset *set, unsigned int cpu);
void domus_cpuset_set(struct domus_cpuset *set, unsigned int cpu);
bool domus_cpuset_is_empty(const struct domus_cpuset *set);

/* UUIDs: 16 bytes. Parse accepts 32 hex digits, with or without the 8-4-4-4-12 dashes. */
int domus_uuid_parse(const char *str, uint8_t uuid[16]);
/* Formats lowercase 8-4-4-4-12 into @buf (at least 37 bytes). */
void domus_uuid_format(const uint8_t uuid[16], char buf[37]);
/* A random (version 4) UUID. */
void domus_uuid_generate(uint8_t uuid[16]);

/* MAC addresses: 6 bytes. Parse accepts "52:54:00:ab:cd:ef" (hex, either case). */
int domus_conf_mac_parse(const char *str, uint8_t mac[6]);
void domus_mac_format(const uint8_t mac[6], char buf[18]);
/* A random unicast address under KVM's conventional prefix 52:54:00. */
void domus_mac_generate(uint8_t mac[6]);

#endif
