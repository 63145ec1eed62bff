// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The runtime registry: one directory per domain, named by its domid, under /run/domus
 * (root), $XDG_RUNTIME_DIR/domus (anyone else) or $DOMUS_RUN_DIR. It is how a new process
 * finds the domains an earlier one created (docs/libxc.md has the layout).
 *
 *   <run dir>/lock            flock()ed while domids and names are handed out
 *   <run dir>/by-name/<name>  symlinks to "<domid>": the index that keeps create and
 *   <run dir>/by-uuid/<uuid>  lookup from reading every record (O(1), not O(domains))
 *   <run dir>/<domid>/domain  the record: key=value lines, replaced atomically
 *   <run dir>/<domid>/control the VMM's control socket (libxc made it, the VMM serves it)
 *   <run dir>/<domid>/exit    the exit record the VMM writes as it ends (--exit-fd)
 *   <run dir>/<domid>/vmm.log the VMM's stderr, unless the config sends it elsewhere
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xc_private.h"

static int make_run_dir(xc_interface *xch, const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return xc__error(xch, -errno, "cannot create the registry %s: %m", dir);
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return xc__error(xch, -ENOTDIR, "the registry %s is not a directory", dir);
	return 0;
}

int xc__run_dir(xc_interface *xch, const char **ret)
{
	const char *env = getenv("DOMUS_RUN_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	char *dir = NULL;
	int r;

	if (!xch->run_dir) {
		if (env && *env)
			dir = strdup(env);
		else if (geteuid() == 0)
			dir = strdup("/run/domus");
		else if (xdg && *xdg)
			r = asprintf(&dir, "%s/domus", xdg), dir = r < 0 ? NULL : dir;
		else
			return xc__error(xch, -ENOENT, "no registry for a non-root user without "
					 "XDG_RUNTIME_DIR (or DOMUS_RUN_DIR)");
		if (!dir)
			return xc__error(xch, -ENOMEM, "out of memory");
		r = make_run_dir(xch, dir);
		if (r) {
			free(dir);
			return r;
		}
		xch->run_dir = dir;
	}
	*ret = xch->run_dir;
	return 0;
}

int xc__domain_path(xc_interface *xch, uint32_t domid, const char *leaf, char *buf)
{
	const char *dir;
	int r = xc__run_dir(xch, &dir);

	if (r)
		return r;
	r = snprintf(buf, PATH_MAX, "%s/%" PRIu32 "%s%s", dir, domid, leaf ? "/" : "",
		     leaf ? leaf : "");
	return r >= PATH_MAX ? xc__error(xch, -ENAMETOOLONG, "registry path too long") : 0;
}

#define REGISTRY_LOCK_WAIT_MS 5000

int xc__registry_lock(xc_interface *xch)
{
	char path[PATH_MAX];
	const char *dir;
	int fd, r = xc__run_dir(xch, &dir);

	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return xc__error(xch, -errno, "cannot open %s: %m", path);
	/*
	 * Holders keep it for a few file operations. One that keeps it for seconds is stuck
	 * (a hung NFS run dir, a stopped process): say so rather than hang every caller.
	 */
	for (int waited_ms = 0, step = 1; flock(fd, LOCK_EX | LOCK_NB);
	     waited_ms += step, step = step < 8 ? step * 2 : 10) {
		r = errno == EWOULDBLOCK ? (waited_ms < REGISTRY_LOCK_WAIT_MS ? 0 : -ETIMEDOUT)
					 : -errno;
		if (r) {
			close(fd);
			return r == -ETIMEDOUT ?
			       xc__error(xch, r, "the registry lock %s is held by another "
					 "process for more than %d s", path,
					 REGISTRY_LOCK_WAIT_MS / 1000) :
			       xc__error(xch, r, "cannot lock %s: %s", path, strerror(-r));
		}
		usleep(step * 1000);
	}
	return fd;
}

static void parse_line(struct xc__record *rec, const char *key, const char *val)
{
	if (!strcmp(key, "name"))
		snprintf(rec->name, sizeof(rec->name), "%s", val);
	else if (!strcmp(key, "uuid"))
		xc_uuid_parse(val, rec->uuid);
	else if (!strcmp(key, "pid"))
		rec->pid = strtol(val, NULL, 10);
	else if (!strcmp(key, "pid_start"))
		rec->pid_start = strtoull(val, NULL, 10);
	else if (!strcmp(key, "creator"))
		rec->creator = strtol(val, NULL, 10);
	else if (!strcmp(key, "creator_start"))
		rec->creator_start = strtoull(val, NULL, 10);
	else if (!strcmp(key, "ram"))
		rec->ram_bytes = strtoull(val, NULL, 10);
	else if (!strcmp(key, "max_mem"))
		rec->max_mem_bytes = strtoull(val, NULL, 10);
	else if (!strcmp(key, "vcpus"))
		rec->nr_vcpus = strtoul(val, NULL, 10);
	else if (!strcmp(key, "weight"))
		rec->weight = strtoul(val, NULL, 10);
	else if (!strcmp(key, "cap"))
		rec->cap = strtoul(val, NULL, 10);
	else if (!strcmp(key, "cgroup"))
		snprintf(rec->cgroup, sizeof(rec->cgroup), "%s", val);
	/* Unknown keys come from newer versions: ignore them. */
}

int xc__record_read(xc_interface *xch, uint32_t domid, struct xc__record *rec)
{
	char path[PATH_MAX], line[512];
	FILE *f;
	int r = xc__domain_path(xch, domid, "domain", path);

	if (r)
		return r;
	*rec = (struct xc__record){ .domid = domid };
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (xc__read_line(f, line, sizeof(line))) {
		char *eq = strchr(line, '=');

		if (eq) {
			*eq = '\0';
			parse_line(rec, line, eq + 1);
		}
	}
	fclose(f);
	return rec->name[0] ? 0 : -ESRCH;
}

int xc__record_write(xc_interface *xch, const struct xc__record *rec)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], uuid[37];
	FILE *f;
	int r = xc__domain_path(xch, rec->domid, "domain", path);

	if (r)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "we");
	if (!f)
		return xc__error(xch, -errno, "cannot write %s: %m", tmp);
	xc_uuid_format(rec->uuid, uuid);
	fprintf(f, "domid=%" PRIu32 "\nname=%s\nuuid=%s\npid=%d\npid_start=%" PRIu64 "\n"
		"creator=%d\ncreator_start=%" PRIu64 "\nram=%" PRIu64 "\nmax_mem=%" PRIu64 "\n"
		"vcpus=%u\ncgroup=%s\nweight=%u\ncap=%u\n", rec->domid, rec->name, uuid,
		(int)rec->pid, rec->pid_start, (int)rec->creator, rec->creator_start,
		rec->ram_bytes, rec->max_mem_bytes, rec->nr_vcpus, rec->cgroup, rec->weight,
		rec->cap);
	/* The registry is on tmpfs: rename() is enough to replace it whole. */
	if (ferror(f) | fclose(f) || rename(tmp, path)) {
		r = errno ? -errno : -EIO;
		unlink(tmp);
		return xc__error(xch, r, "cannot write %s: %s", path, strerror(-r));
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int xc__registry_scan(xc_interface *xch, uint32_t **ret)
{
	const char *dir;
	uint32_t *ids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int r = xc__run_dir(xch, &dir);

	if (r)
		return r;
	d = opendir(dir);
	if (!d)
		return xc__error(xch, -errno, "cannot read the registry %s: %m", dir);
	while ((de = readdir(d))) {
		char *end;
		unsigned long id = strtoul(de->d_name, &end, 10);

		/* Only the form libxc writes: "01" or "+1" would list domain 1 twice. */
		if (de->d_name[0] < '1' || de->d_name[0] > '9' || *end || id > UINT32_MAX)
			continue;
		if (n == cap) {
			uint32_t *bigger = reallocarray(ids, cap = cap ? cap * 2 : 64, sizeof(*ids));

			if (!bigger) {
				free(ids);
				closedir(d);
				return xc__error(xch, -ENOMEM, "out of memory");
			}
			ids = bigger;
		}
		ids[n++] = id;
	}
	closedir(d);
	if (n)		/* qsort(NULL, 0, ...) is undefined */
		qsort(ids, n, sizeof(*ids), cmp_u32);
	*ret = ids;
	return (int)n;
}

/* <run dir>/by-KIND/KEY */
static int index_path(xc_interface *xch, const char *kind, const char *key, char *path)
{
	const char *dir;
	int r = xc__run_dir(xch, &dir);

	if (r)
		return r;
	snprintf(path, PATH_MAX, "%s/by-%s", dir, kind);
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	snprintf(path, PATH_MAX, "%s/by-%s/%s", dir, kind, key);
	return 0;
}

static void index_keys(const struct xc__record *rec, char uuid[37])
{
	xc_uuid_format(rec->uuid, uuid);
}

int xc__index_find(xc_interface *xch, bool by_uuid, const char *key, uint32_t *domid)
{
	char path[PATH_MAX], target[16], uuid[37];
	struct xc__record rec;
	unsigned long id;
	char *end;
	ssize_t n;

	if (index_path(xch, by_uuid ? "uuid" : "name", key, path))
		return -ENOENT;
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return -ENOENT;
	target[n] = '\0';
	id = strtoul(target, &end, 10);
	if (*end || !id || id > UINT32_MAX || xc__record_read(xch, id, &rec))
		return -ENOENT;
	index_keys(&rec, uuid);
	/* A link left by a domain that went without removing it names another one now. */
	if (strcmp(by_uuid ? uuid : rec.name, key))
		return -ENOENT;
	*domid = id;
	return 0;
}

int xc__index_add(xc_interface *xch, const struct xc__record *rec)
{
	char path[PATH_MAX], target[16], uuid[37];
	int r;

	index_keys(rec, uuid);
	snprintf(target, sizeof(target), "%" PRIu32, rec->domid);
	for (int by_uuid = 0; by_uuid < 2; by_uuid++) {
		r = index_path(xch, by_uuid ? "uuid" : "name", by_uuid ? uuid : rec->name, path);
		if (r)
			return xc__error(xch, r, "cannot index domain %" PRIu32 ": %s", rec->domid,
					 strerror(-r));
		unlink(path);	/* stale: the caller checked under the lock */
		if (symlink(target, path))
			return xc__error(xch, -errno, "cannot index domain %" PRIu32 ": %m",
					 rec->domid);
	}
	return 0;
}

static void index_remove(xc_interface *xch, const struct xc__record *rec)
{
	char path[PATH_MAX], target[16], want[16], uuid[37];
	ssize_t n;

	index_keys(rec, uuid);
	snprintf(want, sizeof(want), "%" PRIu32, rec->domid);
	for (int by_uuid = 0; by_uuid < 2; by_uuid++) {
		if (index_path(xch, by_uuid ? "uuid" : "name", by_uuid ? uuid : rec->name, path))
			continue;
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0 && (target[n] = '\0', !strcmp(target, want)))
			unlink(path);
	}
}

