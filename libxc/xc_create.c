// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * xc_domain_create(): check the config, take a domid and a registry entry, open what the VMM
 * needs, start domus-vmm detached (double fork: it is nobody's child, so it outlives the
 * caller and never lingers as a zombie), and wait until it answers on its control socket.
 *
 * The VMM gets everything as inherited descriptors (docs/libxc.md): /dev/kvm, the kernel and
 * initrd, disks, taps, the listening control socket, the exit record file. So it can run as
 * an unprivileged user (xc_build_config.uid) that could open none of them itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <domus/tap.h>

#include "config.h"
#include "xc_private.h"

#define MAX_FDS		64
#define MAX_ARGS	128
#define DEFAULT_MEM	(256ULL << 20)
#define MIN_MEM		(2ULL << 20)

/* What the VMM is started with: argv, and descriptors to put at 3, 4, ... in order. */
struct spawn {
	char *argv[MAX_ARGS + 1];
	unsigned int argc;
	int fds[MAX_FDS];		/* ours to close */
	unsigned int nr_fds;
	int cgroup_procs_fd;		/* the domain's cgroup.procs, or -1 */
	int log_fd, null_fd;
};

static void spawn_dispose(struct spawn *sp)
{
	for (unsigned int i = 0; i < sp->argc; i++)
		free(sp->argv[i]);
	for (unsigned int i = 0; i < sp->nr_fds; i++)
		close(sp->fds[i]);
	if (sp->cgroup_procs_fd >= 0)
		close(sp->cgroup_procs_fd);
	if (sp->log_fd >= 0)
		close(sp->log_fd);
	if (sp->null_fd >= 0)
		close(sp->null_fd);
}

static int __attribute__((format(printf, 3, 4)))
add_arg(xc_interface *xch, struct spawn *sp, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (sp->argc == MAX_ARGS)
		return xc__error(xch, -E2BIG, "create: too many VMM arguments");
	va_start(ap, fmt);
	r = vasprintf(&sp->argv[sp->argc], fmt, ap);
	va_end(ap);
	if (r < 0)
		return xc__error(xch, -ENOMEM, "create: out of memory");
	sp->argc++;
	return 0;
}

/* Hand @fd to the VMM; Return: the number it will have there (3, 4, ...), or -errno. */
static int add_fd(xc_interface *xch, struct spawn *sp, int fd)
{
	if (sp->nr_fds == MAX_FDS) {
		close(fd);
		return xc__error(xch, -EMFILE, "create: too many descriptors for the VMM");
	}
	sp->fds[sp->nr_fds] = fd;
	return 3 + sp->nr_fds++;
}

static int open_for_vmm(xc_interface *xch, struct spawn *sp, const char *what,
			const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY, 0600);

	if (fd < 0)
		return xc__error(xch, -errno, "create: cannot open %s %s: %m", what, path);
	return add_fd(xch, sp, fd);
}

/* ---- checking the config ---- */

static bool name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n || n > XC_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < ' ' || *p == 0x7f || *p == '/')
			return false;
	return true;
}

