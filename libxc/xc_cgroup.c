// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The credit scheduler's weight and cap, with the domain's cpu cgroup: <cpu hierarchy>/domus/
 * <domid>-<uuid>. The whole VMM process is in it (it joins before exec), so the device threads
 * count against the domain too, as a domain's backends would under Xen's cap.
 *
 *   Xen          cgroup v2                     cgroup v1
 *   weight 256   cpu.weight 100 (w * 100/256)  cpu.shares 1024 (w * 4)
 *   cap 50       cpu.max "50000 100000"        cpu.cfs_quota_us 50000, period 100000
 *
 * v2 is used where a cgroup2 mount offers the cpu controller, else a v1 hierarchy with
 * cpu. Read back, v1 gives the Xen weight exactly; v2's coarser cpu.weight gives it to
 * within one, so the domain record keeps the values as set (xc_domain.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xc_private.h"

#define PERIOD_US 100000

enum cg_version { CG_NONE, CG_V1, CG_V2 };

/* Does the cgroup2 mount at @mnt offer the cpu controller? */
static bool v2_has_cpu(const char *mnt)
{
	char path[PATH_MAX], buf[512], *save;
	FILE *f;
	bool yes = false;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", mnt);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (xc__read_line(f, buf, sizeof(buf)))
		for (char *t = strtok_r(buf, " ", &save); t && !yes;
		     t = strtok_r(NULL, " ", &save))
			yes = !strcmp(t, "cpu");
	fclose(f);
	return yes;
}

static bool v1_is_cpu(const char *opts)
{
	char buf[1024], *save;

	snprintf(buf, sizeof(buf), "%s", opts);
	/* strtok_r: libxc runs in threaded daemons. */
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!strcmp(t, "cpu"))
			return true;
	return false;
}

/* mountinfo writes space, tab, newline and backslash in paths as \ooo (octal): undo it. */
static void unescape_octal(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* Find the cpu controller's mount point in /proc/self/mountinfo. */
static enum cg_version find_cpu_mount(char *mnt, size_t len)
{
	enum cg_version found = CG_NONE;
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return CG_NONE;
	while (found != CG_V2 && xc__read_line(f, line, sizeof(line))) {
		char point[1024], type[64], opts[1024];
		char *sep = strstr(line, " - ");

		/* id parent major:minor root mount-point ... - type source super-options */
		if (!sep || sscanf(line, "%*s %*s %*s %*s %1023s", point) != 1 ||
		    sscanf(sep + 3, "%63s %*s %1023s", type, opts) != 2)
			continue;
		unescape_octal(point);
		if (!strcmp(type, "cgroup2") && v2_has_cpu(point)) {
			snprintf(mnt, len, "%s", point);
			found = CG_V2;
		} else if (!strcmp(type, "cgroup") && found == CG_NONE && v1_is_cpu(opts)) {
			snprintf(mnt, len, "%s", point);
			found = CG_V1;
		}
	}
	fclose(f);
	return found;
}

static enum cg_version version_of(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/cgroup.controllers", path);
	return access(p, F_OK) == 0 ? CG_V2 : CG_V1;
}

static int write_file(const char *dir, const char *leaf, const char *val)
{
	char path[PATH_MAX];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, leaf);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int read_file(const char *dir, const char *leaf, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, leaf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

int xc__cgroup_create(xc_interface *xch, uint32_t domid, const uint8_t uuid[16], char *path,
		      size_t len)
{
	char id[37];
	char mnt[1024], parent[1100];
	enum cg_version v = find_cpu_mount(mnt, sizeof(mnt));
	int r;

	path[0] = '\0';
	if (v == CG_NONE)
		return -EOPNOTSUPP;
	snprintf(parent, sizeof(parent), "%s/domus", mnt);
	if (mkdir(parent, 0755) && errno != EEXIST)
		return xc__error(xch, -errno, "cannot create the cgroup %s: %m", parent);
	/* v2: the domains' cgroups get the cpu controller from their parent. */
	if (v == CG_V2) {
		write_file(mnt, "cgroup.subtree_control", "+cpu");
		r = write_file(parent, "cgroup.subtree_control", "+cpu");
		if (r)
			return xc__error(xch, r, "cannot enable the cpu controller in %s: %s",
					 parent, strerror(-r));
	}
	/* Registries of other users (or tests) hand out the same domids: the UUID tells. */
	xc_uuid_format(uuid, id);
	if ((size_t)snprintf(path, len, "%s/%" PRIu32 "-%s", parent, domid, id) >= len) {
		path[0] = '\0';	/* cut short, it would name another directory */
		return xc__error(xch, -ENAMETOOLONG, "the cgroup %s/%" PRIu32 "-%s: path too long",
				 parent, domid, id);
	}
	if (mkdir(path, 0755)) {
		r = -errno;
		path[0] = '\0';
		return xc__error(xch, r, "cannot create the cgroup %s/%u-%s: %s", parent, domid,
				 id, strerror(-r));
	}
	return 0;
}

/*
 * A killed VMM looks dead (its main thread is a zombie) while its other threads are still
 * exiting, and until they are out the cgroup is busy: give them up to a second.
 */
void xc__cgroup_remove(const char *path)
{
	const struct timespec tick = { .tv_nsec = 2000000 };
	struct timespec now, end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec++;
	while (path && path[0] && rmdir(path) && errno == EBUSY) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec &&
						 now.tv_nsec >= end.tv_nsec))
			break;
		nanosleep(&tick, NULL);
	}
}

