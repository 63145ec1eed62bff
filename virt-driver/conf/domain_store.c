// SPDX-License-Identifier: GPL-2.0-or-later
/* Persistent domain definitions, written atomically (see domain_store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "domain_store.h"

struct domus_domain_store {
	char *dir;
	char *autostart_dir;
};

#define STORE_ERRNO(err, errnum, ...) domus_error_set_errno(err, VIR_FROM_CONF, errnum, __VA_ARGS__)

char *domus_domain_store_path(const struct domus_domain_store *st, const char *name)
{
	g_autofree char *file = g_strconcat(name, ".xml", NULL);

	return g_build_filename(st->dir, file, NULL);
}

static char *autostart_path(const struct domus_domain_store *st, const char *name)
{
	g_autofree char *file = g_strconcat(name, ".xml", NULL);

	return g_build_filename(st->autostart_dir, file, NULL);
}

/* Our temporary files: ".<name>.xml.XXXXXX" (hidden, so never loaded as definitions). */
static bool is_temp_file(const char *file)
{
	const char *x = strstr(file, ".xml.");

	return file[0] == '.' && x && strlen(x) == strlen(".xml.XXXXXX");
}

static int fsync_dir(const char *dir, struct domus_error **err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || fsync(fd) < 0) {
		STORE_ERRNO(err, errno, "cannot sync directory '%s'", dir);
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes @data as @path: temporary file, fsync, rename, fsync of the directory. */
int domus_file_write_atomic(const char *path, const char *data, struct domus_error **err)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
	int fd, r;

	fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		STORE_ERRNO(err, errno, "cannot create a temporary file in '%s'", dir);
		return -1;
	}
	r = write_all(fd, data, strlen(data));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		STORE_ERRNO(err, -r, "cannot write '%s'", path);
		return -1;
	}
	return fsync_dir(dir, err);
}

static void remove_temp_files(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *file;

	while (d && (file = g_dir_read_name(d))) {
		if (is_temp_file(file)) {
			g_autofree char *p = g_build_filename(dir, file, NULL);

			g_unlink(p);
		}
	}
}

struct domus_domain_store *domus_domain_store_open(const char *dir, struct domus_error **err)
{
	g_autoptr(domus_domain_store) st = g_new0(struct domus_domain_store, 1);

	st->dir = g_strdup(dir);
	st->autostart_dir = g_build_filename(dir, "autostart", NULL);
	if (g_mkdir_with_parents(st->autostart_dir, 0700) < 0) {
		STORE_ERRNO(err, errno, "cannot create '%s'", st->autostart_dir);
		return NULL;
	}
	remove_temp_files(st->dir);
	remove_temp_files(st->autostart_dir);
	return g_steal_pointer(&st);
}

void domus_domain_store_free(struct domus_domain_store *st)
{
	if (!st)
		return;
	g_free(st->dir);
	g_free(st->autostart_dir);
	g_free(st);
}

char *domus_domain_store_default_dir(bool system)
{
	if (system)
		return g_strdup("/var/lib/domus");
	return g_build_filename(g_get_user_config_dir(), "domus", NULL);
}

const char *domus_domain_store_dir(const struct domus_domain_store *st)
{
	return st->dir;
}

/* --- loading ------------------------------------------------------------------------------ */

static void add_error(GPtrArray *errors, const char *path, int code, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);
static void add_error(GPtrArray *errors, const char *path, int code, const char *fmt, ...)
{
	struct domus_error *e = NULL;
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	domus_error_set(&e, VIR_FROM_CONF, code, "'%s': %s", path, msg);
	g_ptr_array_add(errors, e);
}

