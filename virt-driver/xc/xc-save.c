// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virsh save / restore / managedsave over libxc (docs/savestate.md, "virtdomusd's save
 * image"). A save image is the VMM's saved-state stream exactly as xc_domain_save() wrote
 * it, followed by virtdomusd's own part: the domain's live XML and a fixed-size trailer
 * that says how long both are. The trailer sits at the end, not in front, so that a
 * restore hands the very same file to the VMM (xc_build_config.restore_path), which reads
 * the stream from offset 0 and stops at its END record: no copy of guest memory.
 *
 * A save runs under the domain's job lock, like every libxc call on the domain; job info
 * and abort come from other clients meanwhile, so they open a second libxc handle of
 * their own (docs/libxc.md, "Save and migrate block").
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "xc-backend.h"

#define VIR_DOMAIN_SAVE_RUNNING 2u
#define VIR_DOMAIN_SAVE_PAUSED 4u
#define ST_STOPPED_SAVED 4	/* VIR_DOMAIN_EVENT_STOPPED_SAVED */
#define ST_STARTED_RESTORED 2	/* VIR_DOMAIN_EVENT_STARTED_RESTORED */
#define OFF_SAVED 5		/* VIR_DOMAIN_SHUTOFF_SAVED */

/* GLib 2.74 (Debian 12) has no g_autofd yet. */
static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define autofd __attribute__((cleanup(close_fd)))

static const char trailer_magic[16] = "DOMUS-VIRTSAVE1\n";

/* The trailer, little-endian on disk (x86-64 only, as the VMM). */
struct save_trailer {
	char magic[16];
	uint32_t version;		/* 1 */
	uint32_t flags;			/* VIR_DOMAIN_SAVE_RUNNING / _PAUSED as saved */
	uint64_t stream_len;		/* the VMM's stream, from offset 0 */
	uint64_t xml_len;		/* the XML right after it */
	uint8_t xml_sha256[32];
};
G_STATIC_ASSERT(sizeof(struct save_trailer) == 72);

static void sha256(const char *data, size_t len, uint8_t out[32])
{
	g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_SHA256);
	gsize n = 32;

	g_checksum_update(c, (const guchar *)data, len);
	g_checksum_get_digest(c, out, &n);
}

static int bad_image(struct verr *err, const char *path, const char *why)
{
	return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
			"%s is not a Domus domain save image: %s", path, why);
}

/* libvirt clients send absolute paths: a relative one would name a file in our cwd. */
static int need_absolute(const char *path, struct verr *err)
{
	if (g_path_is_absolute(path))
		return 0;
	return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
			"the save image path '%s' is not absolute", path);
}

