// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Capabilities XML: what the host is and which guests it runs (one: hvm x86_64 on
 * domus-vmm, domain type kvm, machine "pc"); domain capabilities: which devices and
 * options a domain definition may use. Both validate against libvirt's capability.rng and
 * domaincaps.rng (tests/rpc checks it).
 */
#include <string.h>

#include <glib.h>

#include "capabilities.h"
#include "hostinfo.h"

static void host_cpu_xml(GString *x, const struct host_node_info *ni)
{
	g_string_append_printf(x, "    <cpu>\n      <arch>%s</arch>\n", ni->model);
	if (ni->vendor[0]) {
		const char *v = strcmp(ni->vendor, "GenuineIntel") == 0 ? "Intel" :
				strcmp(ni->vendor, "AuthenticAMD") == 0 ? "AMD" : ni->vendor;
		g_autofree char *esc = g_markup_escape_text(v, -1);

		g_string_append_printf(x, "      <vendor>%s</vendor>\n", esc);
	}
	g_string_append_printf(x,
		"      <topology sockets='%d' dies='1' cores='%d' threads='%d'/>\n    </cpu>\n",
		ni->sockets * ni->nodes, ni->cores, ni->threads);
}

static void host_topology_xml(GString *x, const char *sysroot, const struct host_node_info *ni)
{
	g_autofree uint8_t *map = NULL;
	unsigned int online;
	int ncpu = host_cpu_map(sysroot, &map, &online);

	/* One cell with every CPU: enough for clients, exact NUMA comes with pinning. */
	g_string_append_printf(x,
		"    <topology>\n      <cells num='1'>\n        <cell id='0'>\n"
		"          <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n"
		"          <cpus num='%u'>\n", ni->memory_kib, online);
	for (int i = 0; i < ncpu; i++)
		if (map[i / 8] & (1u << (i % 8)))
			g_string_append_printf(x, "            <cpu id='%d'/>\n", i);
	g_string_append(x, "          </cpus>\n        </cell>\n      </cells>\n    </topology>\n");
}

char *capabilities_xml(const char *sysroot, const char *emulator, struct verr *err)
{
	struct host_node_info ni;
	g_autofree char *uuid = host_uuid(sysroot);
	g_autofree char *emu = g_markup_escape_text(emulator, -1);
	GString *x;

	if (host_node_info(sysroot, &ni, err) < 0)
		return NULL;
	x = g_string_new("<capabilities>\n\n  <host>\n");
	g_string_append_printf(x, "    <uuid>%s</uuid>\n", uuid);
	host_cpu_xml(x, &ni);
	g_string_append(x, "    <power_management/>\n    <iommu support='no'/>\n");
	host_topology_xml(x, sysroot, &ni);
	g_string_append(x, "    <secmodel>\n      <model>none</model>\n      <doi>0</doi>\n"
			   "    </secmodel>\n  </host>\n\n");
	g_string_append_printf(x,
		"  <guest>\n    <os_type>hvm</os_type>\n"
		"    <arch name='%s'>\n      <wordsize>64</wordsize>\n"
		"      <emulator>%s</emulator>\n"
		"      <machine maxCpus='%d'>%s</machine>\n"
		"      <domain type='%s'/>\n    </arch>\n"
		"    <features>\n      <acpi default='on' toggle='yes'/>\n"
		"      <apic default='on' toggle='no'/>\n    </features>\n  </guest>\n\n"
		"</capabilities>\n",
		DOMUS_GUEST_ARCH, emu, DOMUS_MAX_VCPUS, DOMUS_MACHINE, DOMUS_VIRTTYPE);
	return g_string_free(x, FALSE);
}

static int check_arg(const char *what, const char *given, const char *ours, struct verr *err)
{
	if (!given || strcmp(given, ours) == 0)
		return 0;
	return verr_set(err, VERR_CONFIG_UNSUPPORTED, VERR_FROM_CAPABILITIES,
			"%s '%s' is not supported: Domus runs only %s '%s'", what, given, what, ours);
}

/* The devices part: what the VMM emulates (virtio over PCI, a 16550, no graphics). */
static const char domcaps_devices[] =
	"  <devices>\n"
	"    <disk supported='yes'>\n"
	"      <enum name='diskDevice'>\n        <value>disk</value>\n      </enum>\n"
	"      <enum name='bus'>\n        <value>virtio</value>\n      </enum>\n"
	"      <enum name='model'>\n        <value>virtio</value>\n      </enum>\n"
	"    </disk>\n"
	"    <graphics supported='no'/>\n"
	"    <video supported='no'/>\n"
	"    <hostdev supported='no'/>\n"
	"    <rng supported='yes'>\n"
	"      <enum name='model'>\n        <value>virtio</value>\n      </enum>\n"
	"      <enum name='backendModel'>\n        <value>random</value>\n      </enum>\n"
	"    </rng>\n"
	"    <filesystem supported='no'/>\n"
	"    <tpm supported='no'/>\n"
	"    <redirdev supported='no'/>\n"
	"    <channel supported='no'/>\n"
	"  </devices>\n";