/* The guest reads a disk serial as a string (/sys/block/vda/serial), as the VMM insists. */
static bool ascii_printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static int check_config(xc_interface *xch, const xc_build_config *cfg)
{
	char q[XC_QUOTED_MAX];

	if (!name_ok(cfg->name))
		return xc__error(xch, -EINVAL, "create: name '%s': 1-%d printable bytes, no '/', "
				 "not starting with '.' or '-'", xc__quoted(cfg->name, q), XC_NAME_MAX);
	if (!cfg->kernel && !cfg->restore_path && !cfg->incoming)
		return xc__error(xch, -EINVAL, "create %s: no kernel", cfg->name);
	if (cfg->restore_path && cfg->incoming)
		return xc__error(xch, -EINVAL, "create %s: restore from a file or receive a "
				 "migration, not both", cfg->name);
	if (cfg->incoming && cfg->incoming_fd < 0)
		return xc__error(xch, -EINVAL, "create %s: an incoming migration needs a "
				 "connected socket (incoming_fd)", cfg->name);
	if (cfg->initrd && !cfg->kernel)
		return xc__error(xch, -EINVAL, "create %s: an initrd without a kernel",
				 cfg->name);
	if (cfg->nr_vcpus > XC_MAX_VCPUS)
		return xc__error(xch, -EINVAL, "create %s: %u vCPUs, at most %d", cfg->name,
				 cfg->nr_vcpus, XC_MAX_VCPUS);
	if (cfg->console > XC_CONSOLE_NONE || (cfg->console == XC_CONSOLE_FILE &&
					       !cfg->console_path))
		return xc__error(xch, -EINVAL, "create %s: bad console (kind %u%s)", cfg->name,
				 cfg->console, cfg->console == XC_CONSOLE_FILE ? " needs a path" : "");
	if (cfg->nr_disks > 16 || cfg->nr_nics > 8)
		return xc__error(xch, -EINVAL, "create %s: at most 16 disks and 8 NICs",
				 cfg->name);
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		const char *s = cfg->disks[i].serial;

		if (!cfg->disks[i].path)
			return xc__error(xch, -EINVAL, "create %s: disk %u has no path", cfg->name, i);
		if (s && (strlen(s) > 20 || strchr(s, ',') || !ascii_printable(s)))
			return xc__error(xch, -EINVAL, "create %s: disk serial '%s': at most 20 "
					 "bytes of printable ASCII, no ','", cfg->name, xc__quoted(s, q));
	}
	for (unsigned int i = 0; i < cfg->nr_nics; i++) {
		const xc_nic_config *n = &cfg->nics[i];

		if ((n->tap && !domus_tap_name_ok(n->tap)) ||
		    (n->bridge && !domus_tap_name_ok(n->bridge)))
			return xc__error(xch, -EINVAL, "create %s: NIC %u: bad interface name",
					 cfg->name, i);
	}
	return 0;
}

/*
 * What a saved state holds: its MACHINE record (docs/savestate.md) follows the 24-octet
 * header and the record's 16; mem_size u64 and nr_vcpus u32 open its body. The VMM checks
 * the whole file; this only spares the caller from knowing the sizes.
 */
static int saved_machine(xc_interface *xch, const xc_build_config *cfg, uint64_t *mem,
			 unsigned int *vcpus)
{
	uint8_t buf[52];
	uint32_t type;
	int fd = open(cfg->restore_path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return xc__error(xch, -errno, "create %s: cannot open %s: %m", cfg->name,
				 cfg->restore_path);
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n == (ssize_t)sizeof(buf))
		memcpy(&type, buf + 24, 4);
	if (n != (ssize_t)sizeof(buf) || memcmp(buf, "DOMUSSV\n", 8) || type != 1)
		return xc__error(xch, -EINVAL, "create %s: %s is not a Domus saved state",
				 cfg->name, cfg->restore_path);
	memcpy(mem, buf + 40, 8);
	memcpy(vcpus, buf + 48, 4);
	return 0;
}

static int memory_sizes(xc_interface *xch, const xc_build_config *cfg, uint64_t *ram,
			uint64_t *mem)
{
	uint64_t saved_mem;
	unsigned int saved_vcpus;

	if (cfg->restore_path && !cfg->mem_bytes && !cfg->max_mem_bytes) {
		int r = saved_machine(xch, cfg, &saved_mem, &saved_vcpus);

		if (r)
			return r;
		*mem = *ram = saved_mem;
		return 0;
	}
	*mem = cfg->mem_bytes ? cfg->mem_bytes : DEFAULT_MEM;
	*ram = cfg->max_mem_bytes ? cfg->max_mem_bytes : *mem;
	if (*mem < MIN_MEM || (*mem & 0xfff) || (*ram & 0xfff))
		return xc__error(xch, -EINVAL, "create %s: memory must be at least 2 MiB, in "
				 "whole pages", cfg->name);
	if (*mem > *ram)
		return xc__error(xch, -EINVAL, "create %s: memory %" PRIu64 " MiB is more than "
				 "max memory %" PRIu64 " MiB", cfg->name, *mem >> 20, *ram >> 20);
	return 0;
}

/* ---- the registry entry ---- */