/* Read and check the image's trailer and XML: the XML in @xml (g_malloc'ed). */
static int read_image(const char *path, struct save_trailer *t, char **xml, struct verr *err)
{
	/* O_NONBLOCK: a client-named FIFO must not hold a worker until someone writes to it. */
	autofd int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	g_autofree char *x = NULL;
	char head[8];
	uint8_t sum[32];
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return verr_set(err, VERR_SYSTEM_ERROR, VERR_FROM_DOMAIN,
				"cannot open the save image %s: %s", path, g_strerror(errno));
	if (!S_ISREG(st.st_mode))
		return bad_image(err, path, "not a regular file");
	if ((uint64_t)st.st_size < sizeof(*t) + sizeof(head) ||
	    pread(fd, t, sizeof(*t), st.st_size - sizeof(*t)) != sizeof(*t) ||
	    memcmp(t->magic, trailer_magic, sizeof(trailer_magic)))
		return bad_image(err, path, "no virtdomusd trailer at its end (a foreign or "
				 "truncated file)");
	if (t->version != 1)
		return bad_image(err, path, "trailer version unknown to this daemon");
	if (t->xml_len == 0 || t->xml_len > 16 * 1024 * 1024 || t->stream_len < sizeof(head) ||
	    t->stream_len > (uint64_t)st.st_size ||
	    t->stream_len + t->xml_len + sizeof(*t) != (uint64_t)st.st_size)
		return bad_image(err, path, "its lengths do not add up to the file's size "
				 "(truncated or corrupt)");
	if (pread(fd, head, sizeof(head), 0) != sizeof(head) || memcmp(head, "DOMUSSV\n", 8))
		return bad_image(err, path, "no saved-state stream at its start");
	x = g_malloc(t->xml_len + 1);
	if (pread(fd, x, t->xml_len, t->stream_len) != (ssize_t)t->xml_len)
		return bad_image(err, path, "cannot read its domain XML");
	x[t->xml_len] = '\0';
	sha256(x, t->xml_len, sum);
	if (memcmp(sum, t->xml_sha256, sizeof(sum)))
		return bad_image(err, path, "its domain XML fails its checksum (corrupt)");
	/* The parser would stop at a NUL: what it checks must be all the image holds. */
	if (strlen(x) != t->xml_len)
		return bad_image(err, path, "its domain XML contains a NUL byte");
	*xml = g_steal_pointer(&x);
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

/* Append the XML and the trailer after the stream that ends at @stream_len. */
static int append_trailer(int fd, uint64_t stream_len, const char *xml, uint32_t flags)
{
	struct save_trailer t = { .version = 1, .flags = flags, .stream_len = stream_len };
	int r;

	memcpy(t.magic, trailer_magic, sizeof(t.magic));
	t.xml_len = strlen(xml);
	sha256(xml, t.xml_len, t.xml_sha256);
	/* A pipe or socket is already at the stream's end. */
	if (lseek(fd, stream_len, SEEK_SET) < 0 && errno != ESPIPE)
		return -errno;
	if ((r = write_all(fd, xml, t.xml_len)) < 0 || (r = write_all(fd, &t, sizeof(t))) < 0)
		return r;
	return fsync(fd) < 0 && errno != EINVAL ? -errno : 0;
}

static char *managed_path(struct xc_backend *xb, const char *name)
{
	g_autofree char *file = g_strconcat(name, ".save", NULL);

	return g_build_filename(domus_domain_store_dir(xb->store), "save", file, NULL);
}

bool xb_has_managed_save(struct xc_backend *xb, const char *name)
{
	g_autofree char *p = managed_path(xb, name);

	return g_file_test(p, G_FILE_TEST_IS_REGULAR);
}

static void set_managed(struct xc_backend *xb, struct xdom *xd, bool on)
{
	g_mutex_lock(&xb->lock);
	xd->managed_save = on;
	g_mutex_unlock(&xb->lock);
}

/* The domain's VMM still runs its guest (after a failed save: aborted, not destroyed). */
static bool vmm_lives(struct xdom *xd)
{
	xc_dominfo di;
	bool lives;

	xc_dominfo_init(&di);
	lives = !xc_domain_getinfo(xd->xch, xd->ctl, &di) &&
		(di.state == XC_DOMSTATE_RUNNING || di.state == XC_DOMSTATE_BLOCKED ||
		 di.state == XC_DOMSTATE_PAUSED);
	xc_dominfo_dispose(&di);
	return lives;
}

/* Save @xd into @path and stop it (under job). */
static int save_locked(struct xc_backend *xb, struct xdom *xd, const char *path,
		       unsigned int flags, struct verr *err)
{
	g_autofree char *xml = NULL;
	gint64 t0 = g_get_monotonic_time();
	xc_save_result res;
	autofd int fd = -1;
	uint64_t mem;
	bool paused;
	int r;

	if (xb_need_active(xd, err) < 0)
		return -1;
	g_mutex_lock(&xb->lock);
	xml = domus_domain_def_format(xd->live, 0);
	paused = xd->state == DOMAIN_PAUSED;
	mem = xd->live->memory_kib * 1024;
	g_mutex_unlock(&xb->lock);
	if (!(flags & (VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED)))
		flags |= paused ? VIR_DOMAIN_SAVE_PAUSED : VIR_DOMAIN_SAVE_RUNNING;
	/* Not a plain O_TRUNC: a domain restored lazily from this very file may still read it. */
	fd = xc_save_file_open(xd->xch, path, 0600);
	if (fd < 0)
		return verr_set(err, VERR_SYSTEM_ERROR, VERR_FROM_DOMAIN,
				"cannot create the save image: %s", xc_last_error(xd->xch));
	r = xc_domain_save(xd->xch, xd->ctl, fd, XC_SAVE_STOP, &res);
	if (r < 0) {
		struct stat st;

		/* A partial image goes; a FIFO or a device the user named stays. */
		if (!fstat(fd, &st) && S_ISREG(st.st_mode))
			g_unlink(path);
		/* Cancelled by domjobabort (the guest runs on) or by a destroy (it is gone). */
		if (r == -ECANCELED)
			verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
				 "operation aborted: the save of domain '%s' was cancelled%s",
				 xd->name, vmm_lives(xd) ? "; it runs on" :
				 " and the domain destroyed");
		else
			verr_from_xc(err, xd->xch, r, "cannot save the domain");
		xb_job_failed(xb, xd, DOMAIN_JOB_OP_SAVE, t0, r == -ECANCELED, err->message);
		return -1;
	}
	xb_job_done(xb, xd, &(struct domain_job_info){
		.type = DOMAIN_JOB_COMPLETED, .operation = DOMAIN_JOB_OP_SAVE,
		.elapsed_ms = (g_get_monotonic_time() - t0) / 1000,
		.data_total = res.bytes, .data_processed = res.bytes,
		.mem_total = mem, .mem_processed = res.pages * 4096,
		.has_downtime = true, .downtime_ms = res.paused_ns / 1000000,
	});
	r = append_trailer(fd, res.bytes, xml, flags);
	xb_stopped(xb, xd, DOMAIN_SHUTOFF, OFF_SAVED, false);
	xb_emit(xb, xd, EV_STOPPED, ST_STOPPED_SAVED);
	xb_forget_transient(xb, xd);
	if (r < 0)
		return verr_set(err, VERR_SYSTEM_ERROR, VERR_FROM_DOMAIN,
				"domain '%s' was saved to %s but its virtdomusd trailer could not "
				"be written (%s): 'domus-xc restore' can still continue it",
				xd->name, path, g_strerror(-r));
	g_message("domain %s saved to %s: %" G_GUINT64_FORMAT " bytes, paused %" G_GUINT64_FORMAT
		  " ms", xd->name, path, res.bytes, res.paused_ns / 1000000);
	return 0;
}

