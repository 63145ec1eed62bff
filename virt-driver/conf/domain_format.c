// SPDX-License-Identifier: GPL-2.0-or-later
/* struct domus_domain_def -> domain XML, in libvirt's element order and layout. */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "domain_conf.h"

static xmlNode *add(xmlNode *parent, const char *name, const char *content)
{
	return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)content);
}

static void set(xmlNode *n, const char *name, const char *value)
{
	xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)value);
}

static void setf(xmlNode *n, const char *name, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void setf(xmlNode *n, const char *name, const char *fmt, ...)
{
	g_autofree char *v = NULL;
	va_list ap;

	va_start(ap, fmt);
	v = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	set(n, name, v);
}

static xmlNode *addf(xmlNode *parent, const char *name, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static xmlNode *addf(xmlNode *parent, const char *name, const char *fmt, ...)
{
	g_autofree char *v = NULL;
	va_list ap;

	va_start(ap, fmt);
	v = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return add(parent, name, v);
}

/* Re-reads the stored metadata elements into <metadata> (see serialize_metadata()). */
static void format_metadata(xmlNode *root, const char *metadata)
{
	g_autofree char *wrapped = g_strconcat("<metadata>", metadata, "</metadata>", NULL);
	xmlDoc *md = xmlReadMemory(wrapped, (int)strlen(wrapped), "metadata.xml", NULL,
				   XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNode *out = add(root, "metadata", NULL);

	if (!md) {
		/* cannot happen for what the parser stored; keep the element, empty */
		g_warning("stored <metadata> is not well-formed; written empty");
		return;
	}
	for (xmlNode *c = xmlDocGetRootElement(md)->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			xmlAddChild(out, xmlDocCopyNode(c, root->doc, 1));
	xmlFreeDoc(md);
}

static void format_identity(xmlNode *root, const struct domus_domain_def *def,
			    unsigned int flags)
{
	char uuid[37];

	if (!(flags & DOMUS_DEF_FORMAT_INACTIVE) && def->id >= 0)
		setf(root, "id", "%d", def->id);
	add(root, "name", def->name);
	domus_uuid_format(def->uuid, uuid);
	add(root, "uuid", uuid);
	if (def->title)
		add(root, "title", def->title);
	if (def->description)
		add(root, "description", def->description);
	if (def->metadata)
		format_metadata(root, def->metadata);
}

static void format_resources(xmlNode *root, const struct domus_domain_def *def)
{
	xmlNode *n;

	n = addf(root, "memory", "%" G_GUINT64_FORMAT, def->memory_kib);
	set(n, "unit", "KiB");
	n = addf(root, "currentMemory", "%" G_GUINT64_FORMAT, def->current_memory_kib);
	set(n, "unit", "KiB");
	n = addf(root, "vcpu", "%u", def->vcpus);
	set(n, "placement", "static");
	if (def->vcpu_cpuset) {
		g_autofree char *s = domus_cpuset_format(def->vcpu_cpuset);

		set(n, "cpuset", s);
	}
	if (def->current_vcpus != def->vcpus)
		setf(n, "current", "%u", def->current_vcpus);
}

static void format_cputune(xmlNode *root, const struct domus_domain_def *def)
{
	xmlNode *t;

	if (!def->cputune.has_shares && !def->cputune.period && !def->cputune.has_quota &&
	    !def->cputune.npins)
		return;
	t = add(root, "cputune", NULL);
	if (def->cputune.has_shares)
		addf(t, "shares", "%u", def->cputune.shares);
	if (def->cputune.period)
		addf(t, "period", "%" G_GUINT64_FORMAT, def->cputune.period);
	if (def->cputune.has_quota)
		addf(t, "quota", "%" G_GINT64_FORMAT, def->cputune.quota);
	for (size_t i = 0; i < def->cputune.npins; i++) {
		g_autofree char *cpus = domus_cpuset_format(&def->cputune.pins[i].cpus);
		xmlNode *p = add(t, "vcpupin", NULL);

		setf(p, "vcpu", "%u", def->cputune.pins[i].vcpu);
		set(p, "cpuset", cpus);
	}
}

static void format_platform(xmlNode *root, const struct domus_domain_def *def)
{
	xmlNode *os = add(root, "os", NULL), *n;

	n = add(os, "type", "hvm");
	set(n, "arch", def->os.arch ? def->os.arch : "x86_64");
	set(n, "machine", def->os.machine ? def->os.machine : "pc");
	if (def->os.kernel)
		add(os, "kernel", def->os.kernel);
	if (def->os.initrd)
		add(os, "initrd", def->os.initrd);
	if (def->os.cmdline)
		add(os, "cmdline", def->os.cmdline);
	if (def->acpi || def->apic) {
		n = add(root, "features", NULL);
		if (def->acpi)
			add(n, "acpi", NULL);
		if (def->apic)
			add(n, "apic", NULL);
	}
	n = add(root, "clock", NULL);
	set(n, "offset", def->clock_offset == DOMUS_CLOCK_LOCALTIME ? "localtime" : "utc");
	add(root, "on_poweroff", domus_lifecycle_action_name(def->on_poweroff));
	add(root, "on_reboot", domus_lifecycle_action_name(def->on_reboot));
	add(root, "on_crash", domus_lifecycle_action_name(def->on_crash));
	if (def->pm_no_suspend_to_mem || def->pm_no_suspend_to_disk) {
		n = add(root, "pm", NULL);
		if (def->pm_no_suspend_to_mem)
			set(add(n, "suspend-to-mem", NULL), "enabled", "no");
		if (def->pm_no_suspend_to_disk)
			set(add(n, "suspend-to-disk", NULL), "enabled", "no");
	}
}

static void format_disk(xmlNode *devs, const struct domus_disk_def *d)
{
	xmlNode *n = add(devs, "disk", NULL), *c;
	bool block = d->type == DOMUS_DISK_BLOCK;

	set(n, "type", block ? "block" : "file");
	set(n, "device", "disk");
	c = add(n, "driver", NULL);
	set(c, "name", "qemu");
	set(c, "type", "raw");
	set(add(n, "source", NULL), block ? "dev" : "file", d->source);
	c = add(n, "target", NULL);
	set(c, "dev", d->target);
	set(c, "bus", "virtio");
	if (d->readonly)
		add(n, "readonly", NULL);
	if (d->serial)
		add(n, "serial", d->serial);
}

static void format_net(xmlNode *devs, const struct domus_net_def *net, unsigned int flags)
{
	xmlNode *n = add(devs, "interface", NULL);
	const char *ifname = net->ifname;
	char mac[18];

	if (!(flags & DOMUS_DEF_FORMAT_INACTIVE) && net->runtime_ifname)
		ifname = net->runtime_ifname;
	set(n, "type", net->type == DOMUS_NET_ETHERNET ? "ethernet" : "bridge");
	domus_mac_format(net->mac, mac);
	set(add(n, "mac", NULL), "address", mac);
	if (net->type == DOMUS_NET_BRIDGE)
		set(add(n, "source", NULL), "bridge", net->bridge);
	if (ifname)
		set(add(n, "target", NULL), "dev", ifname);
	set(add(n, "model", NULL), "type", "virtio");
}

/* The UART as libvirt writes it on x86: <serial> port 0, and <console> repeating it. */
static void format_serial(xmlNode *devs, const struct domus_chr_def *c, unsigned int flags)
{
	const char *type = c->type == DOMUS_CHR_FILE ? "file" : "pty";
	const char *path = c->path;
	xmlNode *s, *con, *t;

	if (c->type == DOMUS_CHR_PTY && (flags & DOMUS_DEF_FORMAT_INACTIVE))
		path = NULL;
	s = add(devs, "serial", NULL);
	set(s, "type", type);
	if (path)
		set(add(s, "source", NULL), "path", path);
	t = add(s, "target", NULL);
	set(t, "type", "isa-serial");
	set(t, "port", "0");
	set(add(t, "model", NULL), "name", "isa-serial");

	con = add(devs, "console", NULL);
	set(con, "type", type);
	if (path && c->type == DOMUS_CHR_PTY)
		set(con, "tty", path);
	if (path)
		set(add(con, "source", NULL), "path", path);
	t = add(con, "target", NULL);
	set(t, "type", "serial");
	set(t, "port", "0");
}

static void format_devices(xmlNode *root, const struct domus_domain_def *def,
			   unsigned int flags)
{
	xmlNode *devs = add(root, "devices", NULL), *n;

	if (def->emulator)
		add(devs, "emulator", def->emulator);
	for (size_t i = 0; i < def->ndisks; i++)
		format_disk(devs, def->disks[i]);
	if (def->usb_none) {
		n = add(devs, "controller", NULL);
		set(n, "type", "usb");
		set(n, "index", "0");
		set(n, "model", "none");
	}
	for (size_t i = 0; i < def->nnets; i++)
		format_net(devs, def->nets[i], flags);
	if (def->serial)
		format_serial(devs, def->serial, flags);
	n = add(devs, "memballoon", NULL);
	set(n, "model", def->memballoon == DOMUS_BALLOON_NONE ? "none" : "virtio");
	if (def->rng) {
		n = add(devs, "rng", NULL);
		set(n, "model", "virtio");
		set(add(n, "backend", def->rng_backend ? def->rng_backend : "/dev/urandom"),
		    "model", "random");
	}
}

char *domus_domain_def_format(const struct domus_domain_def *def, unsigned int flags)
{
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *root = xmlNewDocNode(doc, NULL, (const xmlChar *)"domain", NULL);
	xmlBuffer *buf = xmlBufferCreate();
	char *out;

	xmlDocSetRootElement(doc, root);
	set(root, "type", "kvm");
	format_identity(root, def, flags);
	format_resources(root, def);
	format_cputune(root, def);
	format_platform(root, def);
	format_devices(root, def, flags);
	xmlNodeDump(buf, doc, root, 0, 1);
	out = g_strconcat((const char *)xmlBufferContent(buf), "\n", NULL);
	xmlBufferFree(buf);
	xmlFreeDoc(doc);
	return out;
}
