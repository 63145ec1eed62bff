// SPDX-License-Identifier: GPL-2.0-or-later
/* Domain XML -> struct domus_domain_def. The document has passed domain.rng by the time
 * parse_domain() runs, so structure is known; the checks here are the ones RelaxNG cannot
 * make (ranges across elements, duplicates, units), each naming the line. */
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlsave.h>

#include "domain_conf.h"
#include "domain_schema.h"

#define XML_ERR(err, node, fmt, ...)                                                              \
	domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_XML_ERROR, fmt " at line %ld", ##__VA_ARGS__, \
			xmlGetLineNo(node))
#define UNSUPPORTED(err, node, fmt, ...)                                                          \
	domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_CONFIG_UNSUPPORTED, fmt " at line %ld",     \
			##__VA_ARGS__, xmlGetLineNo(node))

static bool is_elem(xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !n->ns && !strcmp((const char *)n->name, name);
}

static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is_elem(c, name))
			return c;
	return NULL;
}

/* An attribute's value, or NULL. */
static char *prop(xmlNode *n, const char *name)
{
	xmlChar *v = n ? xmlGetNoNsProp(n, (const xmlChar *)name) : NULL;
	char *s = v ? g_strdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

/* An attribute whose schema type collapses whitespace (a <value> keyword or a number),
 * compared the way RelaxNG compared it: "ethernet\n" is "ethernet". */
static char *prop_token(xmlNode *n, const char *name)
{
	char *s = prop(n, name);

	return s ? g_strstrip(s) : NULL;
}

/* An element's text, as written (NULL when @n is NULL). */
static char *text(xmlNode *n)
{
	xmlChar *v;
	char *s;

	if (!n)
		return NULL;
	v = xmlNodeGetContent(n);
	s = g_strdup(v ? (const char *)v : "");
	xmlFree(v);
	return s;
}

/* An element's text with surrounding blanks removed (for numbers and keywords). */
static char *token(xmlNode *n)
{
	char *s = text(n);

	return s ? g_strstrip(s) : NULL;
}

static int parse_u64(xmlNode *n, const char *what, const char *str, uint64_t min, uint64_t max,
		     uint64_t *ret, struct domus_error **err)
{
	guint64 v;

	if (!g_ascii_string_to_unsigned(str, 10, min, max, &v, NULL)) {
		XML_ERR(err, n, "invalid %s '%s' (expected %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT
			")", what, str, min, max);
		return -1;
	}
	*ret = v;
	return 0;
}

/* --- identity ---------------------------------------------------------------------------- */

static int parse_identity(xmlNode *root, struct domus_domain_def *def, unsigned int flags,
			  struct domus_error **err)
{
	xmlNode *n = child(root, "name"), *u = child(root, "uuid");
	g_autofree char *id = prop_token(root, "id");
	g_autofree char *uuid = token(u);

	def->id = -1;
	if (id && (flags & DOMUS_DEF_PARSE_STATUS)) {
		uint64_t v;

		if (parse_u64(root, "domain id", id, 1, G_MAXINT, &v, err) < 0)
			return -1;
		def->id = (int)v;
	}
	def->name = text(n);
	if (domus_domain_name_check(def->name, false, err) < 0) {
		domus_error_prefix(err, "<name> at line %ld: ", n ? xmlGetLineNo(n) : 0L);
		return -1;
	}
	if (!uuid)
		domus_uuid_generate(def->uuid);
	else if (domus_uuid_parse(uuid, def->uuid) < 0) {
		XML_ERR(err, u, "malformed UUID '%s'", uuid);
		return -1;
	}
	def->title = text(child(root, "title"));
	def->description = text(child(root, "description"));
	return 0;
}

/*
 * <metadata>'s elements, serialized one by one as the root of a document of their own so
 * that each carries the namespace declarations it uses (they may sit on <domain>).
 */
static char *serialize_metadata(xmlNode *md)
{
	GString *out = g_string_new(NULL);

	for (xmlNode *c = md->children; c; c = c->next) {
		xmlDoc *doc;
		xmlNode *copy;
		xmlBuffer *buf;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		doc = xmlNewDoc((const xmlChar *)"1.0");
		copy = xmlDocCopyNode(c, doc, 1);
		xmlDocSetRootElement(doc, copy);
		xmlReconciliateNs(doc, copy);
		buf = xmlBufferCreate();
		xmlNodeDump(buf, doc, copy, 0, 0);
		g_string_append(out, (const char *)xmlBufferContent(buf));
		xmlBufferFree(buf);
		xmlFreeDoc(doc);
	}
	return g_string_free(out, FALSE);
}

/* --- resources ----------------------------------------------------------------------------- */

static int parse_memory_elem(xmlNode *n, uint64_t *ret, struct domus_error **err)
{
	g_autofree char *unit = prop(n, "unit");
	g_autofree char *value = token(n);

	if (domus_memory_parse_kib(value, unit, ret, err) < 0) {
		domus_error_prefix(err, "<%s> at line %ld: ", n->name, xmlGetLineNo(n));
		return -1;
	}
	return 0;
}

static int parse_memory(xmlNode *root, struct domus_domain_def *def, struct domus_error **err)
{
	xmlNode *m = child(root, "memory"), *cur = child(root, "currentMemory");

	if (parse_memory_elem(m, &def->memory_kib, err) < 0)
		return -1;
	if (def->memory_kib == 0) {
		XML_ERR(err, m, "<memory> must be larger than 0");
		return -1;
	}
	if (!cur) {
		def->current_memory_kib = def->memory_kib;
		return 0;
	}
	if (parse_memory_elem(cur, &def->current_memory_kib, err) < 0)
		return -1;
	if (def->current_memory_kib == 0 || def->current_memory_kib > def->memory_kib) {
		XML_ERR(err, cur,
			"<currentMemory> (%" G_GUINT64_FORMAT " KiB) must be between 1 KiB and "
			"<memory> (%" G_GUINT64_FORMAT " KiB)",
			def->current_memory_kib, def->memory_kib);
		return -1;
	}
	return 0;
}

static int parse_vcpu(xmlNode *root, struct domus_domain_def *def, struct domus_error **err)
{
	xmlNode *v = child(root, "vcpu");
	g_autofree char *count = token(v);
	g_autofree char *current = prop_token(v, "current");
	g_autofree char *cpuset = prop(v, "cpuset");
	uint64_t n = 1, cur;

	if (v && parse_u64(v, "vCPU count", count, 1, G_MAXUINT16, &n, err) < 0)
		return -1;
	if (n > DOMUS_DOMAIN_MAX_VCPUS) {
		UNSUPPORTED(err, v, "%" G_GUINT64_FORMAT " vCPUs: Domus supports at most %d", n,
			    DOMUS_DOMAIN_MAX_VCPUS);
		return -1;
	}
	cur = n;
	if (current && parse_u64(v, "current vCPU count", current, 1, n, &cur, err) < 0)
		return -1;
	def->vcpus = (unsigned int)n;
	def->current_vcpus = (unsigned int)cur;
	if (cpuset && !(def->vcpu_cpuset = domus_cpuset_parse(cpuset, err))) {
		domus_error_prefix(err, "<vcpu> at line %ld: ", xmlGetLineNo(v));
		return -1;
	}
	return 0;
}

static int cmp_pin(const void *a, const void *b)
{
	const struct domus_vcpupin *x = a, *y = b;

	return (x->vcpu > y->vcpu) - (x->vcpu < y->vcpu);
}

static int parse_vcpupin(xmlNode *p, struct domus_domain_def *def, struct domus_error **err)
{
	g_autofree char *vcpu = prop_token(p, "vcpu");
	g_autofree char *cpuset = prop(p, "cpuset");
	g_autofree struct domus_cpuset *set = NULL;
	struct domus_vcpupin *pin;
	uint64_t id;

	if (parse_u64(p, "vcpupin vcpu", vcpu, 0, def->vcpus - 1, &id, err) < 0)
		return -1;
	for (size_t i = 0; i < def->cputune.npins; i++)
		if (def->cputune.pins[i].vcpu == id) {
			XML_ERR(err, p, "vCPU %" G_GUINT64_FORMAT " is pinned twice", id);
			return -1;
		}
	set = domus_cpuset_parse(cpuset, err);
	if (!set) {
		domus_error_prefix(err, "<vcpupin> at line %ld: ", xmlGetLineNo(p));
		return -1;
	}
	def->cputune.pins = g_renew(struct domus_vcpupin, def->cputune.pins,
				    def->cputune.npins + 1);
	pin = &def->cputune.pins[def->cputune.npins++];
	pin->vcpu = (unsigned int)id;
	pin->cpus = *set;
	return 0;
}

static int parse_cputune(xmlNode *root, struct domus_domain_def *def, struct domus_error **err)
{
	xmlNode *t = child(root, "cputune"), *n;
	gint64 quota;

	if (!t)
		return 0;
	if ((n = child(t, "shares"))) {
		g_autofree char *v = token(n);
		uint64_t shares;

		if (parse_u64(n, "<shares>", v, 0, G_MAXUINT32, &shares, err) < 0)
			return -1;
		def->cputune.has_shares = true;
		def->cputune.shares = (unsigned int)shares;
	}
	if ((n = child(t, "period"))) {
		g_autofree char *v = token(n);

		if (parse_u64(n, "<period>", v, 1000, 1000000, &def->cputune.period, err) < 0)
			return -1;
	}
	if ((n = child(t, "quota"))) {
		g_autofree char *v = token(n);

		if (!g_ascii_string_to_signed(v, 10, -1, 17592186044415LL, &quota, NULL) ||
		    (quota >= 0 && quota < 1000)) {
			XML_ERR(err, n, "invalid <quota> '%s' (expected -1 or 1000..17592186044415)",
				v);
			return -1;
		}
		def->cputune.has_quota = true;
		def->cputune.quota = quota;
	}
	for (n = t->children; n; n = n->next)
		if (is_elem(n, "vcpupin") && parse_vcpupin(n, def, err) < 0)
			return -1;
	qsort(def->cputune.pins, def->cputune.npins, sizeof(*def->cputune.pins), cmp_pin);
	return 0;
}

/* --- os, features, clock, lifecycle ---------------------------------------------------- */

static int parse_os(xmlNode *root, struct domus_domain_def *def, struct domus_error **err)
{
	xmlNode *os = child(root, "os"), *type = child(os, "type");

	def->os.arch = prop_token(type, "arch");
	if (!def->os.arch)
		def->os.arch = g_strdup("x86_64");
	def->os.machine = prop(type, "machine");
	if (!def->os.machine)
		def->os.machine = g_strdup("pc");
	def->os.kernel = text(child(os, "kernel"));
	def->os.initrd = text(child(os, "initrd"));
	def->os.cmdline = text(child(os, "cmdline"));
	if (!def->os.kernel) {
		UNSUPPORTED(err, os,
			    "<os> has no <kernel>: Domus boots guests by direct kernel boot only");
		return -1;
	}
	return 0;
}

static enum domus_lifecycle_action parse_action(xmlNode *n, enum domus_lifecycle_action dflt)
{
	g_autofree char *v = token(n);

	if (!v)
		return dflt;
	if (!strcmp(v, "restart"))
		return DOMUS_ACTION_RESTART;
	if (!strcmp(v, "preserve"))
		return DOMUS_ACTION_PRESERVE;
	return DOMUS_ACTION_DESTROY;
}

static void parse_platform(xmlNode *root, struct domus_domain_def *def)
{
	xmlNode *f = child(root, "features"), *pm = child(root, "pm");
	g_autofree char *offset = prop_token(child(root, "clock"), "offset");

	def->acpi = child(f, "acpi") != NULL;
	def->apic = child(f, "apic") != NULL;
	def->pm_no_suspend_to_mem = child(pm, "suspend-to-mem") != NULL;
	def->pm_no_suspend_to_disk = child(pm, "suspend-to-disk") != NULL;
	def->clock_offset = offset && !strcmp(offset, "localtime") ? DOMUS_CLOCK_LOCALTIME
								   : DOMUS_CLOCK_UTC;
	def->on_poweroff = parse_action(child(root, "on_poweroff"), DOMUS_ACTION_DESTROY);
	def->on_reboot = parse_action(child(root, "on_reboot"), DOMUS_ACTION_RESTART);
	def->on_crash = parse_action(child(root, "on_crash"), DOMUS_ACTION_DESTROY);
}

/* --- devices ------------------------------------------------------------------------------ */

static int parse_disk(xmlNode *n, struct domus_domain_def *def, struct domus_error **err)
{
	g_autofree char *type = prop_token(n, "type");
	xmlNode *src = child(n, "source");
	struct domus_disk_def *d;

	if (def->ndisks == DOMUS_DOMAIN_MAX_DISKS) {
		UNSUPPORTED(err, n, "more than %d <disk>s: domus-vmm gives a domain at most %d",
			    DOMUS_DOMAIN_MAX_DISKS, DOMUS_DOMAIN_MAX_DISKS);
		return -1;
	}
	d = g_new0(struct domus_disk_def, 1);
	def->disks = g_renew(struct domus_disk_def *, def->disks, def->ndisks + 1);
	def->disks[def->ndisks++] = d;
	d->type = type && !strcmp(type, "block") ? DOMUS_DISK_BLOCK : DOMUS_DISK_FILE;
	d->source = prop(src, d->type == DOMUS_DISK_BLOCK ? "dev" : "file");
	d->target = prop(child(n, "target"), "dev");
	d->readonly = child(n, "readonly") != NULL;
	d->serial = text(child(n, "serial"));
	if (!d->source || !d->target) {
		XML_ERR(err, n, "<disk> needs a <source> and a <target dev>");
		return -1;
	}
	for (size_t i = 0; i + 1 < def->ndisks; i++)
		if (!strcmp(def->disks[i]->target, d->target)) {
			XML_ERR(err, n, "disk target '%s' is used twice", d->target);
			return -1;
		}
	return 0;
}

static int parse_interface(xmlNode *n, struct domus_domain_def *def, unsigned int flags,
			   struct domus_error **err)
{
	g_autofree char *type = prop_token(n, "type");
	g_autofree char *mac = prop(child(n, "mac"), "address");
	g_autofree char *dev = prop(child(n, "target"), "dev");
	struct domus_net_def *net;

	if (def->nnets == DOMUS_DOMAIN_MAX_NETS) {
		UNSUPPORTED(err, n, "more than %d <interface>s: domus-vmm gives a domain at most %d",
			    DOMUS_DOMAIN_MAX_NETS, DOMUS_DOMAIN_MAX_NETS);
		return -1;
	}
	net = g_new0(struct domus_net_def, 1);
	def->nets = g_renew(struct domus_net_def *, def->nets, def->nnets + 1);
	def->nets[def->nnets++] = net;
	net->type = type && !strcmp(type, "ethernet") ? DOMUS_NET_ETHERNET : DOMUS_NET_BRIDGE;
	net->bridge = net->type == DOMUS_NET_BRIDGE ? prop(child(n, "source"), "bridge") : NULL;
	if (!mac) {
		domus_mac_generate(net->mac);
	} else if (domus_conf_mac_parse(mac, net->mac) < 0) {
		XML_ERR(err, n, "malformed MAC address '%s'", mac);
		return -1;
	} else if (net->mac[0] & 1) {
		XML_ERR(err, n, "MAC address '%s' is a multicast address; expected unicast", mac);
		return -1;
	}
	if (dev && (flags & DOMUS_DEF_PARSE_STATUS))
		net->runtime_ifname = g_strdup(dev);
	/* a name we would have generated is runtime state, not configuration */
	if (dev && !g_str_has_prefix(dev, DOMUS_TAP_PREFIX))
		net->ifname = g_steal_pointer(&dev);
	if (net->ifname && strlen(net->ifname) >= 16) {
		XML_ERR(err, n, "tap device name '%s' is longer than 15 characters", net->ifname);
		return -1;
	}
	return 0;
}

static struct domus_chr_def *parse_chr(xmlNode *n, unsigned int flags)
{
	struct domus_chr_def *c = g_new0(struct domus_chr_def, 1);
	g_autofree char *type = prop_token(n, "type");
	g_autofree char *path = prop(child(n, "source"), "path");
	g_autofree char *tty = prop(n, "tty");

	c->type = type && !strcmp(type, "file") ? DOMUS_CHR_FILE : DOMUS_CHR_PTY;
	if (c->type == DOMUS_CHR_FILE)
		c->path = g_steal_pointer(&path);
	else if (flags & DOMUS_DEF_PARSE_STATUS)
		c->path = path ? g_steal_pointer(&path) : g_steal_pointer(&tty);
	return c;
}

static bool chr_same(const struct domus_chr_def *a, const struct domus_chr_def *b)
{
	return a->type == b->type && (a->type != DOMUS_CHR_FILE || !g_strcmp0(a->path, b->path));
}

/*
 * <serial> and <console> both describe the one UART (libvirt's x86 rule: the first console
 * with target type 'serial' is serial port 0). Either may come alone; given both, they must
 * agree.
 */
static int parse_chardevs(xmlNode *devs, struct domus_domain_def *def, unsigned int flags,
			  struct domus_error **err)
{
	xmlNode *serial = NULL, *console = NULL;
	struct domus_chr_def *s, *c;

	for (xmlNode *n = devs->children; n; n = n->next) {
		xmlNode **slot = is_elem(n, "serial") ? &serial : is_elem(n, "console") ? &console
											: NULL;
		if (!slot)
			continue;
		if (*slot) {
			UNSUPPORTED(err, n, "a second <%s>: Domus has one serial port (port 0)",
				    n->name);
			return -1;
		}
		*slot = n;
	}
	if (!serial && !console)
		return 0;
	s = serial ? parse_chr(serial, flags) : NULL;
	c = console ? parse_chr(console, flags) : NULL;
	if (s && c && !chr_same(s, c)) {
		g_free(s->path);
		g_free(s);
		g_free(c->path);
		g_free(c);
		UNSUPPORTED(err, console,
			    "<console> differs from <serial>: the console is serial port 0 itself");
		return -1;
	}
	def->serial = s ? s : c;
	if (s && c) {
		g_free(c->path);
		g_free(c);
	}
	return 0;
}

static int parse_device(xmlNode *n, struct domus_domain_def *def, unsigned int flags,
			struct domus_error **err)
{
	if (is_elem(n, "emulator")) {
		def->emulator = text(n);
	} else if (is_elem(n, "disk")) {
		return parse_disk(n, def, err);
	} else if (is_elem(n, "interface")) {
		return parse_interface(n, def, flags, err);
	} else if (is_elem(n, "rng")) {
		g_autofree char *backend = token(child(n, "backend"));

		if (def->rng) {
			UNSUPPORTED(err, n, "a second <rng>: Domus gives a domain one virtio-rng");
			return -1;
		}
		def->rng = true;
		def->rng_backend = g_strdup(backend && *backend ? backend : "/dev/urandom");
	} else if (is_elem(n, "memballoon")) {
		g_autofree char *model = prop_token(n, "model");

		def->memballoon = model && !strcmp(model, "none") ? DOMUS_BALLOON_NONE
								  : DOMUS_BALLOON_VIRTIO;
	} else if (is_elem(n, "controller")) {
		def->usb_none = true;
	}
	return 0;
}

static int parse_devices(xmlNode *root, struct domus_domain_def *def, unsigned int flags,
			 struct domus_error **err)
{
	xmlNode *devs = child(root, "devices");

	def->memballoon = DOMUS_BALLOON_VIRTIO;
	if (!devs)
		return 0;
	for (xmlNode *n = devs->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && parse_device(n, def, flags, err) < 0)
			return -1;
	return parse_chardevs(devs, def, flags, err);
}

static struct domus_domain_def *parse_domain(xmlNode *root, unsigned int flags,
					     struct domus_error **err)
{
	g_autoptr(domus_domain_def) def = g_new0(struct domus_domain_def, 1);
	xmlNode *md = child(root, "metadata");

	if (parse_identity(root, def, flags, err) < 0 || parse_memory(root, def, err) < 0 ||
	    parse_vcpu(root, def, err) < 0 || parse_cputune(root, def, err) < 0 ||
	    parse_os(root, def, err) < 0)
		return NULL;
	if (md)
		def->metadata = serialize_metadata(md);
	parse_platform(root, def);
	if (parse_devices(root, def, flags, err) < 0)
		return NULL;
	return g_steal_pointer(&def);
}

/* --- reading the document ---------------------------------------------------------------- */

/* libxml2 parser errors: keep the first; never print them. */
static void record_parse_error(void *data, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = data;

	if (!ctxt->_private && e->level >= XML_ERR_ERROR)
		ctxt->_private = g_strdup_printf("malformed XML at line %d: %s", e->line,
						 e->message ? g_strchomp(e->message) : "?");
}

static xmlDoc *read_xml(const char *xml, struct domus_error **err)
{
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	size_t len = strlen(xml);
	xmlDoc *doc;

	if (len > DOMUS_DOMAIN_XML_MAX) {
		xmlFreeParserCtxt(ctxt);
		domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_XML_ERROR,
				"domain XML is %zu bytes, more than the %d allowed", len,
				DOMUS_DOMAIN_XML_MAX);
		return NULL;
	}
	if (!ctxt) {
		domus_error_set(err, VIR_FROM_XML, VIR_ERR_NO_MEMORY, "out of memory");
		return NULL;
	}
	ctxt->sax->serror = record_parse_error;
	/* no network, no DTD loading, no entity substitution; keep line numbers past 65535 */
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "domain.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES);
	/* undeclared namespace prefixes too: what we write must be namespace-well-formed */
	if (!doc || !ctxt->wellFormed || !ctxt->nsWellFormed) {
		domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_XML_DETAIL, "%s",
				ctxt->_private ? (char *)ctxt->_private : "malformed XML");
		xmlFreeDoc(doc);
		doc = NULL;
	} else if (doc->intSubset) {
		const char *dt = strstr(xml, "<!DOCTYPE");
		long line = 1;

		for (const char *p = xml; dt && p < dt; p++)
			line += *p == '\n';
		domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_XML_ERROR,
				"a DOCTYPE is not allowed in domain XML (line %ld)", line);
		xmlFreeDoc(doc);
		doc = NULL;
	}
	g_free(ctxt->_private);
	xmlFreeParserCtxt(ctxt);
	return doc;
}