static int do_save(struct xc_backend *xb, const uint8_t *uuid, const char *path,
		   unsigned int flags, bool managed, struct verr *err)
{
	const unsigned int ok = VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED;
	g_autoptr(xdom) xd = NULL;
	g_autofree char *mpath = NULL;
	int r;

	if (flags & ~ok)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function %s", flags & ~ok,
				managed ? "virDomainManagedSave" : "virDomainSaveFlags");
	if ((flags & ok) == ok)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"running and paused flags are mutually exclusive");
	if (!(xd = xb_find(xb, uuid, err)))
		return -1;
	if (managed) {
		if (!xd->persistent)
			return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
					"cannot do managed save for transient domain");
		mpath = managed_path(xb, xd->name);
		g_autofree char *dir = g_path_get_dirname(mpath);
		if (g_mkdir_with_parents(dir, 0700) < 0)
			return verr_set(err, VERR_SYSTEM_ERROR, VERR_FROM_DOMAIN,
					"cannot create %s: %s", dir, g_strerror(errno));
		path = mpath;
	}
	g_mutex_lock(&xd->job);
	r = save_locked(xb, xd, path, flags, err);
	if (r == 0 && managed)
		set_managed(xb, xd, true);
	g_mutex_unlock(&xd->job);
	return r;
}

static int xb_save(struct domain_backend *b, const uint8_t *uuid, const char *path,
		   unsigned int flags, struct verr *err)
{
	if (need_absolute(path, err) < 0)
		return -1;
	return do_save(xb_of(b), uuid, path, flags, false, err);
}

