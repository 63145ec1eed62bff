/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The RelaxNG schema of the supported domain XML (xml-schemas/domain.rng), compiled once and
 * used to validate every definition before it is parsed.
 *
 * libxml2's RelaxNG messages name the parent of what is wrong ("Element devices has extra
 * content: hostdev") and not always the line of the culprit. So besides the compiled schema
 * we keep a table read from the same .rng file: for each element path, the child elements,
 * the attributes and the fixed values the schema allows anywhere. When validation fails, the
 * document is walked against that table to name the first element, attribute or value the
 * schema has no place for, with its line; only when the walk finds nothing (a wrong
 * combination, a bad number, a missing element) is libxml2's own message used, with the line
 * of the element it is about. The schema stays the only authority on what is accepted.
 *
 * A struct domus_schema is immutable after loading and may be shared between threads. Load
 * it in the main thread before other threads use libxml2: loading initializes libxml2.
 */
#ifndef DOMUS_DOMAIN_SCHEMA_H
#define DOMUS_DOMAIN_SCHEMA_H

#include <libxml/tree.h>

#include "domus_error.h"

struct domus_schema;
typedef struct domus_schema domus_schema;	/* for g_autoptr() only */

/* Where domain.rng is: $DOMUS_SCHEMA_DIR/domain.rng if that variable is set, else the
 * installed copy (<datadir>/domus/schemas/domain.rng). Return: a new string (g_free). */
char *domus_schema_default_path(void);

/* Compiles the schema at @path. Return: a new schema, or NULL with *err set
 * (VIR_ERR_INTERNAL_ERROR: the file is missing or is not a usable RelaxNG grammar). */
struct domus_schema *domus_schema_load(const char *path, struct domus_error **err);

void domus_schema_free(struct domus_schema *schema);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(domus_schema, domus_schema_free)

/*
 * domus_schema_validate() - @doc against the schema. Return: 0 when valid; -1 with *err:
 * VIR_ERR_CONFIG_UNSUPPORTED "unsupported element <hostdev> at line 12" (attribute, value
 * likewise), or VIR_ERR_XML_ERROR "invalid <vcpu> at line 7: <libxml2's reason>".
 */
int domus_schema_validate(const struct domus_schema *schema, xmlDoc *doc,
			  struct domus_error **err);

#endif