static void def_free(gpointer def)
{
	domus_domain_def_free(def);
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The "<name>.xml" files of @dir, sorted (so that "first file wins" is reproducible). */
static GPtrArray *list_xml_files(const char *dir, struct domus_error **err)
{
	g_autoptr(GError) gerr = NULL;
	g_autoptr(GDir) d = g_dir_open(dir, 0, &gerr);
	GPtrArray *files;
	const char *file;

	if (!d) {
		domus_error_set(err, VIR_FROM_CONF, VIR_ERR_SYSTEM_ERROR, "%s", gerr->message);
		return NULL;
	}
	files = g_ptr_array_new_with_free_func(g_free);
	while ((file = g_dir_read_name(d)))
		if (file[0] != '.' && g_str_has_suffix(file, ".xml") && strlen(file) > 4)
			g_ptr_array_add(files, g_strdup(file));
	g_ptr_array_sort(files, cmp_str);
	return files;
}

static struct domus_domain_def *load_one(const char *path, const char *file,
					 const struct domus_schema *schema, GPtrArray *defs,
					 GHashTable *uuids, GPtrArray *errors)
{
	g_autofree char *name = g_strndup(file, strlen(file) - 4);
	g_autoptr(domus_domain_def) def = NULL;
	struct domus_error *e = NULL;
	const char *other;
	struct stat sb;
	char uuid[37];

	if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		add_error(errors, path, VIR_ERR_CONFIG_UNSUPPORTED, "not a regular file");
		return NULL;
	}
	def = domus_domain_def_parse_file(schema, path, 0, &e);
	if (!def) {
		g_ptr_array_add(errors, e);	/* its message starts with the path */
		return NULL;
	}
	if (strcmp(def->name, name)) {
		add_error(errors, path, VIR_ERR_XML_ERROR,
			  "defines domain '%s' but the file name says '%s'", def->name, name);
		return NULL;
	}
	domus_uuid_format(def->uuid, uuid);
	other = g_hash_table_lookup(uuids, uuid);
	if (other) {
		add_error(errors, path, VIR_ERR_XML_ERROR,
			  "UUID %s is already used by '%s'; not loaded", uuid, other);
		return NULL;
	}
	g_hash_table_insert(uuids, g_strdup(uuid), g_strdup(path));
	return g_steal_pointer(&def);
}

static void check_autostart_links(struct domus_domain_store *st, GPtrArray *errors)
{
	g_autoptr(GPtrArray) links = list_xml_files(st->autostart_dir, NULL);

	for (guint i = 0; links && i < links->len; i++) {
		g_autofree char *name = g_strndup(links->pdata[i], strlen(links->pdata[i]) - 4);
		g_autofree char *target = domus_domain_store_path(st, name);
		g_autofree char *link = autostart_path(st, name);

		if (!g_file_test(target, G_FILE_TEST_IS_REGULAR))
			add_error(errors, link, VIR_ERR_NO_DOMAIN,
				  "autostart link for domain '%s', which is not defined", name);
	}
}

int domus_domain_store_load_all(struct domus_domain_store *st,
				const struct domus_schema *schema, GPtrArray **ret_defs,
				GPtrArray **ret_errors, struct domus_error **err)
{
	g_autoptr(GPtrArray) files = list_xml_files(st->dir, err);
	g_autoptr(GHashTable) uuids = NULL;
	GPtrArray *defs, *errors;

	if (!files)
		return -1;
	uuids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	defs = g_ptr_array_new_with_free_func(def_free);
	errors = g_ptr_array_new_with_free_func((GDestroyNotify)domus_error_free);
	for (guint i = 0; i < files->len; i++) {
		const char *file = files->pdata[i];
		g_autofree char *path = g_build_filename(st->dir, file, NULL);
		struct domus_domain_def *def = load_one(path, file, schema, defs, uuids, errors);

		if (def)
			g_ptr_array_add(defs, def);
	}
	check_autostart_links(st, errors);
	*ret_defs = defs;
	*ret_errors = errors;
	return 0;
}

/* --- writing ------------------------------------------------------------------------------ */

int domus_domain_store_save(struct domus_domain_store *st, const struct domus_domain_def *def,
			    struct domus_error **err)
{
	g_autofree char *path = NULL;
	g_autofree char *xml = NULL;

	if (domus_domain_name_check(def->name, true, err) < 0)
		return -1;
	path = domus_domain_store_path(st, def->name);
	xml = domus_domain_def_format(def, DOMUS_DEF_FORMAT_INACTIVE);
	return domus_file_write_atomic(path, xml, err);
}

static int unlink_durable(const char *path, bool missing_ok, struct domus_error **err)
{
	g_autofree char *dir = g_path_get_dirname(path);

	if (unlink(path) < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		STORE_ERRNO(err, errno, "cannot remove '%s'", path);
		return -1;
	}
	return fsync_dir(dir, err);
}