static const char domcaps_features[] =
	"  <features>\n"
	"    <gic supported='no'/>\n"
	"    <vmcoreinfo supported='no'/>\n"
	"    <genid supported='no'/>\n"
	"    <backingStoreInput supported='no'/>\n"
	"    <backup supported='no'/>\n"
	"    <sev supported='no'/>\n"
	"  </features>\n";

char *domain_capabilities_xml(const char *emulator, const char *emulatorbin, const char *arch,
			      const char *machine, const char *virttype, struct verr *err)
{
	g_autofree char *emu = g_markup_escape_text(emulator, -1);
	GString *x;

	if (check_arg("emulator", emulatorbin, emulator, err) < 0 ||
	    check_arg("architecture", arch, DOMUS_GUEST_ARCH, err) < 0 ||
	    check_arg("machine", machine, DOMUS_MACHINE, err) < 0 ||
	    check_arg("virttype", virttype, DOMUS_VIRTTYPE, err) < 0)
		return NULL;
	x = g_string_new("<domainCapabilities>\n");
	g_string_append_printf(x,
		"  <path>%s</path>\n  <domain>%s</domain>\n  <machine>%s</machine>\n"
		"  <arch>%s</arch>\n  <vcpu max='%d'/>\n  <iothreads supported='no'/>\n"
		"  <os supported='yes'>\n    <loader supported='no'/>\n  </os>\n"
		"  <cpu>\n    <mode name='host-passthrough' supported='yes'/>\n"
		"    <mode name='maximum' supported='no'/>\n"
		"    <mode name='host-model' supported='no'/>\n"
		"    <mode name='custom' supported='no'/>\n  </cpu>\n"
		"  <memoryBacking supported='no'/>\n",
		emu, DOMUS_VIRTTYPE, DOMUS_MACHINE, DOMUS_GUEST_ARCH, DOMUS_MAX_VCPUS);
	g_string_append(x, domcaps_devices);
	g_string_append(x, domcaps_features);
	g_string_append(x, "</domainCapabilities>\n");
	return g_string_free(x, FALSE);
}

/* One <entry name='…'> per readable DMI file; Return: how many were written. */
static int dmi_section(GString *x, const char *sysroot, const char *section,
		       const char *const *map)
{
	GString *body = g_string_new(NULL);
	int n = 0;

	for (const char *const *m = map; *m; m += 2) {
		g_autofree char *path = g_strconcat(sysroot, "/sys/class/dmi/id/", m[1], NULL);
		g_autofree char *val = NULL;

		if (!g_file_get_contents(path, &val, NULL, NULL) || !*g_strstrip(val))
			continue;
		g_autofree char *esc = g_markup_escape_text(val, -1);

		g_string_append_printf(body, "    <entry name='%s'>%s</entry>\n", m[0], esc);
		n++;
	}
	if (n)
		g_string_append_printf(x, "  <%s>\n%s  </%s>\n", section, body->str, section);
	g_string_free(body, TRUE);
	return n;
}

char *sysinfo_xml(const char *sysroot, struct verr *err)
{
	static const char *const bios[] = { "vendor", "bios_vendor", "version", "bios_version",
					    "date", "bios_date", "release", "bios_release", NULL };
	static const char *const sys[] = { "manufacturer", "sys_vendor", "product", "product_name",
					   "version", "product_version", "serial", "product_serial",
					   "uuid", "product_uuid", "family", "product_family", NULL };
	static const char *const board[] = { "manufacturer", "board_vendor", "product", "board_name",
					     "version", "board_version", "serial", "board_serial",
					     "asset", "board_asset_tag", NULL };
	static const char *const chassis[] = { "manufacturer", "chassis_vendor", "version",
					       "chassis_version", "serial", "chassis_serial",
					       "asset", "chassis_asset_tag", NULL };
	struct host_node_info ni;
	GString *x = g_string_new("<sysinfo type='smbios'>\n");

	dmi_section(x, sysroot, "bios", bios);
	dmi_section(x, sysroot, "system", sys);
	dmi_section(x, sysroot, "baseBoard", board);
	dmi_section(x, sysroot, "chassis", chassis);
	/* Without SMBIOS (many VMs, non-x86 boards) the CPU is still worth describing. */
	if (host_node_info(sysroot, &ni, err) == 0 && (ni.vendor[0] || ni.cpu_model[0])) {
		g_autofree char *vendor = g_markup_escape_text(ni.vendor, -1);
		g_autofree char *model = g_markup_escape_text(ni.cpu_model, -1);

		for (int s = 0; s < ni.nodes * ni.sockets; s++)
			g_string_append_printf(x,
				"  <processor>\n    <entry name='socket_destination'>CPU %d</entry>\n"
				"    <entry name='manufacturer'>%s</entry>\n"
				"    <entry name='version'>%s</entry>\n"
				"    <entry name='max_speed'>%d MHz</entry>\n  </processor>\n",
				s, vendor, model, ni.mhz);
	}
	g_string_append(x, "</sysinfo>\n");
	err->code = 0;
	return g_string_free(x, FALSE);
}