static bool uuid_is_zero(const uint8_t *u)
{
	static const uint8_t zero[16];

	return !memcmp(u, zero, 16);
}

/* Under the registry lock: name and UUID unique (the index says), the lowest free domid. */
static int allocate(xc_interface *xch, const xc_build_config *cfg, struct xc__record *rec)
{
	uint32_t *ids = NULL, domid = 1, other;
	char uuid[37];
	int n;

	xc_uuid_format(rec->uuid, uuid);
	for (int by_uuid = 0; by_uuid < 2; by_uuid++)
		if (!xc__index_find(xch, by_uuid, by_uuid ? uuid : cfg->name, &other))
			return xc__error(xch, -EEXIST, "create %s: %s is in use by domain %" PRIu32,
					 cfg->name, by_uuid ? "the UUID" : "the name", other);
	n = xc__registry_scan(xch, &ids);
	if (n < 0)
		return n;
	for (int i = 0; i < n && ids[i] == domid; i++)
		domid++;
	free(ids);
	rec->domid = domid;
	return 0;
}

static int make_record(xc_interface *xch, const xc_build_config *cfg, struct xc__record *rec)
{
	char dir[PATH_MAX];
	int lock, r;

	*rec = (struct xc__record){ .creator = getpid(), .weight = 256 };
	rec->creator_start = xc__process_start(rec->creator);
	snprintf(rec->name, sizeof(rec->name), "%s", cfg->name);
	memcpy(rec->uuid, cfg->uuid, 16);
	if (uuid_is_zero(rec->uuid)) {
		if (getrandom(rec->uuid, 16, 0) != 16)
			return xc__error(xch, -errno, "create: no random bytes for a UUID: %m");
		rec->uuid[6] = (rec->uuid[6] & 0x0f) | 0x40;	/* version 4 */
		rec->uuid[8] = (rec->uuid[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	}
	lock = xc__registry_lock(xch);
	if (lock < 0)
		return lock;
	r = allocate(xch, cfg, rec);
	if (!r)
		r = xc__domain_path(xch, rec->domid, NULL, dir);
	if (!r && mkdir(dir, 0700))
		r = xc__error(xch, -errno, "create: cannot create %s: %m", dir);
	if (!r) {
		r = xc__record_write(xch, rec);
		if (!r)
			r = xc__index_add(xch, rec);
		if (r)
			xc__registry_remove(xch, rec->domid);
	}
	close(lock);
	return r;
}

/* ---- what the VMM gets ---- */

static int listen_control(xc_interface *xch, uint32_t domid)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char path[PATH_MAX];
	int fd, r = xc__domain_path(xch, domid, "control", path);

	if (r)
		return r;
	if (strlen(path) >= sizeof(addr.sun_path))
		return xc__error(xch, -ENAMETOOLONG, "create: %s is too long for a socket", path);
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return xc__error(xch, -errno, "create: socket: %m");
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || chmod(path, 0600) ||
	    listen(fd, 16)) {
		r = -errno;
		close(fd);
		return xc__error(xch, r, "create: cannot listen on %s: %s", path, strerror(-r));
	}
	return fd;
}

/*
 * The VMM takes an OFD lock on each image (a write lock, or a read lock when read-only), so
 * that two domains never write one image. It only knows the descriptor's number, though:
 * say which image is taken, by its path, before the VMM is started.
 */
static int check_disk_free(xc_interface *xch, const xc_build_config *cfg,
			   const xc_disk_config *d, int fd)
{
	struct flock fl = { .l_type = d->readonly ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_OFD_GETLK, &fl) || fl.l_type == F_UNLCK)
		return 0;	/* free, or a filesystem without locks: the VMM decides */
	return xc__error(xch, -EBUSY, "create %s: disk %s is in use%s by another domain or "
			 "process", cfg->name, d->path, fl.l_type == F_WRLCK ? " read-write" : "");
}

