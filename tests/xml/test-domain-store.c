// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The store of persistent definitions (domain_store.c) in a scratch directory: save, load,
 * broken files, autostart, rename, undefine, and atomicity: a writer killed at random
 * moments and a write that fails (RLIMIT_FSIZE) never leave a torn or missing definition.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "domain_store.h"
#include "xml-test.h"

static char *scratch;

static struct domus_domain_def *make_def(const char *name, const char *description)
{
	g_autofree char *xml = g_strdup_printf(
		"<domain type='kvm'><name>%s</name><memory unit='MiB'>64</memory>"
		"<description>%s</description>"
		"<os><type>hvm</type><kernel>/boot/vmlinuz</kernel></os>"
		"<devices><interface type='ethernet'/><console type='pty'/></devices></domain>",
		name, description);
	struct domus_error *err = NULL;
	struct domus_domain_def *def = domus_domain_def_parse_string(t_schema(), xml, 0, &err);

	if (!def) {
		fprintf(stderr, "make_def: %s\n", err->message);
		exit(1);
	}
	return def;
}

static char *store_dir(const char *sub)
{
	return g_build_filename(scratch, sub, NULL);
}

/* Names of the files in @dir other than autostart/, sorted, comma-separated. */
static char *dir_listing(const char *dir)
{
	g_autoptr(GPtrArray) names = t_list_dir(dir, "");

	for (guint i = 0; i < names->len; i++)
		if (!strcmp(names->pdata[i], "autostart"))
			g_ptr_array_remove_index(names, i);
	g_ptr_array_add(names, NULL);
	return g_strjoinv(",", (char **)names->pdata);
}

static void test_save_load(void)
{
	g_autofree char *dir = store_dir("system/nested");
	g_autoptr(domus_domain_store) st = NULL;
	g_autoptr(domus_domain_def) a = make_def("alpha", "first");
	g_autoptr(domus_domain_def) b = make_def("beta", "second");
	g_autoptr(GPtrArray) defs = NULL;
	g_autoptr(GPtrArray) errors = NULL;
	g_autofree char *path = NULL;
	g_autofree char *want = NULL;
	g_autofree char *got = NULL;
	struct stat sb;

	st = domus_domain_store_open(dir, NULL);
	CHECK(st && g_file_test(dir, G_FILE_TEST_IS_DIR));
	if (!st)
		return;
	a->id = 3;		/* runtime state must not be stored */
	CHECK(domus_domain_store_save(st, a, NULL) == 0);
	CHECK(domus_domain_store_save(st, b, NULL) == 0);
	path = domus_domain_store_path(st, "alpha");
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	got = t_read(path);
	want = domus_domain_def_format(a, DOMUS_DEF_FORMAT_INACTIVE);
	CHECK(!strcmp(got, want));

	CHECK(domus_domain_store_load_all(st, t_schema(), &defs, &errors, NULL) == 0);
	CHECK(defs->len == 2 && errors->len == 0);
	if (defs->len == 2) {
		struct domus_domain_def *l = defs->pdata[0];
		g_autofree char *again = domus_domain_def_format(l, DOMUS_DEF_FORMAT_INACTIVE);

		CHECK(!strcmp(l->name, "alpha") && l->id == -1 && !memcmp(l->uuid, a->uuid, 16));
		CHECK(!memcmp(l->nets[0]->mac, a->nets[0]->mac, 6));	/* generated once, kept */
		CHECK(!strcmp(again, want));
	}
}

static void write_file(const char *dir, const char *name, const char *content)
{
	g_autofree char *p = g_build_filename(dir, name, NULL);

	CHECK(g_file_set_contents(p, content, -1, NULL));
}

static bool has_error(GPtrArray *errors, const char *file, const char *text)
{
	for (guint i = 0; i < errors->len; i++) {
		struct domus_error *e = errors->pdata[i];

		if (strstr(e->message, file) && strstr(e->message, text))
			return true;
	}
	return false;
}

