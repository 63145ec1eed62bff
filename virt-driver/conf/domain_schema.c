// SPDX-License-Identifier: GPL-2.0-or-later
/* RelaxNG validation of domain XML with messages that name the culprit and its line. */
#include <string.h>

#include <libxml/relaxng.h>
#include <libxml/xmlregexp.h>
#include <libxml/xmlschemastypes.h>
#include <libxml/xmlerror.h>

#include "domain_schema.h"

#define RNG_NS "http://relaxng.org/ns/structure/1.0"
#define XSD_NS "http://www.w3.org/2001/XMLSchema"

/* A <data> of the grammar: an XML Schema datatype with facets. */
struct data_rule {
	char *type;			/* "string", "unsignedLong", … */
	char *pattern;			/* NULL when none */
	xmlRegexpPtr re;		/* compiled @pattern */
	char *min, *max;		/* minInclusive, maxInclusive; NULL when none */
};

/* What the schema allows, anywhere, as the value of one attribute, or as the text of one
 * element: fixed <value>s, <data>, or any <text>. No rule at all means no check. */
struct value_rule {
	bool any_text;
	GHashTable *values;		/* set of fixed <value>s ("" for <empty/>), tokens */
	GHashTable *exact;		/* set of <value type="string">s, compared exactly */
	GPtrArray *datas;		/* struct data_rule */
};

/* What the schema allows, anywhere, inside elements at one path ("domain/devices/disk"). */
struct elem_info {
	bool any;			/* <anyName/> content (metadata): not checked further */
	struct value_rule text;
	GHashTable *children;		/* set of child element names */
	GHashTable *attrs;		/* name -> struct value_rule */
};

struct domus_schema {
	char *path;
	xmlRelaxNGPtr rng;
	GHashTable *elems;		/* path -> struct elem_info; "" is the document */
	GMutex lock;			/* serializes validation: libxml2 does not promise that
					 * one xmlRelaxNG may be used by two threads at once */
};

static GHashTable *string_set(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void data_rule_free(gpointer p)
{
	struct data_rule *d = p;

	g_free(d->type);
	g_free(d->pattern);
	if (d->re)
		xmlRegFreeRegexp(d->re);
	g_free(d->min);
	g_free(d->max);
	g_free(d);
}

static void value_rule_init(struct value_rule *r)
{
	r->values = string_set();
	r->exact = string_set();
	r->datas = g_ptr_array_new_with_free_func(data_rule_free);
}

static void value_rule_dispose(struct value_rule *r)
{
	g_hash_table_unref(r->values);
	g_hash_table_unref(r->exact);
	g_ptr_array_unref(r->datas);
}

static void attr_rule_free(gpointer p)
{
	value_rule_dispose(p);
	g_free(p);
}

static void elem_info_free(gpointer p)
{
	struct elem_info *e = p;

	value_rule_dispose(&e->text);
	g_hash_table_unref(e->children);
	g_hash_table_unref(e->attrs);
	g_free(e);
}

static struct elem_info *elem_info_get(GHashTable *elems, const char *path)
{
	struct elem_info *e = g_hash_table_lookup(elems, path);

	if (!e) {
		e = g_new0(struct elem_info, 1);
		value_rule_init(&e->text);
		e->children = string_set();
		e->attrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, attr_rule_free);
		g_hash_table_insert(elems, g_strdup(path), e);
	}
	return e;
}

/* --- reading the table out of the grammar ------------------------------------------- */

struct collect {
	GHashTable *defines;		/* define name -> xmlNode (not owned) */
	GHashTable *elems;
	GHashTable *seen;		/* "define@path" already walked */
};

static bool is_rng(xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns && !strcmp((const char *)n->ns->href, RNG_NS) &&
	       (!name || !strcmp((const char *)n->name, name));
}

static char *rng_attr(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *s = v ? g_strstrip(g_strdup((const char *)v)) : NULL;

	xmlFree(v);
	return s;
}

static char *rng_text(xmlNode *n)
{
	xmlChar *v = xmlNodeGetContent(n);
	char *s = g_strstrip(g_strdup(v ? (const char *)v : ""));

	xmlFree(v);
	return s;
}

static void add_data(struct value_rule *r, xmlNode *data)
{
	struct data_rule *d = g_new0(struct data_rule, 1);

	d->type = rng_attr(data, "type");
	for (xmlNode *p = data->children; p; p = p->next) {
		g_autofree char *name = is_rng(p, "param") ? rng_attr(p, "name") : NULL;
		char **slot = !name ? NULL
			    : !strcmp(name, "pattern") ? &d->pattern
			    : !strcmp(name, "minInclusive") ? &d->min
			    : !strcmp(name, "maxInclusive") ? &d->max : NULL;

		if (slot) {
			g_free(*slot);
			*slot = rng_text(p);
		}
	}
	if (d->pattern)
		d->re = xmlRegexpCompile((const xmlChar *)d->pattern);
	g_ptr_array_add(r->datas, d);
}

