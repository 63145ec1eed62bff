/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the tests of virt-driver/conf: checks, files, schemas. */
#ifndef DOMUS_XML_TEST_H
#define DOMUS_XML_TEST_H

#include <stdio.h>
#include <stdlib.h>

#include "domain_conf.h"
#include "domain_schema.h"

extern int t_failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
			t_failures++;                                                              \
		}                                                                                  \
	} while (0)

#define CHECK_MSG(cond, ...)                                                                       \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			t_failures++;                                                              \
		}                                                                                  \
	} while (0)

/* Our schema (xml-schemas/domain.rng via DOMUS_SCHEMA_DIR); exits on failure. */
struct domus_schema *t_schema(void);

/* Validates @xml against libvirt's own domain.rng (Debian's libvirt0). Return: NULL when
 * valid, else libxml2's messages (g_free). Exits 77 if the schema is not installed. */
char *t_libvirt_validate(const char *xml);

/* Sorted names of the entries of @dir that end with @suffix (may be empty). */
GPtrArray *t_list_dir(const char *dir, const char *suffix);

/* Sorted *.xml file names in @dir; exits if there is none. */
GPtrArray *t_list_xml(const char *dir);

/* The file's contents; exits on failure. */
char *t_read(const char *path);

/* The test's exit status: 1 when a CHECK failed. */
int t_done(const char *name);

#endif