/* One broken file is reported by name and does not keep the others from loading. */
static void test_broken_files(void)
{
	g_autofree char *dir = store_dir("broken");
	g_autoptr(domus_domain_store) st = domus_domain_store_open(dir, NULL);
	g_autoptr(domus_domain_def) good = make_def("good", "ok");
	g_autoptr(domus_domain_def) twin = NULL;
	g_autoptr(GPtrArray) defs = NULL;
	g_autoptr(GPtrArray) errors = NULL;
	g_autofree char *twin_xml = NULL;
	g_autofree char *sub = g_build_filename(dir, "subdir.xml", NULL);
	g_autofree char *ghost = g_build_filename(dir, "autostart", "ghost.xml", NULL);

	CHECK(st && domus_domain_store_save(st, good, NULL) == 0);
	write_file(dir, "aaa-malformed.xml", "<domain type='kvm'>\n<name>x</name>\n<memory>");
	write_file(dir, "hostdev.xml",
		   "<domain type='kvm'>\n<name>hostdev</name><memory>1024</memory>\n"
		   "<os><type>hvm</type><kernel>/k</kernel></os>\n<devices>\n"
		   "<hostdev mode='subsystem' type='pci'/>\n</devices></domain>");
	write_file(dir, "wrongname.xml",
		   "<domain type='kvm'><name>other</name><memory>1024</memory>"
		   "<os><type>hvm</type><kernel>/k</kernel></os></domain>");
	write_file(dir, "empty.xml", "");
	{
		g_autofree char *huge = g_build_filename(dir, "huge.xml", NULL);

		/* 1 GiB, sparse: refused by its size, never read */
		CHECK(g_file_set_contents(huge, "", 0, NULL) && truncate(huge, 1LL << 30) == 0);
	}
	write_file(dir, "notes.txt", "not a definition");
	/* same UUID as "good" under another name: the later file is refused */
	twin = domus_domain_def_copy(good);
	g_free(twin->name);
	twin->name = g_strdup("zz-twin");
	twin_xml = domus_domain_def_format(twin, DOMUS_DEF_FORMAT_INACTIVE);
	write_file(dir, "zz-twin.xml", twin_xml);
	CHECK(g_mkdir(sub, 0700) == 0);
	CHECK(symlink("../good.xml", ghost) == 0);

	CHECK(domus_domain_store_load_all(st, t_schema(), &defs, &errors, NULL) == 0);
	CHECK(defs->len == 1 && !strcmp(((struct domus_domain_def *)defs->pdata[0])->name, "good"));
	CHECK(has_error(errors, "aaa-malformed.xml", "malformed XML at line 3"));
	CHECK(has_error(errors, "hostdev.xml", "unsupported element <hostdev> at line 5"));
	CHECK(has_error(errors, "wrongname.xml", "defines domain 'other'"));
	CHECK(has_error(errors, "empty.xml", "malformed XML"));
	CHECK(has_error(errors, "huge.xml", "1073741824 bytes, more than"));
	CHECK(has_error(errors, "zz-twin.xml", "good.xml"));
	CHECK(has_error(errors, "subdir.xml", "not a regular file"));
	CHECK(has_error(errors, "ghost.xml", "not defined"));
	CHECK_MSG(errors->len == 8, "%u errors", errors->len);
	for (guint i = 0; g_getenv("DOMUS_VERBOSE") && i < errors->len; i++)
		printf("  %s\n", ((struct domus_error *)errors->pdata[i])->message);
}

static void test_autostart_rename_delete(void)
{
	g_autofree char *dir = store_dir("lifecycle");
	g_autoptr(domus_domain_store) st = domus_domain_store_open(dir, NULL);
	g_autoptr(domus_domain_def) d = make_def("one", "x");
	g_autoptr(domus_error) err = NULL;
	g_autofree char *listing = NULL;
	g_autofree char *link = g_build_filename(dir, "autostart", "two.xml", NULL);
	g_autofree char *target = NULL;

	CHECK(st);
	CHECK(domus_domain_store_set_autostart(st, "one", true, &err) < 0);	/* not stored */
	CHECK(err && err->code == VIR_ERR_OPERATION_INVALID);
	domus_error_clear(&err);
	CHECK(domus_domain_store_save(st, d, NULL) == 0);
	CHECK(!domus_domain_store_get_autostart(st, "one"));
	CHECK(domus_domain_store_set_autostart(st, "one", true, NULL) == 0);
	CHECK(domus_domain_store_set_autostart(st, "one", true, NULL) == 0);	/* idempotent */
	CHECK(domus_domain_store_get_autostart(st, "one"));

	g_free(d->name);
	d->name = g_strdup("two");
	CHECK(domus_domain_store_rename(st, "one", d, NULL) == 0);
	listing = dir_listing(dir);
	CHECK_MSG(!strcmp(listing, "two.xml"), "%s", listing);
	CHECK(domus_domain_store_get_autostart(st, "two") && !domus_domain_store_get_autostart(st, "one"));
	target = g_file_read_link(link, NULL);
	CHECK(target && !strcmp(target, "../two.xml"));
	CHECK(domus_domain_store_rename(st, "one", d, &err) < 0 && err->code == VIR_ERR_NO_DOMAIN);
	domus_error_clear(&err);
	{
		g_autoptr(domus_domain_def) three = make_def("three", "y");

		CHECK(domus_domain_store_save(st, three, NULL) == 0);
	}
	g_free(d->name);
	d->name = g_strdup("three");
	CHECK(domus_domain_store_rename(st, "two", d, &err) < 0 &&
	      err->code == VIR_ERR_OPERATION_INVALID);
	domus_error_clear(&err);

	CHECK(domus_domain_store_delete(st, "two", NULL) == 0);
	CHECK(!g_file_test(link, G_FILE_TEST_EXISTS) && !domus_domain_store_get_autostart(st, "two"));
	CHECK(domus_domain_store_delete(st, "two", &err) < 0 && err->code == VIR_ERR_NO_DOMAIN);
	domus_error_clear(&err);
	CHECK(domus_domain_store_delete(st, "../etc", &err) < 0 && err->code == VIR_ERR_INVALID_ARG);
	domus_error_clear(&err);
	g_free(listing);
	listing = dir_listing(dir);
	CHECK_MSG(!strcmp(listing, "three.xml"), "%s", listing);
}