static void add_value(struct value_rule *r, xmlNode *value)
{
	g_autofree char *type = rng_attr(value, "type");

	if (type && !strcmp(type, "string"))
		g_hash_table_add(r->exact, rng_text(value));
	else
		g_hash_table_add(r->values, rng_text(value));
}

/* Collects the values that @node allows into @r (an attribute's or an element's text). */
static void collect_values(struct collect *c, xmlNode *node, struct value_rule *r, int depth)
{
	if (depth > 64)
		return;
	for (xmlNode *n = node->children; n; n = n->next) {
		if (!is_rng(n, NULL))
			continue;
		if (is_rng(n, "value")) {
			add_value(r, n);
		} else if (is_rng(n, "empty")) {
			g_hash_table_add(r->values, g_strdup(""));
		} else if (is_rng(n, "data")) {
			add_data(r, n);
		} else if (is_rng(n, "text")) {
			r->any_text = true;
		} else if (is_rng(n, "ref")) {
			g_autofree char *name = rng_attr(n, "name");
			xmlNode *def = name ? g_hash_table_lookup(c->defines, name) : NULL;

			if (def)
				collect_values(c, def, r, depth + 1);
		} else if (!is_rng(n, "element") && !is_rng(n, "attribute")) {
			collect_values(c, n, r, depth + 1);
		}
	}
}

static void collect_content(struct collect *c, xmlNode *node, const char *path,
			    struct elem_info *cur);

static void collect_element(struct collect *c, xmlNode *n, const char *path,
			    struct elem_info *cur)
{
	g_autofree char *name = rng_attr(n, "name");
	g_autofree char *child_path = NULL;

	if (!name) {			/* <element><anyName/>…: foreign content */
		cur->any = true;
		return;
	}
	g_hash_table_add(cur->children, g_strdup(name));
	child_path = *path ? g_strdup_printf("%s/%s", path, name) : g_strdup(name);
	collect_content(c, n, child_path, elem_info_get(c->elems, child_path));
}

static void collect_attribute(struct collect *c, xmlNode *n, struct elem_info *cur)
{
	g_autofree char *name = rng_attr(n, "name");
	struct value_rule *r;

	if (!name)
		return;
	r = g_hash_table_lookup(cur->attrs, name);
	if (!r) {
		r = g_new0(struct value_rule, 1);
		value_rule_init(r);
		g_hash_table_insert(cur->attrs, g_strdup(name), r);
	}
	if (!n->children)		/* <attribute name="x"/> means any text */
		r->any_text = true;
	else
		collect_values(c, n, r, 0);
}

static void collect_ref(struct collect *c, xmlNode *n, const char *path, struct elem_info *cur)
{
	g_autofree char *name = rng_attr(n, "name");
	xmlNode *def = name ? g_hash_table_lookup(c->defines, name) : NULL;
	char *key;

	if (!def)
		return;
	key = g_strdup_printf("%s@%s", name, path);
	if (!g_hash_table_add(c->seen, key))
		return;			/* walked already: same define, same place */
	collect_content(c, def, path, cur);
}

static void collect_content(struct collect *c, xmlNode *node, const char *path,
			    struct elem_info *cur)
{
	for (xmlNode *n = node->children; n; n = n->next) {
		if (!is_rng(n, NULL))
			continue;
		if (is_rng(n, "element"))
			collect_element(c, n, path, cur);
		else if (is_rng(n, "attribute"))
			collect_attribute(c, n, cur);
		else if (is_rng(n, "ref"))
			collect_ref(c, n, path, cur);
		else if (is_rng(n, "value"))
			add_value(&cur->text, n);
		else if (is_rng(n, "empty"))
			g_hash_table_add(cur->text.values, g_strdup(""));
		else if (is_rng(n, "data"))
			add_data(&cur->text, n);
		else if (is_rng(n, "text"))
			cur->text.any_text = true;
		else if (!is_rng(n, "name") && !is_rng(n, "anyName"))
			collect_content(c, n, path, cur);
	}
}

