// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Every tests/xml/good/NAME.xml: it is valid for libvirt's own schema too (our schema is a
 * subset); parse -> format -> parse -> format is a fixed point, inactive and live; what we
 * write validates against our schema and libvirt's; and it matches expected/<name>.xml
 * (DOMUS_REGENERATE=1 rewrites those, review the diff).
 */
#include <string.h>

#include "xml-test.h"

static const char *top;

static void check_expected(const char *name, const char *suffix, const char *got)
{
	g_autofree char *path = g_strdup_printf("%s/expected/%.*s%s", top,
						(int)(strlen(name) - 4), name, suffix);
	g_autofree char *want = NULL;

	if (g_getenv("DOMUS_REGENERATE")) {
		CHECK(g_file_set_contents(path, got, -1, NULL));
		return;
	}
	if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
		CHECK_MSG(false, "%s: no expected output %s", name, path);
		return;
	}
	want = t_read(path);
	CHECK_MSG(!strcmp(want, got), "%s: output differs from %s:\n%s", name, path, got);
}

/* @xml must be accepted by both schemas and be a fixed point of parse+format. */
static void check_written(const char *name, const char *xml, unsigned int pflags,
			  unsigned int fflags)
{
	g_autoptr(domus_domain_def) def = NULL;
	g_autofree char *libvirt = t_libvirt_validate(xml);
	g_autofree char *again = NULL;
	struct domus_error *err = NULL;

	CHECK_MSG(!libvirt, "%s: written XML is invalid for libvirt's schema: %s\n%s", name,
		  libvirt, xml);
	def = domus_domain_def_parse_string(t_schema(), xml, pflags, &err);
	CHECK_MSG(def, "%s: cannot re-read what we wrote: %s\n%s", name,
		  err ? err->message : "?", xml);
	domus_error_free(err);
	if (!def)
		return;
	again = domus_domain_def_format(def, fflags);
	CHECK_MSG(!strcmp(again, xml), "%s: not a fixed point:\n%s\n----\n%s", name, xml, again);
}

static void test_file(const char *name)
{
	g_autofree char *path = g_strdup_printf("%s/good/%s", top, name);
	g_autofree char *input = t_read(path);
	g_autofree char *libvirt = t_libvirt_validate(input);
	g_autoptr(domus_domain_def) def = NULL;
	g_autoptr(domus_domain_def) status = NULL;
	g_autofree char *inactive = NULL;
	g_autofree char *live = NULL;
	struct domus_error *err = NULL;

	CHECK_MSG(!libvirt, "%s: sample is invalid for libvirt's schema: %s", name, libvirt);
	def = domus_domain_def_parse_string(t_schema(), input, 0, &err);
	CHECK_MSG(def, "%s: refused: %s", name, err ? err->message : "?");
	domus_error_clear(&err);
	if (!def)
		return;
	inactive = domus_domain_def_format(def, DOMUS_DEF_FORMAT_INACTIVE);
	check_written(name, inactive, 0, DOMUS_DEF_FORMAT_INACTIVE);
	if (strcmp(name, "generated-ids.xml"))	/* random UUID and MACs: no golden file */
		check_expected(name, ".xml", inactive);

	/* as the daemon's status file: runtime state survives */
	status = domus_domain_def_parse_string(t_schema(), input, DOMUS_DEF_PARSE_STATUS, &err);
	CHECK_MSG(status, "%s: refused as status: %s", name, err ? err->message : "?");
	domus_error_clear(&err);
	if (!status)
		return;
	live = domus_domain_def_format(status, 0);
	check_written(name, live, DOMUS_DEF_PARSE_STATUS, 0);
	if (!strcmp(name, "live-status.xml"))
		check_expected(name, ".live.xml", live);
}

/* Runtime state appears in live XML only, and clear_runtime() forgets it. */
static void test_runtime_state(void)
{
	g_autofree char *path = g_strdup_printf("%s/good/live-status.xml", top);
	g_autofree char *input = t_read(path);
	g_autoptr(domus_domain_def) def = NULL;
	g_autoptr(domus_domain_def) copy = NULL;
	g_autofree char *live = NULL;
	g_autofree char *inactive = NULL;
	g_autofree char *cleared = NULL;

	def = domus_domain_def_parse_string(t_schema(), input, DOMUS_DEF_PARSE_STATUS, NULL);
	CHECK(def);
	if (!def)
		return;
	CHECK(def->id == 7);
	CHECK(def->serial && !g_strcmp0(def->serial->path, "/dev/pts/4"));
	CHECK(def->nnets == 2 && !g_strcmp0(def->nets[0]->runtime_ifname, "vnet3"));
	CHECK(def->nets[0]->ifname == NULL);	/* "vnet*" is ours: not configuration */
	CHECK(!g_strcmp0(def->nets[1]->ifname, "mytap0"));
	live = domus_domain_def_format(def, 0);
	inactive = domus_domain_def_format(def, DOMUS_DEF_FORMAT_INACTIVE);
	CHECK(strstr(live, "id=\"7\"") && strstr(live, "/dev/pts/4") && strstr(live, "vnet3"));
	CHECK(!strstr(inactive, "id=\"7\"") && !strstr(inactive, "/dev/pts") &&
	      !strstr(inactive, "vnet3") && strstr(inactive, "mytap0"));

	copy = domus_domain_def_copy(def);
	domus_domain_def_clear_runtime(copy);
	cleared = domus_domain_def_format(copy, 0);
	CHECK_MSG(!strcmp(cleared, inactive), "cleared runtime state still shows:\n%s", cleared);

	/* without PARSE_STATUS, runtime state in the input is not taken (define from live XML) */
	domus_domain_def_free(def);
	def = domus_domain_def_parse_string(t_schema(), input, 0, NULL);
	CHECK(def && def->id == -1 && !def->serial->path && !def->nets[0]->runtime_ifname);
}

