// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mutated definitions: thousands of small random edits of the good samples (deleted spans,
 * repeated lines, foreign snippets, changed digits). Whatever the parser does with them:
 * - a refusal has a known code and a message that gives a line;
 * - an acceptance writes XML that libvirt's schema and ours accept and that reads back to
 *   itself (a fixed point), so nothing we accept can make us write something broken.
 * Runs under the sanitizers too (meson -Db_sanitize=address,undefined). The seed is printed;
 * DOMUS_SEED=N repeats a run.
 */
#include <string.h>

#include "xml-test.h"

static const char *const snippets[] = {
	"<hostdev/>", " foo='1'", "&amp;", "<![CDATA[x]]>", "<!-- c -->", "\n", "<?pi x?>", "é",
	"0", "-1", "99999999999999999999", "<disk type='file'><source file='/a'/><target dev='vdz'/></disk>",
	"<interface type='ethernet'/>", "<serial type='pty'/>", "<console type='pty'/>",
	"<rng model='virtio'><backend model='random'/></rng>", " unit='GiB'", " unit='b'",
	"<memballoon model='none'/>", "<vcpupin vcpu='0' cpuset='0'/>", "<acpi/>", "/", "'", "\"",
	"<", ">", "&#0;", "&#x1F600;", "\t", "<metadata><x:y xmlns:x='urn:x'>1</x:y></metadata>",
};

static char *mutate(GRand *rand, const char *xml)
{
	GString *s = g_string_new(xml);
	guint len = s->len, pos = g_rand_int_range(rand, 0, (gint32)len);

	switch (g_rand_int_range(rand, 0, 5)) {
	case 0: {		/* delete a span */
		guint n = (guint)g_rand_int_range(rand, 1, 12);

		g_string_erase(s, pos, MIN(len - pos, n));
		break;
	}
	case 1: {		/* repeat the line around pos */
		const char *start = s->str + pos, *end;
		g_autofree char *line = NULL;

		while (start > s->str && start[-1] != '\n')
			start--;
		end = strchr(start, '\n');
		line = g_strndup(start, end ? (gsize)(end - start + 1) : strlen(start));
		g_string_insert(s, start - s->str, line);
		break;
	}
	case 2:			/* insert a snippet */
		g_string_insert(s, pos, snippets[g_rand_int_range(rand, 0, G_N_ELEMENTS(snippets))]);
		break;
	case 3:			/* change a digit, or make one */
		for (guint i = pos; i < len; i++)
			if (g_ascii_isdigit(s->str[i])) {
				s->str[i] = (char)('0' + g_rand_int_range(rand, 0, 10));
				break;
			}
		break;
	default:		/* flip the case of a letter */
		if (g_ascii_isalpha(s->str[pos]))
			s->str[pos] ^= 0x20;
		break;
	}
	return g_string_free(s, FALSE);
}

static bool known_code(int code)
{
	return code == VIR_ERR_XML_ERROR || code == VIR_ERR_XML_DETAIL ||
	       code == VIR_ERR_CONFIG_UNSUPPORTED || code == VIR_ERR_OVERFLOW;
}

static int accepted, refused;

static void try_one(const char *name, const char *xml)
{
	g_autoptr(domus_domain_def) def = NULL;
	g_autoptr(domus_domain_def) again = NULL;
	g_autoptr(domus_error) err = NULL;
	g_autofree char *out = NULL;
	g_autofree char *out2 = NULL;
	g_autofree char *libvirt = NULL;

	def = domus_domain_def_parse_string(t_schema(), xml, 0, &err);
	if (!def) {
		refused++;
		CHECK_MSG(err && known_code(err->code) && strstr(err->message, "line"),
			  "%s: refusal without a line or with code %d: %s\n%s", name,
			  err ? err->code : -1, err ? err->message : "(no error)", xml);
		return;
	}
	accepted++;
	/* our schema is a subset of libvirt's: what we accept, libvirt accepts */
	libvirt = t_libvirt_validate(xml);
	CHECK_MSG(!libvirt, "%s: we accept what libvirt's schema refuses: %s\n%s", name, libvirt,
		  xml);
	g_clear_pointer(&libvirt, g_free);
	out = domus_domain_def_format(def, DOMUS_DEF_FORMAT_INACTIVE);
	libvirt = t_libvirt_validate(out);
	CHECK_MSG(!libvirt, "%s: accepted, but libvirt's schema refuses what we wrote: %s\n%s\n%s",
		  name, libvirt, xml, out);
	again = domus_domain_def_parse_string(t_schema(), out, 0, &err);
	CHECK_MSG(again, "%s: accepted, but what we wrote is refused: %s\n%s\n%s", name,
		  err ? err->message : "?", xml, out);
	if (!again)
		return;
	out2 = domus_domain_def_format(again, DOMUS_DEF_FORMAT_INACTIVE);
	CHECK_MSG(!strcmp(out, out2), "%s: not a fixed point\n%s\n%s", name, out, out2);
}

int main(int argc, char **argv)
{
	g_autofree char *dir = g_strdup_printf("%s/good", argc > 1 ? argv[1] : ".");
	g_autoptr(GPtrArray) files = t_list_xml(dir);
	const char *env = g_getenv("DOMUS_SEED");
	guint32 seed = env ? (guint32)g_ascii_strtoull(env, NULL, 10) : g_random_int();
	GRand *rand = g_rand_new_with_seed(seed);

	printf("seed %u (DOMUS_SEED=%u repeats this run)\n", seed, seed);
	for (guint i = 0; i < files->len; i++) {
		g_autofree char *path = g_build_filename(dir, files->pdata[i], NULL);
		g_autofree char *xml = t_read(path);

		for (int n = 0; n < 500 && t_failures < 5; n++) {
			g_autofree char *m = mutate(rand, xml);
			g_autofree char *twice = mutate(rand, m);

			try_one(files->pdata[i], n % 2 ? m : twice);
		}
	}
	g_rand_free(rand);
	printf("%d mutants accepted, %d refused\n", accepted, refused);
	CHECK(accepted > 100 && refused > 100);
	return t_done("xml mutants");
}
