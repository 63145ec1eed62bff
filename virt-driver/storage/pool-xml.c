// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The XML of dir storage pools and their volumes, in libvirt's format (storagepool.rng and
 * storagevol.rng of Debian's libvirt0 accept what is written here). Input is a <pool
 * type='dir'> with a name, an optional UUID and a target path; capacity, allocation and
 * available are output-only and ignored on input, as libvirt does; anything else is
 * refused with its name and line, never dropped.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "conf/conf_util.h"
#include "storage/pool-priv.h"

#define POOL_XML_MAX (64 * 1024)

static bool is_elem(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE;
}

static int unsupported(struct verr *err, const char *origin, const xmlNode *n, const char *what)
{
	return verr_set(err, VERR_CONFIG_UNSUPPORTED, VERR_FROM_STORAGE,
			"%sunsupported %s <%s> at line %ld of the storage pool XML", origin, what,
			(const char *)n->name, xmlGetLineNo(n));
}

/* The text of an element with no element children, trimmed; NULL and an error if not. */
static char *text_of(const xmlNode *n, const char *origin, struct verr *err)
{
	xmlChar *t;
	char *s;

	for (const xmlNode *c = n->children; c; c = c->next)
		if (is_elem(c)) {
			unsupported(err, origin, c, "element");
			return NULL;
		}
	t = xmlNodeGetContent(n);
	s = g_strstrip(g_strdup(t ? (const char *)t : ""));
	xmlFree(t);
	return s;
}

/* The name is also a file name: <name>.xml. */
static bool valid_name(const char *name)
{
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f || *c == '/')
			return false;
	return *name && *name != '.' && strlen(name) <= 200 && g_utf8_validate(name, -1, NULL);
}

static int parse_target(const xmlNode *t, struct spool *p, const char *origin, struct verr *err)
{
	for (const xmlAttr *a = t->properties; a; a = a->next)
		return unsupported(err, origin, t, "attribute of");
	for (const xmlNode *c = t->children; c; c = c->next) {
		if (!is_elem(c))
			continue;
		if (strcmp((const char *)c->name, "path") || p->path)
			return unsupported(err, origin, c, "element");
		if (!(p->path = text_of(c, origin, err)))
			return -1;
	}
	if (!p->path || p->path[0] != '/')
		return verr_set(err, VERR_XML_ERROR, VERR_FROM_STORAGE,
				"%sthe storage pool needs an absolute <target><path> (line %ld)",
				origin, xmlGetLineNo(t));
	while (strlen(p->path) > 1 && g_str_has_suffix(p->path, "/"))
		p->path[strlen(p->path) - 1] = '\0';	/* libvirt's form: no trailing '/' */
	return 0;
}

/* One child of <pool>; @seen_uuid is set when a UUID was given. */
static int parse_child(const xmlNode *c, struct spool *p, bool *seen_uuid, const char *origin,
		       struct verr *err)
{
	const char *n = (const char *)c->name;
	g_autofree char *text = NULL;

	if (!strcmp(n, "capacity") || !strcmp(n, "allocation") || !strcmp(n, "available"))
		return 0;		/* output-only */
	if (!strcmp(n, "source")) {
		for (const xmlNode *s = c->children; s; s = s->next)
			if (is_elem(s))
				return unsupported(err, origin, s, "element");
		return 0;
	}
	if (!strcmp(n, "target"))
		return parse_target(c, p, origin, err);
	if ((strcmp(n, "name") && strcmp(n, "uuid")) || !(text = text_of(c, origin, err)))
		return err->code ? -1 : unsupported(err, origin, c, "element");
	if (!strcmp(n, "name")) {
		if (p->name)
			return verr_set(err, VERR_XML_ERROR, VERR_FROM_STORAGE,
					"%sa second <name> at line %ld", origin, xmlGetLineNo(c));
		if (!valid_name(text))
			return verr_set(err, VERR_XML_ERROR, VERR_FROM_STORAGE,
					"%sinvalid storage pool name '%s' (line %ld)", origin,
					text, xmlGetLineNo(c));
		p->name = g_steal_pointer(&text);
		return 0;
	}
	if (domus_uuid_parse(text, p->uuid) < 0)
		return verr_set(err, VERR_XML_ERROR, VERR_FROM_STORAGE,
				"%smalformed uuid element '%s' (line %ld)", origin, text,
				xmlGetLineNo(c));
	*seen_uuid = true;
	return 0;
}