static int build_table(struct domus_schema *s, struct domus_error **err)
{
	xmlDoc *doc = xmlReadFile(s->path, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	struct collect c = { 0 };
	xmlNode *root, *start = NULL;

	if (!doc) {
		domus_error_set(err, VIR_FROM_XML, VIR_ERR_INTERNAL_ERROR,
				"cannot read the schema '%s'", s->path);
		return -1;
	}
	root = xmlDocGetRootElement(doc);
	c.defines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	c.seen = string_set();
	c.elems = s->elems;
	for (xmlNode *n = root ? root->children : NULL; n; n = n->next) {
		if (is_rng(n, "define"))
			g_hash_table_insert(c.defines, rng_attr(n, "name"), n);
		else if (is_rng(n, "start"))
			start = n;
	}
	if (start)
		collect_content(&c, start, "", elem_info_get(s->elems, ""));
	g_hash_table_unref(c.defines);
	g_hash_table_unref(c.seen);
	xmlFreeDoc(doc);
	if (!start) {
		domus_error_set(err, VIR_FROM_XML, VIR_ERR_INTERNAL_ERROR,
				"schema '%s' has no <start>", s->path);
		return -1;
	}
	return 0;
}

/* --- loading ------------------------------------------------------------------------- */

char *domus_schema_default_path(void)
{
	const char *dir = g_getenv("DOMUS_SCHEMA_DIR");

	return g_build_filename(dir && *dir ? dir : DOMUS_SCHEMADIR, "domain.rng", NULL);
}

static void rng_parse_error(void *data, xmlErrorPtr e)
{
	GString *msgs = data;

	if (msgs->len < 4096)
		g_string_append_printf(msgs, "%s%s:%d: %s", msgs->len ? "; " : "",
				       e->file ? e->file : "", e->line,
				       e->message ? g_strchomp(e->message) : "?");
}

struct domus_schema *domus_schema_load(const char *path, struct domus_error **err)
{
	g_autoptr(domus_schema) s = g_new0(struct domus_schema, 1);
	g_autoptr(GString) msgs = g_string_new(NULL);
	xmlRelaxNGParserCtxtPtr pctxt;

	xmlInitParser();		/* libxml2's globals, before any thread uses it */
	xmlSchemaInitTypes();		/* for diagnose(): datatypes of <data> */
	g_mutex_init(&s->lock);
	s->path = g_strdup(path);
	s->elems = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, elem_info_free);
	pctxt = xmlRelaxNGNewParserCtxt(path);
	if (!pctxt) {
		domus_error_set(err, VIR_FROM_XML, VIR_ERR_NO_MEMORY, "out of memory");
		return NULL;
	}
	xmlRelaxNGSetParserStructuredErrors(pctxt, rng_parse_error, msgs);
	s->rng = xmlRelaxNGParse(pctxt);
	xmlRelaxNGFreeParserCtxt(pctxt);
	if (!s->rng) {
		domus_error_set(err, VIR_FROM_XML, VIR_ERR_INTERNAL_ERROR,
				"cannot load the domain schema '%s': %s", path,
				msgs->len ? msgs->str : "not a RelaxNG grammar");
		return NULL;
	}
	if (build_table(s, err) < 0)
		return NULL;
	return g_steal_pointer(&s);
}

void domus_schema_free(struct domus_schema *s)
{
	if (!s)
		return;
	if (s->rng)
		xmlRelaxNGFree(s->rng);
	if (s->elems)
		g_hash_table_unref(s->elems);
	g_mutex_clear(&s->lock);
	g_free(s->path);
	g_free(s);
}

/* --- validating ---------------------------------------------------------------------- */

/* libxml2's errors during validation: keep the one about the deepest node. */
struct rng_errors {
	xmlNode *node;
	int depth;
	int line;
	char *message;
};

static int node_depth(xmlNode *n)
{
	int d = 0;

	for (; n && n->type == XML_ELEMENT_NODE; n = n->parent)
		d++;
	return d;
}

static void rng_valid_error(void *data, xmlErrorPtr e)
{
	struct rng_errors *r = data;
	xmlNode *node = e->node;
	int depth;

	if (node && node->type != XML_ELEMENT_NODE)
		node = node->parent;
	depth = node_depth(node);
	if (r->message && depth <= r->depth)
		return;
	g_free(r->message);
	r->message = g_strchomp(g_strdup(e->message ? e->message : "invalid"));
	r->node = node;
	r->depth = depth;
	r->line = node ? (int)xmlGetLineNo(node) : e->line;
}

/* "<name>" or "<prefix:name>" */
static char *display_name(xmlNode *n)
{
	if (n->ns && n->ns->prefix)
		return g_strdup_printf("%s:%s", n->ns->prefix, n->name);
	return g_strdup((const char *)n->name);
}