void xc__registry_remove(xc_interface *xch, uint32_t domid)
{
	struct xc__record rec;

	if (!xc__record_read(xch, domid, &rec))
		index_remove(xch, &rec);
	xc__registry_remove_files(xch, domid);
}

void xc__registry_remove_files(xc_interface *xch, uint32_t domid)
{
	static const char *const leaves[] = { "control", "console", "exit", "vmm.log",
					      "domain.new", "domain" };
	char path[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(leaves); i++)
		if (!xc__domain_path(xch, domid, leaves[i], path))
			unlink(path);
	if (!xc__domain_path(xch, domid, NULL, path))
		rmdir(path);
}

uint64_t xc__process_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold anything, so start after its last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	/* Field 22 is starttime; p + 2 is field 3. */
	if (sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
		   "%*s %*s %*s %llu", &start) != 1)
		return 0;
	return start;
}

bool xc__process_alive(pid_t pid, uint64_t start)
{
	return pid > 0 && start && xc__process_start(pid) == start;
}

int xc__exit_record_read(xc_interface *xch, uint32_t domid, int *status, int *reason,
			 char *msg, size_t msglen)
{
	char path[PATH_MAX], line[512];
	bool have = false;
	FILE *f;

	if (xc__domain_path(xch, domid, "exit", path))
		return -ENOENT;
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	if (reason)
		*reason = -1;	/* records of older VMMs have none */
	msg[0] = '\0';
	while (xc__read_line(f, line, sizeof(line))) {
		if (!strncmp(line, "status=", 7)) {
			*status = atoi(line + 7);
			have = true;
		} else if (!strncmp(line, "reason=", 7) && reason) {
			*reason = atoi(line + 7);
		} else if (!strncmp(line, "message=", 8)) {
			snprintf(msg, msglen, "%s", line + 8);
		}
	}
	fclose(f);
	return have ? 0 : -ENOENT;
}

bool xc__read_line(FILE *f, char *buf, size_t len)
{
	while (fgets(buf, len, f)) {
		size_t n = strlen(buf);
		int c;

		if (n && buf[n - 1] == '\n') {
			buf[n - 1] = '\0';
			return true;
		}
		if (n + 1 < len || feof(f))
			return true;	/* the last line, without a newline */
		while ((c = getc(f)) != EOF && c != '\n')
			;		/* too long: skip the rest, and the line */
	}
	return false;
}

void xc__exit_state(int status, unsigned int *state, unsigned int *reason)
{
	uint32_t st, re;

	domus_ctl_exit_state(status, &st, &re);
	*state = st;
	*reason = re;
}