static int add_disks(xc_interface *xch, struct spawn *sp, const xc_build_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		const xc_disk_config *d = &cfg->disks[i];
		int fd = open_for_vmm(xch, sp, "disk", d->path, d->readonly ? O_RDONLY : O_RDWR);
		/* An incoming domain's disks are still the source's (shared storage): its VMM
		 * locks them itself after the migration's handshake. */
		int r = fd < 0 ? fd : cfg->incoming ? 0 :
			check_disk_free(xch, cfg, d, sp->fds[fd - 3]);

		if (r)
			return r;
		if (add_arg(xch, sp, "--disk=fd=%d%s%s%s", fd,
				      d->readonly ? ",readonly=on" : "", d->serial ? ",serial=" : "",
				      d->serial ? d->serial : ""))
			return -ENOMEM;
	}
	return 0;
}

static int add_nics(xc_interface *xch, struct spawn *sp, const xc_build_config *cfg,
		    uint32_t domid)
{
	for (unsigned int i = 0; i < cfg->nr_nics; i++) {
		const xc_nic_config *n = &cfg->nics[i];
		char name[DOMUS_IFNAMSIZ], ifname[DOMUS_IFNAMSIZ], err[256];
		uint8_t mac[6];
		int fd, r;

		snprintf(name, sizeof(name), "vif%" PRIu32 ".%u", domid, i);
		memcpy(mac, n->mac, 6);
		r = !memcmp(mac, (const uint8_t[6]){ 0 }, 6) ? domus_mac_random(mac, err, sizeof(err))
							       : 0;
		if (!r)
			r = domus_tap_open(n->tap ? n->tap : name, &fd, ifname, err, sizeof(err));
		if (!r && n->bridge && (r = domus_tap_attach_bridge(ifname, n->bridge, err,
								      sizeof(err))))
			close(fd);
		if (r)
			return xc__error(xch, r, "create %s: NIC %u: %s", cfg->name, i, err);
		fd = add_fd(xch, sp, fd);
		if (fd < 0 || add_arg(xch, sp, "--net=fd=%d,mac=%02x:%02x:%02x:%02x:%02x:%02x", fd,
				      mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]))
			return fd < 0 ? fd : -ENOMEM;
	}
	return 0;
}

static int add_console(xc_interface *xch, struct spawn *sp, const xc_build_config *cfg,
		       uint32_t domid)
{
	char path[PATH_MAX];
	int r;

	switch (cfg->console) {
	case XC_CONSOLE_PTY: return add_arg(xch, sp, "--console=pty");
	case XC_CONSOLE_NONE: return add_arg(xch, sp, "--console=none");
	case XC_CONSOLE_FILE: return add_arg(xch, sp, "--console=file:%s", cfg->console_path);
	default:
		r = xc__domain_path(xch, domid, "console", path);
		return r ? r : add_arg(xch, sp, "--console=socket:%s", path);
	}
}

static const char *vmm_path(const xc_build_config *cfg)
{
	const char *env = getenv("DOMUS_VMM");

	if (cfg->vmm_path)
		return cfg->vmm_path;
	return env && *env ? env : DOMUS_VMM_PATH;
}