static char *set_to_list(GHashTable *set)
{
	g_autofree const char **keys = (const char **)g_hash_table_get_keys_as_array(set, NULL);
	GString *s = g_string_new(NULL);

	/* sorted, so that messages do not depend on hash order */
	for (guint n = g_strv_length((char **)keys); n > 1; n--)
		for (guint i = 0; i + 1 < n; i++)
			if (strcmp(keys[i], keys[i + 1]) > 0) {
				const char *t = keys[i];

				keys[i] = keys[i + 1];
				keys[i + 1] = t;
			}
	for (guint i = 0; keys[i]; i++)
		g_string_append_printf(s, "%s'%s'", i ? ", " : "", keys[i]);
	return g_string_free(s, FALSE);
}

static char *own_text(xmlNode *n)
{
	GString *s = g_string_new(NULL);

	for (xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
			g_string_append(s, (const char *)c->content);
	return g_strstrip(g_string_free(s, FALSE));
}

static bool data_allows(const struct data_rule *d, const char *v)
{
	bool is_unsigned = g_str_has_prefix(d->type, "unsigned") ||
			   !strcmp(d->type, "positiveInteger");
	xmlSchemaTypePtr type;

	if (strcmp(d->type, "string")) {
		type = xmlSchemaGetPredefinedType((const xmlChar *)d->type,
						  (const xmlChar *)XSD_NS);
		if (!type || xmlSchemaValPredefTypeNode(type, (const xmlChar *)v, NULL, NULL))
			return false;
	}
	if (d->re && xmlRegexpExec(d->re, (const xmlChar *)v) != 1)
		return false;
	if (is_unsigned) {
		guint64 x = g_ascii_strtoull(v, NULL, 10);

		return (!d->min || x >= g_ascii_strtoull(d->min, NULL, 10)) &&
		       (!d->max || x <= g_ascii_strtoull(d->max, NULL, 10));
	}
	if (d->min || d->max) {
		gint64 x = g_ascii_strtoll(v, NULL, 10);

		return (!d->min || x >= g_ascii_strtoll(d->min, NULL, 10)) &&
		       (!d->max || x <= g_ascii_strtoll(d->max, NULL, 10));
	}
	return true;
}

/* A <value> is a token: compared with blanks collapsed, as RelaxNG compares it. */
static char *collapse(const char *v)
{
	g_auto(GStrv) words = g_strsplit_set(v, " \t\r\n", -1);
	GString *s = g_string_new(NULL);

	for (char **w = words; *w; w++)
		if (**w)
			g_string_append_printf(s, "%s%s", s->len ? " " : "", *w);
	return g_string_free(s, FALSE);
}

static bool rule_allows(const struct value_rule *r, const char *v)
{
	g_autofree char *token = collapse(v);

	if (r->any_text ||
	    (!g_hash_table_size(r->values) && !g_hash_table_size(r->exact) && !r->datas->len))
		return true;
	if (g_hash_table_contains(r->values, token) || g_hash_table_contains(r->exact, v))
		return true;
	for (guint i = 0; i < r->datas->len; i++)
		if (data_allows(r->datas->pdata[i], v))
			return true;
	return false;
}

/* "'a', 'b'" or "unsignedShort from 1, string matching 'vd[a-z]+'" */
static char *rule_describe(const struct value_rule *r)
{
	g_autofree char *values = set_to_list(r->values);
	g_autofree char *exact = set_to_list(r->exact);
	GString *s = g_string_new(values);

	if (*exact)
		g_string_append_printf(s, "%s%s", s->len ? ", " : "", exact);

	for (guint i = 0; i < r->datas->len; i++) {
		const struct data_rule *d = r->datas->pdata[i];

		g_string_append_printf(s, "%s%s", s->len ? ", " : "", d->type);
		if (d->pattern)
			g_string_append_printf(s, " matching '%s'", d->pattern);
		if (d->min)
			g_string_append_printf(s, " from %s", d->min);
		if (d->max)
			g_string_append_printf(s, " up to %s", d->max);
	}
	return g_string_free(s, FALSE);
}

/* A fixed-value choice that misses is something Domus does not support; a datatype that
 * misses is a wrong value. */
static void value_error(const struct value_rule *r, const char *value, const char *attr,
			const char *elem, long line, struct domus_error **err)
{
	g_autofree char *expected = rule_describe(r);
	g_autofree char *what = attr ? g_strdup_printf("attribute '%s' of <%s>", attr, elem)
				     : g_strdup_printf("<%s>", elem);

	if (!r->datas->len)
		domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_CONFIG_UNSUPPORTED,
				"unsupported value '%s' of %s at line %ld (supported: %s)", value,
				what, line, expected);
	else
		domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_XML_ERROR,
				"invalid value '%s' of %s at line %ld (expected: %s)", value, what,
				line, expected);
}

