// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Starting a domain: its definition becomes an xc_build_config (docs/domain-xml.md says
 * what each element does), libxc builds it paused, the vCPUs are pinned, and the runtime
 * state (domid, pty, tap names) goes into the live definition.
 */
#define G_LOG_DOMAIN "virtdomusd"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "xc-backend.h"

/* Credit weight from <shares> (the same number: Xen's weight, 1..65535, default 256). */
static unsigned int def_weight(const struct domus_domain_def *def)
{
	if (!def->cputune.has_shares)
		return 0;
	return CLAMP(def->cputune.shares, 1, 65535);
}

/* Credit cap in percent of one CPU from <period>/<quota> (0 = none). */
unsigned int xb_def_cap(const struct domus_domain_def *def)
{
	uint64_t period = def->cputune.period ? def->cputune.period : 100000;

	if (!def->cputune.has_quota || def->cputune.quota <= 0)
		return 0;
	return MAX(1, (unsigned int)MIN((uint64_t)def->cputune.quota * 100 / period, 65535));
}

/* A free "vnetN" for a tap Domus names (as libvirt does), skipping names in use. */
static char *free_tap_name(GHashTable *taken)
{
	for (unsigned int n = 0; n < 100000; n++) {
		g_autofree char *name = g_strdup_printf("vnet%u", n);
		g_autofree char *sys = g_strdup_printf("/sys/class/net/%s", name);

		if (!g_hash_table_contains(taken, name) && !g_file_test(sys, G_FILE_TEST_EXISTS)) {
			g_hash_table_add(taken, g_strdup(name));
			return g_steal_pointer(&name);
		}
	}
	return NULL;
}

/* Tap names other running domains of ours use (under xb->lock). */
static GHashTable *taps_in_use(struct xc_backend *xb)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; i < xb->doms->len; i++) {
		struct xdom *o = xb->doms->pdata[i];

		for (size_t k = 0; o->live && k < o->live->nnets; k++)
			if (o->live->nets[k]->runtime_ifname)
				g_hash_table_add(t, g_strdup(o->live->nets[k]->runtime_ifname));
	}
	return t;
}

char *xb_log_path(struct xc_backend *xb, const char *name)
{
	g_autofree char *file = g_strconcat(name, ".log", NULL);

	return g_build_filename(xb->state_dir, file, NULL);
}

/* The VMM prints "console on /dev/pts/N" on its log (the last one counts; a restart
 * after a reboot prints the same pty again). */
char *xb_console_pty(struct xc_backend *xb, const char *name)
{
	g_autofree char *path = xb_log_path(xb, name), *text = NULL;
	const char *p, *last = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	for (p = text; (p = strstr(p, "console on /dev/")); p++)
		last = p;
	if (!last)
		return NULL;
	last += strlen("console on ");
	return g_strndup(last, strcspn(last, " \r\n"));
}

static void cpuset_to_cpu_set(const struct domus_cpuset *s, unsigned int n, cpu_set_t *out)
{
	CPU_ZERO(out);
	for (unsigned int c = 0; c < n && c < CPU_SETSIZE; c++)
		if (domus_cpuset_test(s, c))
			CPU_SET(c, out);
}

/* <vcpu cpuset> for every vCPU, then <vcpupin> for the ones it names. */
static int apply_pins(struct xc_backend *xb, struct xdom *xd, const struct domus_domain_def *def,
		      unsigned int nvcpus, struct verr *err)
{
	cpu_set_t set;
	int r;

	for (unsigned int v = 0; def->vcpu_cpuset && v < nvcpus; v++) {
		cpuset_to_cpu_set(def->vcpu_cpuset, xb->nr_cpus, &set);
		if ((r = xc_vcpu_setaffinity(xd->xch, xd->ctl, v, &set)) < 0)
			return verr_from_xc(err, xd->xch, r, "cannot pin the vCPUs (<vcpu cpuset>)");
	}
	for (size_t i = 0; i < def->cputune.npins; i++) {
		if (def->cputune.pins[i].vcpu >= nvcpus)
			continue;
		cpuset_to_cpu_set(&def->cputune.pins[i].cpus, xb->nr_cpus, &set);
		if ((r = xc_vcpu_setaffinity(xd->xch, xd->ctl, def->cputune.pins[i].vcpu, &set)) < 0)
			return verr_from_xc(err, xd->xch, r, "cannot pin a vCPU (<vcpupin>)");
	}
	return 0;
}

struct build {
	xc_build_config cfg;
	xc_disk_config disks[DOMUS_DOMAIN_MAX_DISKS];
	xc_nic_config nics[DOMUS_DOMAIN_MAX_NETS];
	char *log;
};

static void fill_config(struct build *b, const struct domus_domain_def *def)
{
	xc_build_config *c = &b->cfg;

	c->name = def->name;
	memcpy(c->uuid, def->uuid, 16);
	c->kernel = def->os.kernel;
	c->initrd = def->os.initrd;
	c->cmdline = def->os.cmdline;
	c->max_mem_bytes = def->memory_kib * 1024;
	c->mem_bytes = def->current_memory_kib * 1024;
	/* <vcpu current>: the guest is built with the vCPUs online at boot. */
	c->nr_vcpus = def->current_vcpus ? def->current_vcpus : def->vcpus;
	for (size_t i = 0; i < def->ndisks; i++)
		b->disks[i] = (xc_disk_config){ .path = def->disks[i]->source,
						.readonly = def->disks[i]->readonly,
						.serial = def->disks[i]->serial };
	c->disks = b->disks;
	c->nr_disks = def->ndisks;
	for (size_t i = 0; i < def->nnets; i++) {
		b->nics[i].tap = def->nets[i]->runtime_ifname;
		b->nics[i].bridge = def->nets[i]->bridge;
		memcpy(b->nics[i].mac, def->nets[i]->mac, 6);
	}
	c->nics = b->nics;
	c->nr_nics = def->nnets;
	c->console = !def->serial ? XC_CONSOLE_NONE :
		     def->serial->type == DOMUS_CHR_PTY ? XC_CONSOLE_PTY : XC_CONSOLE_FILE;
	c->console_path = def->serial && def->serial->type == DOMUS_CHR_FILE ? def->serial->path :
			  NULL;
	c->rng = def->rng;
	c->balloon = def->memballoon == DOMUS_BALLOON_VIRTIO;
	c->weight = def_weight(def);
	c->cap = xb_def_cap(def);
	c->log_path = b->log;
	/* Always paused: pinning first, then the vCPUs run. */
	c->start_paused = true;
}