/* Defaults: generated UUID and MACs, console-only input gives the UART. */
static void test_generated(void)
{
	g_autofree char *path = g_strdup_printf("%s/good/generated-ids.xml", top);
	g_autofree char *input = t_read(path);
	g_autoptr(domus_domain_def) a = NULL;
	g_autoptr(domus_domain_def) b = NULL;
	static const uint8_t zero[16];

	a = domus_domain_def_parse_string(t_schema(), input, 0, NULL);
	b = domus_domain_def_parse_string(t_schema(), input, 0, NULL);
	CHECK(a && b);
	if (!a || !b)
		return;
	CHECK(memcmp(a->uuid, zero, 16) && memcmp(a->uuid, b->uuid, 16));
	CHECK((a->uuid[6] >> 4) == 4 && (a->uuid[8] & 0xc0) == 0x80);	/* version 4, RFC 4122 */
	CHECK(a->nnets == 2 && a->nets[0]->mac[0] == 0x52 && a->nets[0]->mac[1] == 0x54 &&
	      a->nets[0]->mac[2] == 0x00);
	CHECK(memcmp(a->nets[0]->mac, a->nets[1]->mac, 6) || memcmp(a->nets[0]->mac, b->nets[0]->mac, 6));
	CHECK(a->serial && a->serial->type == DOMUS_CHR_PTY);
	CHECK(a->memory_kib == 256 * 1024 && a->current_memory_kib == a->memory_kib);
	CHECK(a->vcpus == 1 && a->current_vcpus == 1 && a->memballoon == DOMUS_BALLOON_VIRTIO);
	CHECK(a->on_poweroff == DOMUS_ACTION_DESTROY && a->on_reboot == DOMUS_ACTION_RESTART &&
	      a->on_crash == DOMUS_ACTION_DESTROY);
}

/* Values of the big sample, read right. */
static void test_full_values(void)
{
	g_autofree char *path = g_strdup_printf("%s/good/full.xml", top);
	g_autofree char *input = t_read(path);
	g_autoptr(domus_domain_def) d = domus_domain_def_parse_string(t_schema(), input, 0, NULL);
	g_autofree char *cpus = NULL;

	CHECK(d);
	if (!d)
		return;
	CHECK(d->memory_kib == 2 * 1024 * 1024 && d->current_memory_kib == 1536 * 1024);
	CHECK(d->vcpus == 4 && d->current_vcpus == 2);
	cpus = domus_cpuset_format(d->vcpu_cpuset);
	CHECK(!strcmp(cpus, "0-1,3,8"));
	CHECK(d->cputune.has_shares && d->cputune.shares == 2048 && d->cputune.period == 100000);
	CHECK(d->cputune.has_quota && d->cputune.quota == 50000);
	CHECK(d->cputune.npins == 2 && d->cputune.pins[0].vcpu == 0 && d->cputune.pins[1].vcpu == 3);
	CHECK(d->on_poweroff == DOMUS_ACTION_RESTART && d->on_reboot == DOMUS_ACTION_DESTROY &&
	      d->on_crash == DOMUS_ACTION_PRESERVE);
	CHECK(d->clock_offset == DOMUS_CLOCK_LOCALTIME && d->acpi && !d->apic);
	CHECK(d->ndisks == 2 && d->disks[1]->type == DOMUS_DISK_BLOCK && d->disks[1]->readonly);
	CHECK(!g_strcmp0(d->disks[0]->serial, "ROOT-0001"));
	CHECK(d->nnets == 2 && d->nets[0]->mac[3] == 0xab && d->nets[1]->type == DOMUS_NET_ETHERNET);
	CHECK(d->serial && d->serial->type == DOMUS_CHR_FILE);
	CHECK(d->rng && !g_strcmp0(d->rng_backend, "/dev/random"));
	CHECK(d->memballoon == DOMUS_BALLOON_NONE);
	CHECK(!g_strcmp0(d->title, "A guest with everything Domus supports"));
	CHECK(d->description && strstr(d->description, "& <two>\n"));
	CHECK(!g_strcmp0(d->os.cmdline, "console=ttyS0 root=/dev/vda rw quiet \"x=a b\""));
	/* metadata: verbatim, each element with the namespace it uses */
	CHECK(d->metadata && strstr(d->metadata, "keep   this   spacing") &&
	      strstr(d->metadata, "xmlns:app=\"http://example.org/app/1\"") &&
	      strstr(d->metadata, "<ops:tag xmlns:ops=\"urn:example:ops\">prod</ops:tag>"));
}