static int xb_managed_save(struct domain_backend *b, const uint8_t *uuid, unsigned int flags,
			   struct verr *err)
{
	return do_save(xb_of(b), uuid, NULL, flags, true, err);
}

/*
 * Start @xd from the image @path holding @def (under job): the same path as a boot, with
 * restore_path set, so pinning, taps and the watcher are the same.
 */
static int restore_locked(struct xc_backend *xb, struct xdom *xd, const char *path,
			  const struct save_trailer *t, const struct domus_domain_def *def,
			  bool paused, struct verr *err)
{
	gint64 t0 = g_get_monotonic_time();
	int r;

	if (xd->id > 0)
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
				"domain '%s' is already running", xd->name);
	xd->restore_path = path;
	r = xb_start_and_watch(xb, xd, def, paused, err);
	xd->restore_path = NULL;
	if (r < 0) {
		xb_job_failed(xb, xd, DOMAIN_JOB_OP_RESTORE, t0, false, err->message);
		return r;
	}
	/* Until the guest may run: with a lazy restore memory still comes in afterwards. */
	xb_job_done(xb, xd, &(struct domain_job_info){
		.type = DOMAIN_JOB_COMPLETED, .operation = DOMAIN_JOB_OP_RESTORE,
		.elapsed_ms = (g_get_monotonic_time() - t0) / 1000,
		.data_total = t->stream_len, .data_processed = t->stream_len,
		.mem_total = def->memory_kib * 1024,
	});
	return 0;
}

/* The domain of a restored image: the one with its UUID, or a new transient one. */
struct xdom *xb_restore_target(struct xc_backend *xb, const struct domus_domain_def *def,
			       bool *added, struct verr *err)
{
	struct xdom *xd = NULL;
	char s[DOMAIN_UUID_STRLEN];

	*added = false;
	g_mutex_lock(&xb->lock);
	for (guint i = 0; i < xb->doms->len; i++) {
		struct xdom *o = xb->doms->pdata[i];

		if (!memcmp(o->uuid, def->uuid, 16) && !strcmp(o->name, def->name))
			xd = xdom_ref(o);
		else if (!memcmp(o->uuid, def->uuid, 16) || !strcmp(o->name, def->name)) {
			domain_uuid_format(o->uuid, s);
			verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
				 "domain '%s' is already defined with uuid %s", o->name, s);
			g_mutex_unlock(&xb->lock);
			return NULL;
		}
	}
	if (!xd) {
		xd = xdom_ref(xb_add(xb, def->name, def->uuid, false));
		*added = true;
	}
	g_mutex_unlock(&xb->lock);
	return xd;
}

static int xb_restore(struct domain_backend *b, const char *path, unsigned int flags,
		      struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	const unsigned int ok = VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED;
	g_autoptr(domus_domain_def) def = NULL;
	g_autoptr(xdom) xd = NULL;
	g_autofree char *xml = NULL;
	struct save_trailer t;
	bool added, paused;
	int r;

	if (flags & ~ok)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function virDomainRestoreFlags",
				flags & ~ok);
	if (need_absolute(path, err) < 0 || read_image(path, &t, &xml, err) < 0 ||
	    !(def = xb_parse(xb, xml, 0, err)) ||
	    !(xd = xb_restore_target(xb, def, &added, err)))
		return -1;
	paused = flags & VIR_DOMAIN_SAVE_PAUSED ||
		 (!(flags & VIR_DOMAIN_SAVE_RUNNING) && t.flags & VIR_DOMAIN_SAVE_PAUSED);
	g_mutex_lock(&xd->job);
	r = restore_locked(xb, xd, path, &t, def, paused, err);
	g_mutex_unlock(&xd->job);
	if (r < 0 && added) {
		g_mutex_lock(&xb->lock);
		if (xd->id < 0 && !xd->removed)
			xb_remove(xb, xd);
		g_mutex_unlock(&xb->lock);
	}
	return r;
}