static int check_credit(xc_interface *xch, const xc_sched_credit *sc)
{
	if (sc->weight < 1 || sc->weight > 65535)
		return xc__error(xch, -EINVAL, "weight %u: must be 1 to 65535", sc->weight);
	if (sc->cap > 100 * CPU_SETSIZE)
		return xc__error(xch, -EINVAL, "cap %u%%: more CPUs than a host can have", sc->cap);
	return 0;
}

int xc__cgroup_set_credit(xc_interface *xch, const char *path, const xc_sched_credit *sc)
{
	char weight[32], quota[64];
	int r = check_credit(xch, sc);

	if (r)
		return r;
	if (!path || !path[0])
		return xc__error(xch, -EOPNOTSUPP, "this host has no cpu cgroup controller: "
				 "weight and cap cannot be enforced");
	if (version_of(path) == CG_V2) {
		unsigned int w = (sc->weight * 100 + 128) / 256;

		snprintf(weight, sizeof(weight), "%u", w < 1 ? 1 : w > 10000 ? 10000 : w);
		if (sc->cap)
			snprintf(quota, sizeof(quota), "%u %u", sc->cap * (PERIOD_US / 100),
				 PERIOD_US);
		else
			snprintf(quota, sizeof(quota), "max %u", PERIOD_US);
		r = write_file(path, "cpu.weight", weight);
		if (!r)
			r = write_file(path, "cpu.max", quota);
	} else {
		snprintf(weight, sizeof(weight), "%u", sc->weight * 4);
		snprintf(quota, sizeof(quota), "%d", sc->cap ? (int)(sc->cap * (PERIOD_US / 100))
							     : -1);
		r = write_file(path, "cpu.shares", weight);
		if (!r)
			r = write_file(path, "cpu.cfs_period_us", "100000");
		if (!r)
			r = write_file(path, "cpu.cfs_quota_us", quota);
	}
	if (r)
		return xc__error(xch, r, "cannot set the scheduler parameters in %s: %s", path,
				 strerror(-r));
	return 0;
}

int xc__cgroup_get_credit(xc_interface *xch, const char *path, xc_sched_credit *sc)
{
	char w[64], q[64];
	long long quota, period = PERIOD_US;
	int r;

	if (!path || !path[0])
		return xc__error(xch, -EOPNOTSUPP, "this host has no cpu cgroup controller");
	if (version_of(path) == CG_V2) {
		r = read_file(path, "cpu.weight", w, sizeof(w));
		if (!r)
			r = read_file(path, "cpu.max", q, sizeof(q));
		if (!r) {
			sc->weight = (strtoul(w, NULL, 10) * 256 + 50) / 100;
			quota = strncmp(q, "max", 3) ? strtoll(q, NULL, 10) : -1;
			if (strchr(q, ' '))
				period = strtoll(strchr(q, ' ') + 1, NULL, 10);
		}
	} else {
		r = read_file(path, "cpu.shares", w, sizeof(w));
		if (!r)
			r = read_file(path, "cpu.cfs_quota_us", q, sizeof(q));
		if (!r) {
			sc->weight = strtoul(w, NULL, 10) / 4;
			quota = strtoll(q, NULL, 10);
			if (!read_file(path, "cpu.cfs_period_us", w, sizeof(w)))
				period = strtoll(w, NULL, 10);
		}
	}
	if (r)
		return xc__error(xch, r, "cannot read the scheduler parameters in %s: %s", path,
				 strerror(-r));
	if (sc->weight < 1)
		sc->weight = 1;
	sc->cap = quota > 0 && period > 0 ? (unsigned int)((quota * 100 + period / 2) / period) : 0;
	return 0;
}