/* A write that fails half-way (file size limit) leaves the old definition whole. */
static void test_failed_write(void)
{
	g_autofree char *dir = store_dir("fsize");
	g_autoptr(domus_domain_store) st = domus_domain_store_open(dir, NULL);
	g_autoptr(domus_domain_def) small = make_def("victim", "small");
	g_autofree char *big_text = g_strnfill(256 * 1024, 'B');
	g_autoptr(domus_domain_def) big = make_def("victim", big_text);
	g_autoptr(domus_error) err = NULL;
	g_autofree char *path = NULL;
	g_autofree char *want = NULL;
	g_autofree char *got = NULL;
	g_autofree char *listing = NULL;
	struct rlimit old, lim = { 64 * 1024, 64 * 1024 };

	CHECK(st && domus_domain_store_save(st, small, NULL) == 0);
	path = domus_domain_store_path(st, "victim");
	want = t_read(path);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim.rlim_max = old.rlim_max;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	CHECK(domus_domain_store_save(st, big, &err) < 0);
	setrlimit(RLIMIT_FSIZE, &old);
	CHECK(err && err->code == VIR_ERR_SYSTEM_ERROR && strstr(err->message, path));
	got = t_read(path);
	CHECK(!strcmp(got, want));
	listing = dir_listing(dir);
	CHECK_MSG(!strcmp(listing, "victim.xml"), "temporary file left: %s", listing);
}

/*
 * A writer process is SIGKILLed at random moments while it rewrites a 1 MiB definition
 * alternately with two contents: afterwards the file is always one of the two, whole.
 */
static void test_killed_writer(void)
{
	g_autofree char *dir = store_dir("killed");
	g_autoptr(domus_domain_store) st = domus_domain_store_open(dir, NULL);
	g_autofree char *text_a = g_strnfill(1024 * 1024, 'a');
	g_autofree char *text_b = g_strnfill(1024 * 1024, 'b');
	g_autoptr(domus_domain_def) a = make_def("torn", text_a);
	g_autoptr(domus_domain_def) b = make_def("torn", text_b);
	g_autofree char *xml_a = domus_domain_def_format(a, DOMUS_DEF_FORMAT_INACTIVE);
	g_autofree char *xml_b = NULL;
	g_autofree char *path = NULL;
	int seen_a = 0, seen_b = 0, interrupted = 0;

	memcpy(b->uuid, a->uuid, 16);
	memcpy(b->nets[0]->mac, a->nets[0]->mac, 6);
	xml_b = domus_domain_def_format(b, DOMUS_DEF_FORMAT_INACTIVE);
	CHECK(st && domus_domain_store_save(st, a, NULL) == 0);
	path = domus_domain_store_path(st, "torn");
	for (int round = 0; round < 40; round++) {
		pid_t pid = fork();
		struct timespec ts = { 0, g_random_int_range(1, 40) * 1000 * 1000 };
		g_autofree char *got = NULL;
		g_autoptr(domus_domain_store) again = NULL;

		if (pid == 0) {
			for (int i = 0;; i++)
				domus_domain_store_save(st, i % 2 ? a : b, NULL);
		}
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		got = t_read(path);
		CHECK_MSG(!strcmp(got, xml_a) || !strcmp(got, xml_b),
			  "round %d: torn definition (%zu bytes)", round, strlen(got));
		seen_a += !strcmp(got, xml_a);
		seen_b += !strcmp(got, xml_b);
		{
			g_autofree char *listing = dir_listing(dir);

			interrupted += strcmp(listing, "torn.xml") != 0;	/* a temp file */
		}
		again = domus_domain_store_open(dir, NULL);	/* removes leftover temp files */
		CHECK(again);
	}
	printf("killed writer: %d times the old content, %d times the new; %d kills in the middle "
	       "of a write\n", seen_a, seen_b, interrupted);
	CHECK(interrupted > 0);		/* else this test proved nothing */
	{
		g_autofree char *listing = dir_listing(dir);

		CHECK_MSG(!strcmp(listing, "torn.xml"), "left behind: %s", listing);
	}
}

static void test_default_dirs(void)
{
	g_autofree char *sys = domus_domain_store_default_dir(true);
	g_autofree char *session = domus_domain_store_default_dir(false);
	g_autofree char *want = g_build_filename(g_get_user_config_dir(), "domus", NULL);

	CHECK(!strcmp(sys, "/var/lib/domus"));
	CHECK(!strcmp(session, want));
}

static void rm_rf(const char *path)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", path);

	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", path);
}

int main(void)
{
	int rc;

	scratch = g_dir_make_tmp("domus-store-XXXXXX", NULL);
	if (!scratch) {
		fprintf(stderr, "no scratch directory\n");
		return 1;
	}
	test_save_load();
	test_broken_files();
	test_autostart_rename_delete();
	test_failed_write();
	test_killed_writer();
	test_default_dirs();
	rc = t_done("domain store");
	rm_rf(scratch);
	return rc;
}