/* The create op's hook: resume from the managed save image instead of booting (under job). */
int xb_start_managed(struct xc_backend *xb, struct xdom *xd, const struct domus_domain_def *def,
		     bool paused, struct verr *err)
{
	g_autofree char *path = managed_path(xb, xd->name);
	g_autofree char *xml = NULL;
	g_autoptr(domus_domain_def) saved = NULL;
	struct save_trailer t;
	int r;

	if (read_image(path, &t, &xml, err) < 0 || !(saved = xb_parse(xb, xml, 0, err)))
		return -1;
	if (memcmp(saved->uuid, def->uuid, 16))
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
				"the managed save image %s belongs to another domain", path);
	r = restore_locked(xb, xd, path, &t, saved, paused || t.flags & VIR_DOMAIN_SAVE_PAUSED,
			   err);
	if (r == 0) {
		g_unlink(path);	/* libvirt's rule: the image is consumed by the start */
		set_managed(xb, xd, false);
	}
	return r;
}

static int remove_managed(struct xc_backend *xb, struct xdom *xd, struct verr *err)
{
	g_autofree char *path = managed_path(xb, xd->name);

	if (g_unlink(path) < 0 && errno != ENOENT)
		return verr_set(err, VERR_SYSTEM_ERROR, VERR_FROM_DOMAIN,
				"cannot remove the managed save image %s: %s", path,
				g_strerror(errno));
	set_managed(xb, xd, false);
	return 0;
}

static int xb_managed_save_remove(struct domain_backend *b, const uint8_t *uuid,
				  unsigned int flags, struct verr *err)
{
	struct xc_backend *xb = xb_of(b);
	g_autoptr(xdom) xd = NULL;

	if (flags)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function virDomainManagedSaveRemove",
				flags);
	if (!(xd = xb_find(xb, uuid, err)))
		return -1;
	return remove_managed(xb, xd, err);
}

int xb_discard_managed(struct xc_backend *xb, struct xdom *xd, struct verr *err)
{
	return xb_has_managed_save(xb, xd->name) ? remove_managed(xb, xd, err) : 0;
}

int xb_undefine_managed_save(struct xc_backend *xb, struct xdom *xd, unsigned int flags,
			     struct verr *err)
{
	if (!xb_has_managed_save(xb, xd->name))
		return 0;
	if (!(flags & 1u))	/* VIR_DOMAIN_UNDEFINE_MANAGED_SAVE */
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
				"Refusing to undefine while domain managed save image exists");
	return remove_managed(xb, xd, err);
}

static int xb_save_image_xml(struct domain_backend *b, const char *path, unsigned int flags,
			     char **xml, struct verr *err)
{
	struct save_trailer t;

	if (flags & ~1u)	/* VIR_DOMAIN_SAVE_IMAGE_XML_SECURE: nothing secret in ours */
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_DOMAIN,
				"unsupported flags (0x%x) in function "
				"virDomainSaveImageGetXMLDesc", flags & ~1u);
	if (need_absolute(path, err) < 0)
		return -1;
	return read_image(path, &t, xml, err);
}

int xb_open_second(struct xc_backend *xb, struct xdom *xd, xc_interface **xch, xc_domain **dom,
		   struct verr *err)
{
	int id, r;

	g_mutex_lock(&xb->lock);
	id = xd->id;
	g_mutex_unlock(&xb->lock);
	if (id < 0)
		return verr_set(err, VERR_OPERATION_INVALID, VERR_FROM_DOMAIN,
				"domain is not running");
	if ((r = xc_interface_open(0, xch)) < 0)
		return verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_DOMAIN, "libxc: %s",
				g_strerror(-r));
	xc_interface_set_timeout(*xch, 5000);
	if ((r = xc_domain_open(*xch, id, dom)) < 0) {
		verr_from_xc(err, *xch, r, "cannot reach the domain");
		xc_interface_close(*xch);
		return -1;
	}
	return 0;
}

void xb_save_ops(struct domain_backend_ops *ops)
{
	ops->save = xb_save;
	ops->restore = xb_restore;
	ops->managed_save = xb_managed_save;
	ops->managed_save_remove = xb_managed_save_remove;
	ops->save_image_xml = xb_save_image_xml;
}
