// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Every tests/xml/bad/NAME.xml is refused, and the error names what is wrong and its line.
 * Each file starts with the expectation, e.g.
 *   <!-- expect VIR_ERR_CONFIG_UNSUPPORTED: unsupported element <hostdev> at line 12 -->
 * and the error must have that code and a message containing that text.
 */
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "xml-test.h"

static const struct {
	const char *name;
	int code;
} codes[] = {
	{ "VIR_ERR_CONFIG_UNSUPPORTED", VIR_ERR_CONFIG_UNSUPPORTED },
	{ "VIR_ERR_XML_ERROR", VIR_ERR_XML_ERROR },
	{ "VIR_ERR_XML_DETAIL", VIR_ERR_XML_DETAIL },
	{ "VIR_ERR_OVERFLOW", VIR_ERR_OVERFLOW },
};

static int code_of(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(codes); i++)
		if (!strcmp(codes[i].name, name))
			return codes[i].code;
	return -1;
}

static void test_file(const char *dir, const char *name)
{
	g_autofree char *path = g_strdup_printf("%s/%s", dir, name);
	g_autofree char *xml = t_read(path);
	g_autofree char *code_name = NULL;
	g_autofree char *want = NULL;
	g_autoptr(domus_domain_def) def = NULL;
	g_autoptr(domus_error) err = NULL;
	const char *p = strstr(xml, "<!-- expect "), *colon, *end;

	if (!p || !(colon = strstr(p, ": ")) || !(end = strstr(p, " -->"))) {
		CHECK_MSG(false, "%s: no '<!-- expect CODE: message -->' line", name);
		return;
	}
	code_name = g_strndup(p + 12, (size_t)(colon - p - 12));
	want = g_strndup(colon + 2, (size_t)(end - colon - 2));
	def = domus_domain_def_parse_string(t_schema(), xml, 0, &err);
	CHECK_MSG(!def, "%s: accepted", name);
	if (def || !err)
		return;
	CHECK_MSG(err->code == code_of(code_name), "%s: code %d, expected %s (message: %s)",
		  name, err->code, code_name, err->message);
	CHECK_MSG(strstr(err->message, want), "%s:\n  message  '%s'\n  expected '%s'", name,
		  err->message, want);
	if (g_getenv("DOMUS_VERBOSE"))
		printf("%-36s %s\n", name, err->message);
}

/* Errors that no file can show. */
static void test_api_errors(void)
{
	g_autoptr(domus_error) err = NULL;
	g_autofree char *big = NULL;
	size_t n = DOMUS_DOMAIN_XML_MAX + 1;

	CHECK(!domus_domain_def_parse_string(t_schema(), NULL, 0, &err));
	CHECK(err && err->code == VIR_ERR_INVALID_ARG);
	domus_error_clear(&err);

	big = g_malloc(n + 1);
	memset(big, ' ', n);
	big[n] = '\0';
	CHECK(!domus_domain_def_parse_string(t_schema(), big, 0, &err));
	CHECK(err && err->code == VIR_ERR_XML_ERROR && strstr(err->message, "more than"));
	domus_error_clear(&err);

	CHECK(!domus_domain_def_parse_file(t_schema(), "/nonexistent/x.xml", 0, &err));
	CHECK(err && strstr(err->message, "/nonexistent/x.xml"));
	domus_error_clear(&err);

	/* a device or a FIFO would block or never end: refused before any read */
	CHECK(!domus_domain_def_parse_file(t_schema(), "/dev/zero", 0, &err));
	CHECK(err && strstr(err->message, "'/dev/zero': not a regular file"));
	domus_error_clear(&err);
	{
		g_autofree char *dir = g_dir_make_tmp("xml-reject-XXXXXX", NULL);
		g_autofree char *fifo = g_build_filename(dir, "fifo.xml", NULL);
		g_autofree char *file = g_build_filename(dir, "big.xml", NULL);

		CHECK(dir && mkfifo(fifo, 0600) == 0);
		CHECK(!domus_domain_def_parse_file(t_schema(), fifo, 0, &err));
		CHECK(err && strstr(err->message, "not a regular file"));
		domus_error_clear(&err);
		CHECK(g_file_set_contents(file, big, n, NULL));
		CHECK(!domus_domain_def_parse_file(t_schema(), file, 0, &err));
		CHECK(err && err->code == VIR_ERR_XML_ERROR && strstr(err->message, "more than"));
		domus_error_clear(&err);
		g_unlink(fifo);
		g_unlink(file);
		g_rmdir(dir);
	}

	CHECK(domus_domain_name_check("ok name", true, NULL) == 0);
	CHECK(domus_domain_name_check("tab\there", true, &err) < 0);
	CHECK(err && err->code == VIR_ERR_INVALID_ARG && strstr(err->message, "control"));
}

int main(int argc, char **argv)
{
	g_autofree char *dir = g_strdup_printf("%s/bad", argc > 1 ? argv[1] : ".");
	g_autoptr(GPtrArray) files = t_list_xml(dir);

	for (guint i = 0; i < files->len; i++)
		test_file(dir, files->pdata[i]);
	test_api_errors();
	return t_done("xml rejections");
}
