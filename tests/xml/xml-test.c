// SPDX-License-Identifier: GPL-2.0-or-later
/* Helpers of the xml suite (see xml-test.h). */
#include <string.h>
#include <unistd.h>

#include <libxml/relaxng.h>

#include "xml-test.h"

#define LIBVIRT_DOMAIN_RNG "/usr/share/libvirt/schemas/domain.rng"

int t_failures;

struct domus_schema *t_schema(void)
{
	static struct domus_schema *schema;
	g_autofree char *path = domus_schema_default_path();
	struct domus_error *err = NULL;

	if (schema)
		return schema;
	schema = domus_schema_load(path, &err);
	if (!schema) {
		fprintf(stderr, "cannot load %s: %s\n", path, err->message);
		exit(1);
	}
	return schema;
}

static void collect(void *data, xmlErrorPtr e)
{
	g_string_append_printf(data, "line %d: %s", e->line, e->message ? e->message : "?\n");
}

char *t_libvirt_validate(const char *xml)
{
	static xmlRelaxNGPtr rng;
	g_autoptr(GString) msgs = g_string_new(NULL);
	xmlRelaxNGValidCtxtPtr v;
	xmlDoc *doc;
	int rc;

	if (!rng) {
		xmlRelaxNGParserCtxtPtr p;

		if (access(LIBVIRT_DOMAIN_RNG, R_OK) < 0) {
			printf("SKIP: %s is missing (Debian package libvirt0)\n", LIBVIRT_DOMAIN_RNG);
			exit(77);
		}
		p = xmlRelaxNGNewParserCtxt(LIBVIRT_DOMAIN_RNG);
		rng = xmlRelaxNGParse(p);
		xmlRelaxNGFreeParserCtxt(p);
		if (!rng) {
			fprintf(stderr, "cannot compile %s\n", LIBVIRT_DOMAIN_RNG);
			exit(1);
		}
	}
	doc = xmlReadMemory(xml, (int)strlen(xml), "out.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return g_strdup("not well-formed");
	v = xmlRelaxNGNewValidCtxt(rng);
	xmlRelaxNGSetValidStructuredErrors(v, collect, msgs);
	rc = xmlRelaxNGValidateDoc(v, doc);
	xmlRelaxNGFreeValidCtxt(v);
	xmlFreeDoc(doc);
	return rc == 0 ? NULL : g_strdup(msgs->len ? msgs->str : "invalid");
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *t_list_dir(const char *dir, const char *suffix)
{
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *f;

	while (d && (f = g_dir_read_name(d)))
		if (g_str_has_suffix(f, suffix))
			g_ptr_array_add(files, g_strdup(f));
	g_ptr_array_sort(files, cmp_str);
	return files;
}

GPtrArray *t_list_xml(const char *dir)
{
	GPtrArray *files = t_list_dir(dir, ".xml");

	if (!files->len) {
		fprintf(stderr, "no *.xml in %s\n", dir);
		exit(1);
	}
	return files;
}

char *t_read(const char *path)
{
	char *data;

	if (!g_file_get_contents(path, &data, NULL, NULL)) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	return data;
}

int t_done(const char *name)
{
	if (t_failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, t_failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}