static int check_attrs(xmlNode *n, const char *name, struct elem_info *info,
		       struct domus_error **err)
{
	for (xmlAttr *a = n->properties; a; a = a->next) {
		struct value_rule *r = a->ns ? NULL : g_hash_table_lookup(info->attrs, a->name);
		g_autofree char *value = NULL;

		if (!r) {
			domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_CONFIG_UNSUPPORTED,
					"unsupported attribute '%s%s%s' of <%s> at line %ld",
					a->ns && a->ns->prefix ? (const char *)a->ns->prefix : "",
					a->ns && a->ns->prefix ? ":" : "", a->name, name,
					xmlGetLineNo(n));
			return -1;
		}
		value = (char *)xmlNodeGetContent((xmlNode *)a);
		if (rule_allows(r, value ? value : ""))
			continue;
		value_error(r, value ? value : "", (const char *)a->name, name, xmlGetLineNo(n),
			    err);
		return -1;
	}
	return 0;
}

static int check_text(xmlNode *n, const char *name, struct elem_info *info,
		      struct domus_error **err)
{
	g_autofree char *text = own_text(n);

	if (rule_allows(&info->text, text))
		return 0;
	value_error(&info->text, text, NULL, name, xmlGetLineNo(n), err);
	return -1;
}

/* Walks @n (an element at @path) against the table; sets *err at the first thing the
 * schema has no place for. */
static int diagnose(const struct domus_schema *s, xmlNode *n, const char *path,
		    struct domus_error **err)
{
	struct elem_info *info = g_hash_table_lookup(s->elems, path);
	g_autofree char *name = display_name(n);

	if (!info || info->any)
		return 0;
	if (check_attrs(n, name, info, err) < 0 || check_text(n, name, info, err) < 0)
		return -1;
	for (xmlNode *c = n->children; c; c = c->next) {
		g_autofree char *cname = NULL;
		g_autofree char *cpath = NULL;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		cname = display_name(c);
		if (c->ns || !g_hash_table_contains(info->children, c->name)) {
			domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_CONFIG_UNSUPPORTED,
					"unsupported element <%s> at line %ld", cname,
					xmlGetLineNo(c));
			return -1;
		}
		cpath = g_strdup_printf("%s/%s", path, c->name);
		if (diagnose(s, c, cpath, err) < 0)
			return -1;
	}
	return 0;
}

static int diagnose_doc(const struct domus_schema *s, xmlDoc *doc, struct domus_error **err)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	struct elem_info *top = g_hash_table_lookup(s->elems, "");
	g_autofree char *name = NULL;

	if (!root || !top)
		return 0;
	name = display_name(root);
	if (root->ns || !g_hash_table_contains(top->children, root->name)) {
		domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_XML_ERROR,
				"unexpected root element <%s> at line %ld, expecting <domain>",
				name, xmlGetLineNo(root));
		return -1;
	}
	return diagnose(s, root, (const char *)root->name, err);
}

int domus_schema_validate(const struct domus_schema *schema, xmlDoc *doc,
			  struct domus_error **err)
{
	struct domus_schema *s = (struct domus_schema *)schema;	/* for the lock only */
	struct rng_errors rerr = { 0 };
	xmlRelaxNGValidCtxtPtr vctxt;
	int rc;

	g_mutex_lock(&s->lock);
	vctxt = xmlRelaxNGNewValidCtxt(s->rng);
	if (!vctxt) {
		g_mutex_unlock(&s->lock);
		domus_error_set(err, VIR_FROM_XML, VIR_ERR_NO_MEMORY, "out of memory");
		return -1;
	}
	xmlRelaxNGSetValidStructuredErrors(vctxt, rng_valid_error, &rerr);
	rc = xmlRelaxNGValidateDoc(vctxt, doc);
	xmlRelaxNGFreeValidCtxt(vctxt);
	/* the compiled patterns of the table are shared too: diagnose under the lock */
	if (rc != 0 && diagnose_doc(s, doc, err) == 0) {
		g_autofree char *name = rerr.node ? display_name(rerr.node) : g_strdup("domain");

		domus_error_set(err, VIR_FROM_DOMAIN, VIR_ERR_XML_ERROR,
				"invalid <%s> at line %d: %s", name, rerr.line,
				rerr.message ? rerr.message : "does not match the schema");
	}
	g_mutex_unlock(&s->lock);
	g_free(rerr.message);
	return rc == 0 ? 0 : -1;
}