static int parse_root(const xmlNode *root, struct spool *p, const char *origin, struct verr *err)
{
	bool seen_uuid = false;
	xmlChar *type;
	int ret = 0;

	if (strcmp((const char *)root->name, "pool"))
		return verr_set(err, VERR_XML_ERROR, VERR_FROM_STORAGE,
				"%sexpected <pool>, not <%s>", origin, (const char *)root->name);
	for (const xmlAttr *a = root->properties; a; a = a->next)
		if (strcmp((const char *)a->name, "type"))
			return verr_set(err, VERR_CONFIG_UNSUPPORTED, VERR_FROM_STORAGE,
					"%sunsupported attribute '%s' of <pool>", origin,
					(const char *)a->name);
	type = xmlGetProp(root, (const xmlChar *)"type");
	if (!type || strcmp((const char *)type, "dir"))
		ret = verr_set(err, VERR_CONFIG_UNSUPPORTED, VERR_FROM_STORAGE,
			       "%sstorage pool type '%s' is not supported: Domus has only 'dir' pools",
			       origin, type ? (const char *)type : "");
	xmlFree(type);
	for (const xmlNode *c = root->children; !ret && c; c = c->next)
		if (is_elem(c))
			ret = parse_child(c, p, &seen_uuid, origin, err);
	if (!ret && !p->name)
		ret = verr_set(err, VERR_XML_ERROR, VERR_FROM_STORAGE,
			       "%sthe storage pool has no <name>", origin);
	if (!ret && !p->path)
		ret = verr_set(err, VERR_XML_ERROR, VERR_FROM_STORAGE,
			       "%sthe storage pool has no <target><path>", origin);
	if (!ret && !seen_uuid)
		domus_uuid_generate(p->uuid);
	return ret;
}

struct spool *spx_parse(const char *xml, const char *origin, struct verr *err)
{
	struct spool *p = g_new0(struct spool, 1);
	size_t len = strlen(xml);
	xmlDoc *doc = NULL;
	int ret;

	if (len > POOL_XML_MAX) {
		ret = verr_set(err, VERR_XML_ERROR, VERR_FROM_STORAGE,
			       "%sstorage pool XML of %zu bytes (at most %d)", origin, len,
			       POOL_XML_MAX);
	} else if (!(doc = xmlReadMemory(xml, (int)len, "pool.xml", NULL,
					 XML_PARSE_NONET | XML_PARSE_NOERROR |
					 XML_PARSE_NOWARNING)) || doc->intSubset) {
		const xmlError *e = xmlGetLastError();

		ret = verr_set(err, VERR_XML_ERROR, VERR_FROM_STORAGE,
			       "%smalformed storage pool XML%s%s", origin, doc ? ": a DOCTYPE" : "",
			       doc ? "" : e && e->message ? ": " : "");
		if (!doc && e && e->message)
			g_strlcat(err->message, g_strchomp(e->message), sizeof(err->message));
	} else {
		ret = parse_root(xmlDocGetRootElement(doc), p, origin, err);
	}
	xmlFreeDoc(doc);
	if (ret < 0) {
		spool_free(p);
		return NULL;
	}
	return p;
}

char *spx_format_pool(const struct spool *p, const uint64_t *sizes)
{
	GString *s = g_string_new("<pool type='dir'>\n");
	g_autofree char *name = g_markup_escape_text(p->name, -1);
	g_autofree char *path = g_markup_escape_text(p->path, -1);
	char uuid[37];

	domus_uuid_format(p->uuid, uuid);
	g_string_append_printf(s, "  <name>%s</name>\n  <uuid>%s</uuid>\n", name, uuid);
	if (sizes)
		g_string_append_printf(s,
				       "  <capacity unit='bytes'>%" G_GUINT64_FORMAT "</capacity>\n"
				       "  <allocation unit='bytes'>%" G_GUINT64_FORMAT "</allocation>\n"
				       "  <available unit='bytes'>%" G_GUINT64_FORMAT "</available>\n",
				       sizes[0], sizes[1], sizes[2]);
	g_string_append_printf(s, "  <source>\n  </source>\n  <target>\n    <path>%s</path>\n"
			       "  </target>\n</pool>\n", path);
	return g_string_free(s, FALSE);
}

char *spx_format_vol(const char *name, const char *path, const struct sp_vol_info *info)
{
	g_autofree char *n = g_markup_escape_text(name, -1);
	g_autofree char *p = g_markup_escape_text(path, -1);

	return g_strdup_printf("<volume type='file'>\n  <name>%s</name>\n  <key>%s</key>\n"
			       "  <capacity unit='bytes'>%" G_GUINT64_FORMAT "</capacity>\n"
			       "  <allocation unit='bytes'>%" G_GUINT64_FORMAT "</allocation>\n"
			       "  <physical unit='bytes'>%" G_GUINT64_FORMAT "</physical>\n"
			       "  <target>\n    <path>%s</path>\n    <format type='%s'/>\n"
			       "  </target>\n</volume>\n", n, p, info->capacity, info->allocation,
			       info->capacity, p, info->format);
}