/* The log: the config's path, or vmm.log in the registry. */
static int open_log(xc_interface *xch, const xc_build_config *cfg, uint32_t domid)
{
	char path[PATH_MAX];
	int fd, r = cfg->log_path ? 0 : xc__domain_path(xch, domid, "vmm.log", path);

	if (r)
		return r;
	fd = open(cfg->log_path ? cfg->log_path : path,
		  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return xc__error(xch, -errno, "create: cannot open the log %s: %m",
				 cfg->log_path ? cfg->log_path : path);
	return fd;
}

/*
 * The kernel to boot, or the saved state / migration to continue; with either of those a
 * kernel is optional: it is what the machine boots after a reboot (--on-reboot restart).
 */
static int add_boot(xc_interface *xch, struct spawn *sp, const xc_build_config *cfg)
{
	int fd = 0;

	if (cfg->kernel && ((fd = open_for_vmm(xch, sp, "kernel", cfg->kernel, O_RDONLY)) < 0 ||
			    add_arg(xch, sp, "--kernel=fd=%d", fd)))
		return fd < 0 ? fd : -ENOMEM;
	if (cfg->initrd && ((fd = open_for_vmm(xch, sp, "initrd", cfg->initrd, O_RDONLY)) < 0 ||
			    add_arg(xch, sp, "--initrd=fd=%d", fd)))
		return fd < 0 ? fd : -ENOMEM;
	if (cfg->kernel && cfg->cmdline && add_arg(xch, sp, "--cmdline=%s", cfg->cmdline))
		return -ENOMEM;
	if (cfg->restore_path &&
	    ((fd = open_for_vmm(xch, sp, "saved state", cfg->restore_path, O_RDONLY)) < 0 ||
	     add_arg(xch, sp, "--restore=fd=%d", fd)))
		return fd < 0 ? fd : -ENOMEM;
	if (cfg->incoming) {
		int r = xc_migrate_socket_tune(cfg->incoming_fd);

		if (r < 0)
			return xc__error(xch, r, "create %s: incoming_fd %d: cannot set up the "
					 "socket: %s", cfg->name, cfg->incoming_fd, strerror(-r));
		fd = fcntl(cfg->incoming_fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return xc__error(xch, -errno, "create %s: incoming_fd %d: %m", cfg->name,
					 cfg->incoming_fd);
		if ((fd = add_fd(xch, sp, fd)) < 0 || add_arg(xch, sp, "--incoming=fd=%d", fd))
			return fd < 0 ? fd : -ENOMEM;
	}
	return 0;
}

static int build_args(xc_interface *xch, struct spawn *sp, const xc_build_config *cfg,
		      const struct xc__record *rec, uint64_t mem)
{
	char exit_path[PATH_MAX];
	int fd, r;

	r = add_arg(xch, sp, "%s", vmm_path(cfg));
	r = r ? r : add_boot(xch, sp, cfg);
	r = r ? r : add_arg(xch, sp, "--memory=%" PRIu64 "K", rec->ram_bytes >> 10);
	r = r ? r : add_arg(xch, sp, "--vcpus=%u", rec->nr_vcpus);
	if (r || (fd = open_for_vmm(xch, sp, "KVM", "/dev/kvm", O_RDWR)) < 0 ||
	    add_arg(xch, sp, "--kvm-fd=%d", fd))
		return r ? r : fd < 0 ? fd : -ENOMEM;
	if ((fd = listen_control(xch, rec->domid)) < 0 || (fd = add_fd(xch, sp, fd)) < 0 ||
	    add_arg(xch, sp, "--control-fd=%d", fd))
		return fd < 0 ? fd : -ENOMEM;
	if ((r = xc__domain_path(xch, rec->domid, "exit", exit_path)) ||
	    (fd = open_for_vmm(xch, sp, "exit record", exit_path, O_RDWR | O_CREAT | O_TRUNC)) < 0 ||
	    add_arg(xch, sp, "--exit-fd=%d", fd))
		return r ? r : fd < 0 ? fd : -ENOMEM;
	r = add_arg(xch, sp, "--on-reboot=restart");
	r = r ? r : add_console(xch, sp, cfg, rec->domid);
	r = r ? r : add_disks(xch, sp, cfg);
	r = r ? r : add_nics(xch, sp, cfg, rec->domid);
	if (!r && cfg->rng)
		r = add_arg(xch, sp, "--rng");
	if (!r && (cfg->balloon || mem < rec->ram_bytes))
		r = add_arg(xch, sp, "--balloon=target=%" PRIu64 "K", mem >> 10);
	if (!r && cfg->start_paused)
		r = add_arg(xch, sp, "--paused");
	for (unsigned int i = 0; !r && cfg->vmm_args && cfg->vmm_args[i]; i++)
		r = add_arg(xch, sp, "%s", cfg->vmm_args[i]);
	return r;
}

/* ---- starting it ---- */

/*
 * In the grandchild, between fork and exec: only async-signal-safe calls. Descriptors move
 * above the target range first, so that putting one at 3+i never closes another's source.
 *
 * The gate: the grandchild execs the VMM only once the caller has recorded its pid in the
 * registry and says so with one byte on @gate_fd. If the caller dies before that (killed
 * inside xc_domain_create()), the gate reads end of file and the grandchild ends without
 * ever becoming a VMM: no domain runs that nobody could find again. It waits last, after
 * every other descriptor is closed, so that it holds no other creation's gate open.
 */
static void __attribute__((noreturn)) exec_vmm(const struct spawn *sp, const xc_build_config *cfg,
					       int report_fd, int gate_fd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	int tmp[MAX_FDS], err, lo, hi;
	sigset_t none;
	ssize_t n;
	char go;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL);
	if (sp->cgroup_procs_fd >= 0 && write(sp->cgroup_procs_fd, "0", 1) != 1)
		goto fail;
	/* Above the range the descriptors go to, so that no dup2() below lands on them. */
	if ((report_fd = fcntl(report_fd, F_DUPFD_CLOEXEC, 3 + MAX_FDS)) < 0)
		_exit(125);
	if ((gate_fd = fcntl(gate_fd, F_DUPFD_CLOEXEC, 3 + MAX_FDS)) < 0)
		goto fail;
	for (unsigned int i = 0; i < sp->nr_fds; i++)
		if ((tmp[i] = fcntl(sp->fds[i], F_DUPFD_CLOEXEC, 3 + MAX_FDS)) < 0)
			goto fail;
	if (dup2(sp->null_fd, 0) < 0 || dup2(sp->log_fd, 1) < 0 || dup2(sp->log_fd, 2) < 0)
		goto fail;
	for (unsigned int i = 0; i < sp->nr_fds; i++)
		if (dup2(tmp[i], 3 + i) < 0)	/* the copy at 3+i is not close-on-exec */
			goto fail;
	/* Nothing else of the caller's (descriptors it did not mark close-on-exec) goes along;
	 * the report pipe and the gate are above the range, close-on-exec. */
	lo = report_fd < gate_fd ? report_fd : gate_fd;
	hi = report_fd < gate_fd ? gate_fd : report_fd;
	if (close_range(3 + sp->nr_fds, lo - 1, 0) ||
	    (hi - lo > 1 && close_range(lo + 1, hi - 1, 0)) || close_range(hi + 1, ~0U, 0))
		goto fail;
	if (cfg->uid && (setgroups(0, NULL) || setgid(cfg->gid) || setuid(cfg->uid)))
		goto fail;
	do
		n = read(gate_fd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(124);	/* the caller is gone: nobody knows of us */
	execv(sp->argv[0], sp->argv);
fail:
	err = errno ? -errno : -EIO;	/* < 0: the middle process writes a pid (> 0) */
	if (write(report_fd, &err, sizeof(err)) < 0)
		_exit(126);
	_exit(127);
}

/* One value from the report pipe: > 0 the VMM's pid, < 0 -errno; 0 end of file. */
static int report_read(int fd)
{
	ssize_t n;
	int v;

	do
		n = read(fd, &v, sizeof(v));
	while (n < 0 && errno == EINTR);
	return n == sizeof(v) && v ? v : 0;
}

/*
 * Double fork: the VMM's parent exits at once, so init reaps it, never the caller. On
 * success the grandchild waits at its gate (*@gate, see exec_vmm()) and *@report is still
 * to be read by spawn_release().
 */
static int spawn_vmm(xc_interface *xch, struct spawn *sp, const xc_build_config *cfg,
		     pid_t *ret_pid, int *report, int *gate)
{
	int pfd[2], gfd[2], err = 0, status, v;
	pid_t mid, vmm = 0;

	if (pipe2(pfd, O_CLOEXEC))
		return xc__error(xch, -errno, "create: pipe: %m");
	if (pipe2(gfd, O_CLOEXEC)) {
		err = errno;
		close(pfd[0]);
		close(pfd[1]);
		return xc__error(xch, -err, "create: pipe: %s", strerror(err));
	}
	mid = fork();
	if (mid < 0) {
		err = errno;
		close(pfd[0]);
		close(pfd[1]);
		close(gfd[0]);
		close(gfd[1]);
		return xc__error(xch, -err, "create: fork: %s", strerror(err));
	}
	if (mid == 0) {
		close(pfd[0]);
		close(gfd[1]);	/* only the caller may open the gate */
		setsid();
		vmm = fork();
		if (vmm == 0)
			exec_vmm(sp, cfg, pfd[1], gfd[0]);
		_exit(write(pfd[1], &vmm, sizeof(vmm)) == sizeof(vmm) && vmm > 0 ? 0 : 1);
	}
	close(pfd[1]);
	close(gfd[0]);
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
		;
	/*
	 * Two writers share the pipe: the middle process its child's pid (> 0), the child
	 * -errno if it failed before the gate. Each write is atomic (< PIPE_BUF). Before the
	 * gate opens only a failed child writes, so at most two values come now.
	 */
	for (int i = 0; i < 2 && vmm <= 0; i++) {
		if (!(v = report_read(pfd[0])))
			break;
		if (v > 0)
			vmm = v;
		else
			err = -v;
	}
	if (vmm <= 0 || err) {
		close(pfd[0]);
		close(gfd[1]);
		if (vmm <= 0)
			return xc__error(xch, -ECHILD, "create: cannot start the VMM process");
		return xc__error(xch, -err, "create: cannot run %s: %s", sp->argv[0],
				 strerror(err));
	}
	*ret_pid = vmm;
	*report = pfd[0];
	*gate = gfd[1];
	return 0;
}

/* Open the gate: the grandchild execs. Then its report: end of file once the exec worked. */
static int spawn_release(xc_interface *xch, const struct spawn *sp, int report, int gate)
{
	int v;

	v = write(gate, "g", 1) == 1 ? 0 : -errno;
	close(gate);
	if (!v)
		v = report_read(report);
	close(report);
	if (v < 0)
		return xc__error(xch, v, "create: cannot run %s: %s", sp->argv[0], strerror(-v));
	return 0;
}

/*
 * For tests only: the caller dies (SIGKILL) with the VMM spawned and its pid not yet in
 * the registry, the window a manager killed inside xc_domain_create() leaves.
 */
static void test_hook_die_before_record(pid_t vmm)
{
	if (!getenv("DOMUS_XC_TEST_HOOK_DIE_BEFORE_RECORD"))
		return;
	fprintf(stderr, "DOMUS_XC_TEST_HOOK_DIE_BEFORE_RECORD: VMM pid %d spawned, not "
		"recorded; dying\n", (int)vmm);
	raise(SIGKILL);
}

/* The VMM's last words: its exit record, else the last line of its log. */
void xc__vmm_last_words(xc_interface *xch, const char *log_path, uint32_t domid, char *msg,
			size_t len)
{
	char path[PATH_MAX], buf[4096];
	int status = -1;
	ssize_t n = 0;
	int fd;

	msg[0] = '\0';
	if (!xc__exit_record_read(xch, domid, &status, NULL, msg, len) &&
	    !strstr(msg, "see its log"))
		return;
	if (log_path)
		snprintf(path, sizeof(path), "%s", log_path);
	else
		xc__domain_path(xch, domid, "vmm.log", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		off_t size = lseek(fd, 0, SEEK_END);

		n = pread(fd, buf, sizeof(buf) - 1, size > (off_t)sizeof(buf) - 1 ?
			  size - (off_t)sizeof(buf) + 1 : 0);
		close(fd);
	}
	if (n > 0) {
		char *line;

		buf[n] = '\0';
		while (n > 0 && buf[n - 1] == '\n')
			buf[--n] = '\0';
		line = strrchr(buf, '\n');
		snprintf(msg, len, "%.400s", line ? line + 1 : buf);
	}
}

static void vmm_failure(xc_interface *xch, const xc_build_config *cfg, uint32_t domid,
			pid_t pid, uint64_t start)
{
	char msg[512];

	for (int i = 0; i < 100 && xc__process_alive(pid, start); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	xc__vmm_last_words(xch, cfg->log_path, domid, msg, sizeof(msg));
	xc__error(xch, -EIO, "create %s: the VMM failed to start%s%s", cfg->name,
		  msg[0] ? ": " : "", msg);
}

static int start(xc_interface *xch, const xc_build_config *cfg, struct xc__record *rec,
		 uint64_t mem, xc_domain **ret_dom)
{
	struct spawn sp = { .cgroup_procs_fd = -1, .log_fd = -1, .null_fd = -1 };
	xc_domain *dom = NULL;
	int r, report = -1, gate = -1;

	r = build_args(xch, &sp, cfg, rec, mem);
	if (!r && (sp.log_fd = open_log(xch, cfg, rec->domid)) < 0)
		r = sp.log_fd;
	if (!r && (sp.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		r = xc__error(xch, -errno, "create: /dev/null: %m");
	if (!r && rec->cgroup[0]) {
		char procs[PATH_MAX];

		snprintf(procs, sizeof(procs), "%s/cgroup.procs", rec->cgroup);
		sp.cgroup_procs_fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (sp.cgroup_procs_fd < 0)
			r = xc__error(xch, -errno, "create: cannot open %s: %m", procs);
	}
	if (!r)
		r = spawn_vmm(xch, &sp, cfg, &rec->pid, &report, &gate);
	if (r) {
		spawn_dispose(&sp);
		return r;
	}
	/* Its start time does not change with the exec: the record is complete now. */
	rec->pid_start = xc__process_start(rec->pid);
	rec->creator = 0;
	rec->creator_start = 0;
	test_hook_die_before_record(rec->pid);
	r = xc__record_write(xch, rec);
	if (r) {
		close(report);
		close(gate);	/* the grandchild ends at its gate */
	} else {
		r = spawn_release(xch, &sp, report, gate);
	}
	spawn_dispose(&sp);
	if (r)
		return r;
	/* An incoming domain answers only once it arrived: xc_domain_wait_running(). */
	if (!r && cfg->incoming) {
		r = xc__domain_open_pending(xch, rec->domid, &dom);
		if (!r)
			*ret_dom = dom;
		return r;
	}
	if (!r)
		r = xc_domain_open(xch, rec->domid, &dom);
	if (!r && dom->ended) {		/* it ended before it could answer */
		xc_domain_close(xch, dom);
		r = -EIO;
	}
	if (r) {
		vmm_failure(xch, cfg, rec->domid, rec->pid, rec->pid_start);
		if (rec->pid_start && xc__process_alive(rec->pid, rec->pid_start))
			kill(rec->pid, SIGKILL);
		return -EIO;
	}
	*ret_dom = dom;
	return 0;
}

int xc_domain_create(xc_interface *xch, const xc_build_config *cfg, xc_domain **ret_dom)
{
	struct xc__record rec;
	uint64_t ram, mem;
	xc_sched_credit sc;
	int r;

	r = check_config(xch, cfg);
	if (!r)
		r = memory_sizes(xch, cfg, &ram, &mem);
	if (!r)
		r = make_record(xch, cfg, &rec);
	if (r)
		return r;
	rec.ram_bytes = rec.max_mem_bytes = ram;
	rec.nr_vcpus = cfg->nr_vcpus ? cfg->nr_vcpus : 1;
	if (cfg->restore_path && !cfg->nr_vcpus) {
		uint64_t m;

		r = saved_machine(xch, cfg, &m, &rec.nr_vcpus);
		if (r) {
			xc__registry_remove(xch, rec.domid);
			return r;
		}
	}
	sc = (xc_sched_credit){ .weight = cfg->weight ? cfg->weight : 256, .cap = cfg->cap };
	r = xc__cgroup_create(xch, rec.domid, rec.uuid, rec.cgroup, sizeof(rec.cgroup));
	if (r && !cfg->weight && !cfg->cap)
		r = 0;		/* without a cpu controller, only weight and cap are lost */
	else if (r == -EOPNOTSUPP)
		xc__error(xch, r, "create %s: weight and cap need a cpu cgroup controller, and "
			  "this host has none", cfg->name);
	if (!r && rec.cgroup[0])
		r = xc__cgroup_set_credit(xch, rec.cgroup, &sc);
	rec.weight = sc.weight;
	rec.cap = sc.cap;
	if (!r)
		r = start(xch, cfg, &rec, mem, ret_dom);
	if (r) {
		xc__cgroup_remove(rec.cgroup);
		xc__registry_remove(xch, rec.domid);
	}
	return r;
}