/* A def changed in memory is checked like one read from XML. */
static void test_validate(void)
{
	g_autofree char *path = g_strdup_printf("%s/good/full.xml", top);
	g_autofree char *input = t_read(path);
	g_autoptr(domus_domain_def) d = domus_domain_def_parse_string(t_schema(), input, 0, NULL);
	g_autoptr(domus_error) err = NULL;

	CHECK(d);
	if (!d)
		return;
	CHECK(domus_domain_def_validate(t_schema(), d, NULL) == 0);
	d->vcpus = 8;				/* setvcpus --maximum --config */
	d->current_vcpus = 8;
	CHECK(domus_domain_def_validate(t_schema(), d, NULL) == 0);
	d->current_vcpus = 9;
	CHECK(domus_domain_def_validate(t_schema(), d, &err) < 0);
	CHECK(err && err->code == VIR_ERR_XML_ERROR && strstr(err->message, "current vCPU count"));
	domus_error_clear(&err);
	d->current_vcpus = 1;
	d->vcpus = 2;				/* vcpupin of vCPU 3 is now out of range */
	CHECK(domus_domain_def_validate(t_schema(), d, &err) < 0);
	CHECK(err && strstr(err->message, "vcpupin vcpu '3'"));
	domus_error_clear(&err);
	d->vcpus = 4;
	d->current_memory_kib = d->memory_kib + 1;	/* setmem above setmaxmem */
	CHECK(domus_domain_def_validate(t_schema(), d, &err) < 0);
	CHECK(err && strstr(err->message, "<currentMemory>"));
}

/* One schema, several threads parsing at once (the daemon's RPC workers): same results. */
struct thread_job {
	const char *good, *bad;
	char *want_good, *want_bad;
	int mismatches;
};

static gpointer parse_loop(gpointer data)
{
	struct thread_job *job = data;

	for (int i = 0; i < 200; i++) {
		g_autoptr(domus_domain_def) def = NULL;
		g_autoptr(domus_domain_def) wrong = NULL;
		g_autoptr(domus_error) err = NULL;
		g_autofree char *out = NULL;

		def = domus_domain_def_parse_string(t_schema(), job->good, 0, NULL);
		out = def ? domus_domain_def_format(def, DOMUS_DEF_FORMAT_INACTIVE) : NULL;
		if (g_strcmp0(out, job->want_good))
			g_atomic_int_inc(&job->mismatches);
		wrong = domus_domain_def_parse_string(t_schema(), job->bad, 0, &err);
		if (wrong || !err || strcmp(err->message, job->want_bad))
			g_atomic_int_inc(&job->mismatches);
	}
	return NULL;
}

static void test_threads(void)
{
	g_autofree char *gpath = g_strdup_printf("%s/good/full.xml", top);
	g_autofree char *bpath = g_strdup_printf("%s/bad/disk-target-sda.xml", top);
	g_autofree char *good = t_read(gpath);
	g_autofree char *bad = t_read(bpath);
	g_autoptr(domus_domain_def) def = domus_domain_def_parse_string(t_schema(), good, 0, NULL);
	g_autoptr(domus_error) err = NULL;
	struct thread_job job = { good, bad, NULL, NULL, 0 };
	GThread *threads[4];

	CHECK(def && !domus_domain_def_parse_string(t_schema(), bad, 0, &err) && err);
	if (!def || !err)
		return;
	job.want_good = domus_domain_def_format(def, DOMUS_DEF_FORMAT_INACTIVE);
	job.want_bad = g_strdup(err->message);
	for (int i = 0; i < 4; i++)
		threads[i] = g_thread_new("parse", parse_loop, &job);
	for (int i = 0; i < 4; i++)
		g_thread_join(threads[i]);
	CHECK_MSG(job.mismatches == 0, "%d results differ between threads", job.mismatches);
	g_free(job.want_good);
	g_free(job.want_bad);
}

int main(int argc, char **argv)
{
	g_autoptr(GPtrArray) files = NULL;
	g_autofree char *good = NULL;

	top = argc > 1 ? argv[1] : ".";
	good = g_strdup_printf("%s/good", top);
	files = t_list_xml(good);
	for (guint i = 0; i < files->len; i++)
		test_file(files->pdata[i]);
	test_runtime_state();
	test_generated();
	test_full_values();
	test_validate();
	test_threads();
	return t_done("xml round trips");
}