/* The definition's and the autostart link's paths of @name, after checking the name. */
static int name_paths(const struct domus_domain_store *st, const char *name, char **ret_path,
		      char **ret_link, struct domus_error **err)
{
	if (domus_domain_name_check(name, true, err) < 0)
		return -1;
	*ret_path = domus_domain_store_path(st, name);
	*ret_link = autostart_path(st, name);
	return 0;
}

int domus_domain_store_delete(struct domus_domain_store *st, const char *name,
			      struct domus_error **err)
{
	g_autofree char *path = NULL;
	g_autofree char *link = NULL;

	if (name_paths(st, name, &path, &link, err) < 0)
		return -1;
	if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
		domus_error_set(err, VIR_FROM_CONF, VIR_ERR_NO_DOMAIN,
				"no stored definition for domain '%s'", name);
		return -1;
	}
	/* the link first: a crash in between must not leave an autostart without a domain */
	if (unlink_durable(link, true, err) < 0)
		return -1;
	return unlink_durable(path, false, err);
}

bool domus_domain_store_get_autostart(const struct domus_domain_store *st, const char *name)
{
	g_autofree char *link = autostart_path(st, name);
	struct stat sb;

	return domus_domain_name_check(name, true, NULL) == 0 && lstat(link, &sb) == 0;
}

static int create_link(struct domus_domain_store *st, const char *name, struct domus_error **err)
{
	g_autofree char *link = autostart_path(st, name);
	g_autofree char *target = g_strdup_printf("../%s.xml", name);
	g_autofree char *tmp = g_strdup_printf("%s/.%s.xml.%06x", st->autostart_dir, name,
					       g_random_int_range(0, 0xffffff));

	/* symlink under a temporary name, then rename: replacing is atomic too */
	if (symlink(target, tmp) < 0) {
		STORE_ERRNO(err, errno, "cannot create '%s'", tmp);
		return -1;
	}
	if (rename(tmp, link) < 0) {
		STORE_ERRNO(err, errno, "cannot create '%s'", link);
		unlink(tmp);
		return -1;
	}
	return fsync_dir(st->autostart_dir, err);
}

int domus_domain_store_set_autostart(struct domus_domain_store *st, const char *name,
				     bool autostart, struct domus_error **err)
{
	g_autofree char *path = NULL;
	g_autofree char *link = NULL;

	if (name_paths(st, name, &path, &link, err) < 0)
		return -1;
	if (!autostart)
		return unlink_durable(link, true, err);
	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
		domus_error_set(err, VIR_FROM_CONF, VIR_ERR_OPERATION_INVALID,
				"domain '%s' has no persistent definition to autostart", name);
		return -1;
	}
	return create_link(st, name, err);
}

int domus_domain_store_rename(struct domus_domain_store *st, const char *old_name,
			      const struct domus_domain_def *def, struct domus_error **err)
{
	g_autofree char *new_path = NULL;
	g_autofree char *old_path = NULL;
	bool autostart;

	if (domus_domain_name_check(old_name, true, err) < 0 ||
	    domus_domain_name_check(def->name, true, err) < 0)
		return -1;
	new_path = domus_domain_store_path(st, def->name);
	old_path = domus_domain_store_path(st, old_name);
	if (!g_file_test(old_path, G_FILE_TEST_EXISTS)) {
		domus_error_set(err, VIR_FROM_CONF, VIR_ERR_NO_DOMAIN,
				"no stored definition for domain '%s'", old_name);
		return -1;
	}
	if (g_file_test(new_path, G_FILE_TEST_EXISTS)) {
		domus_error_set(err, VIR_FROM_CONF, VIR_ERR_OPERATION_INVALID,
				"a definition named '%s' already exists", def->name);
		return -1;
	}
	autostart = domus_domain_store_get_autostart(st, old_name);
	if (domus_domain_store_save(st, def, err) < 0)
		return -1;
	if (autostart && (create_link(st, def->name, err) < 0 ||
			  domus_domain_store_set_autostart(st, old_name, false, err) < 0))
		return -1;
	return unlink_durable(old_path, false, err);
}