/* Tap names for the interfaces (under xb->lock): <target dev> or a free vnetN. */
static int name_taps(struct xc_backend *xb, struct domus_domain_def *live, struct verr *err)
{
	g_autoptr(GHashTable) taken = taps_in_use(xb);

	for (size_t i = 0; i < live->nnets; i++) {
		struct domus_net_def *n = live->nets[i];

		g_free(n->runtime_ifname);
		n->runtime_ifname = n->ifname ? g_strdup(n->ifname) : free_tap_name(taken);
		if (!n->runtime_ifname)
			return verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_DOMAIN,
					"no free tap device name");
	}
	return 0;
}

static void drop_handles(struct xdom *xd)
{
	if (xd->ctl)
		xc_domain_close(xd->xch, xd->ctl);
	xd->ctl = NULL;
	xc_interface_close(xd->xch);
	xd->xch = NULL;
}

int xb_start(struct xc_backend *xb, struct xdom *xd, const struct domus_domain_def *def,
	     bool paused, struct verr *err)
{
	g_autoptr(domus_domain_def) live = domus_domain_def_copy(def);
	g_autofree struct build *b = g_new0(struct build, 1);
	g_autofree char *log = xb_log_path(xb, def->name);
	int r;

	domus_domain_def_clear_runtime(live);
	g_mutex_lock(&xb->lock);
	r = name_taps(xb, live, err);
	g_mutex_unlock(&xb->lock);
	if (r < 0)
		return -1;
	if (!g_file_test(def->os.kernel, G_FILE_TEST_EXISTS))
		return verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN,
				"cannot start domain '%s': the kernel %s does not exist", def->name,
				def->os.kernel);
	b->log = log;
	fill_config(b, live);
	b->cfg.restore_path = xd->restore_path;	/* xc-save.c: continue a saved image */
	if (xd->incoming_fd >= 0) {		/* xc-migrate.c: receive a live migration */
		b->cfg.incoming = true;
		b->cfg.incoming_fd = xd->incoming_fd;
		b->cfg.start_paused = false;	/* the VMM runs it on the source's GO */
	}
	g_unlink(log);	/* a fresh log: the pty path of this run only */
	if ((r = xc_interface_open(0, &xd->xch)) < 0)
		return verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_DOMAIN, "libxc: %s",
				g_strerror(-r));
	xc_interface_set_timeout(xd->xch, 10000);
	if ((r = xc_domain_create(xd->xch, &b->cfg, &xd->ctl)) < 0) {
		verr_set(err, VERR_OPERATION_FAILED, VERR_FROM_DOMAIN, "cannot start domain '%s': %s",
			 def->name, xc_last_error(xd->xch));
		xd->ctl = NULL;
		drop_handles(xd);
		return -1;
	}
	/* An arriving domain takes no request before it runs: xb_incoming_arrived() pins. */
	if (xd->incoming_fd < 0 && (apply_pins(xb, xd, live, b->cfg.nr_vcpus, err) < 0 ||
	    (!paused && (r = xc_domain_unpause(xd->xch, xd->ctl)) < 0 &&
	     verr_from_xc(err, xd->xch, r, "cannot start the vCPUs")))) {
		xc_domain_destroy(xd->xch, xd->ctl);
		drop_handles(xd);
		return -1;
	}
	live->id = xc_domain_id(xd->ctl);
	if (live->serial && live->serial->type == DOMUS_CHR_PTY) {
		g_free(live->serial->path);
		live->serial->path = xb_console_pty(xb, def->name);
	}
	g_mutex_lock(&xb->lock);
	domus_domain_def_free(xd->live);
	xd->live = g_steal_pointer(&live);
	xd->id = xd->live->id;
	xd->gen++;
	xd->state = paused ? DOMAIN_PAUSED : DOMAIN_RUNNING;
	xd->reason = paused ? PAUSE_USER : xd->restore_path ? RUN_RESTORED : RUN_BOOTED;
	if (xd->incoming_fd >= 0)
		xd->state = DOMAIN_PAUSED, xd->reason = PAUSE_MIGRATION;
	g_mutex_unlock(&xb->lock);
	xb_write_status(xb, xd);
	return 0;
}

int xb_incoming_arrived(struct xc_backend *xb, struct xdom *xd, struct verr *err)
{
	g_autoptr(domus_domain_def) live = NULL;
	int r;

	g_mutex_lock(&xb->lock);
	live = domus_domain_def_copy(xd->live);
	xd->state = DOMAIN_RUNNING;
	xd->reason = RUN_MIGRATED;
	g_mutex_unlock(&xb->lock);
	r = apply_pins(xb, xd, live, live->current_vcpus ? live->current_vcpus : live->vcpus, err);
	xb_write_status(xb, xd);
	return r;
}