struct domus_domain_def *domus_domain_def_parse_string(const struct domus_schema *schema,
							const char *xml, unsigned int flags,
							struct domus_error **err)
{
	struct domus_domain_def *def = NULL;
	xmlDoc *doc;

	if (!schema || !xml) {
		domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG, "no %s given",
				schema ? "XML" : "schema");
		return NULL;
	}
	doc = read_xml(xml, err);
	if (!doc)
		return NULL;
	if (domus_schema_validate(schema, doc, err) == 0)
		def = parse_domain(xmlDocGetRootElement(doc), flags, err);
	xmlFreeDoc(doc);
	return def;
}

/* The whole of @path as a string, through one fd: only a regular file, never more than the
 * XML limit (a FIFO or /dev/zero would otherwise block or fill memory), no NUL inside. */
static char *read_xml_file(const char *path, struct domus_error **err)
{
	g_autofree char *xml = NULL;
	size_t cap, len = 0;
	struct stat sb;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		domus_error_set_errno(err, VIR_FROM_CONF, errno, "cannot open '%s'", path);
		return NULL;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		domus_error_set(err, VIR_FROM_CONF, VIR_ERR_XML_ERROR,
				"'%s': not a regular file", path);
		close(fd);
		return NULL;
	}
	/* reading one byte past what fstat said (or the limit) tells a file that is too big */
	cap = MIN(sb.st_size, DOMUS_DOMAIN_XML_MAX) + 1;
	xml = g_malloc(cap + 1);
	while (len < cap) {
		ssize_t r = read(fd, xml + len, cap - len);

		if (r == 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			domus_error_set_errno(err, VIR_FROM_CONF, errno, "cannot read '%s'", path);
			close(fd);
			return NULL;
		}
		len += r;
	}
	close(fd);
	if (len == cap) {
		if (sb.st_size > DOMUS_DOMAIN_XML_MAX)
			domus_error_set(err, VIR_FROM_CONF, VIR_ERR_XML_ERROR,
					"'%s': %lld bytes, more than the %d allowed for domain XML",
					path, (long long)sb.st_size, DOMUS_DOMAIN_XML_MAX);
		else
			domus_error_set(err, VIR_FROM_CONF, VIR_ERR_XML_ERROR,
					"'%s': grew while it was read", path);
		return NULL;
	}
	xml[len] = '\0';
	if (strlen(xml) != len) {
		domus_error_set(err, VIR_FROM_CONF, VIR_ERR_XML_ERROR,
				"'%s': contains a NUL byte", path);
		return NULL;
	}
	return g_steal_pointer(&xml);
}

struct domus_domain_def *domus_domain_def_parse_file(const struct domus_schema *schema,
						      const char *path, unsigned int flags,
						      struct domus_error **err)
{
	g_autofree char *xml = read_xml_file(path, err);
	struct domus_domain_def *def;

	if (!xml)
		return NULL;
	def = domus_domain_def_parse_string(schema, xml, flags, err);
	if (!def)
		domus_error_prefix(err, "'%s': ", path);
	return def;
}

int domus_domain_def_validate(const struct domus_schema *schema,
			      const struct domus_domain_def *def, struct domus_error **err)
{
	g_autofree char *xml = domus_domain_def_format(def, DOMUS_DEF_FORMAT_INACTIVE);
	g_autoptr(domus_domain_def) again = NULL;

	again = domus_domain_def_parse_string(schema, xml, 0, err);
	return again ? 0 : -1;
}
