// SPDX-License-Identifier: GPL-2.0-or-later
/* The domain model: lifetime, copies, runtime state and names (see domain_conf.h). */
#include <string.h>

#include "domain_conf.h"

static void disk_free(struct domus_disk_def *d)
{
	if (!d)
		return;
	g_free(d->source);
	g_free(d->target);
	g_free(d->serial);
	g_free(d);
}

static void net_free(struct domus_net_def *n)
{
	if (!n)
		return;
	g_free(n->bridge);
	g_free(n->ifname);
	g_free(n->runtime_ifname);
	g_free(n);
}

static void chr_free(struct domus_chr_def *c)
{
	if (!c)
		return;
	g_free(c->path);
	g_free(c);
}

struct domus_domain_def *domus_domain_def_free(struct domus_domain_def *def)
{
	if (!def)
		return NULL;
	g_free(def->name);
	g_free(def->title);
	g_free(def->description);
	g_free(def->metadata);
	g_free(def->vcpu_cpuset);
	g_free(def->cputune.pins);
	g_free(def->os.arch);
	g_free(def->os.machine);
	g_free(def->os.kernel);
	g_free(def->os.initrd);
	g_free(def->os.cmdline);
	g_free(def->emulator);
	for (size_t i = 0; i < def->ndisks; i++)
		disk_free(def->disks[i]);
	g_free(def->disks);
	for (size_t i = 0; i < def->nnets; i++)
		net_free(def->nets[i]);
	g_free(def->nets);
	chr_free(def->serial);
	g_free(def->rng_backend);
	g_free(def);
	return NULL;
}

void domus_domain_def_freep(struct domus_domain_def **def)
{
	if (def)
		*def = domus_domain_def_free(*def);
}

struct domus_domain_def *domus_domain_def_copy(const struct domus_domain_def *src)
{
	struct domus_domain_def *d = g_memdup2(src, sizeof(*src));

	d->name = g_strdup(src->name);
	d->title = g_strdup(src->title);
	d->description = g_strdup(src->description);
	d->metadata = g_strdup(src->metadata);
	d->vcpu_cpuset = src->vcpu_cpuset ? g_memdup2(src->vcpu_cpuset, sizeof(*src->vcpu_cpuset))
					  : NULL;
	d->cputune.pins = g_memdup2(src->cputune.pins,
				    src->cputune.npins * sizeof(*src->cputune.pins));
	d->os.arch = g_strdup(src->os.arch);
	d->os.machine = g_strdup(src->os.machine);
	d->os.kernel = g_strdup(src->os.kernel);
	d->os.initrd = g_strdup(src->os.initrd);
	d->os.cmdline = g_strdup(src->os.cmdline);
	d->emulator = g_strdup(src->emulator);
	d->disks = g_new0(struct domus_disk_def *, src->ndisks + 1);
	for (size_t i = 0; i < src->ndisks; i++) {
		struct domus_disk_def *s = src->disks[i], *n = g_memdup2(s, sizeof(*s));

		n->source = g_strdup(s->source);
		n->target = g_strdup(s->target);
		n->serial = g_strdup(s->serial);
		d->disks[i] = n;
	}
	d->nets = g_new0(struct domus_net_def *, src->nnets + 1);
	for (size_t i = 0; i < src->nnets; i++) {
		struct domus_net_def *s = src->nets[i], *n = g_memdup2(s, sizeof(*s));

		n->bridge = g_strdup(s->bridge);
		n->ifname = g_strdup(s->ifname);
		n->runtime_ifname = g_strdup(s->runtime_ifname);
		d->nets[i] = n;
	}
	if (src->serial) {
		d->serial = g_memdup2(src->serial, sizeof(*src->serial));
		d->serial->path = g_strdup(src->serial->path);
	}
	d->rng_backend = g_strdup(src->rng_backend);
	return d;
}

void domus_domain_def_clear_runtime(struct domus_domain_def *def)
{
	def->id = -1;
	for (size_t i = 0; i < def->nnets; i++)
		g_clear_pointer(&def->nets[i]->runtime_ifname, g_free);
	if (def->serial && def->serial->type == DOMUS_CHR_PTY)
		g_clear_pointer(&def->serial->path, g_free);
}

int domus_domain_name_check(const char *name, bool for_api, struct domus_error **err)
{
	int code = for_api ? VIR_ERR_INVALID_ARG : VIR_ERR_XML_ERROR;
	const char *why = NULL;

	if (!name || !*name)
		why = "it is empty";
	else if (strlen(name) > DOMUS_DOMAIN_NAME_MAX)
		why = "it is longer than " G_STRINGIFY(DOMUS_DOMAIN_NAME_MAX) " bytes";
	else if (name[0] == '.')
		why = "it starts with '.'";
	else if (strchr(name, '/'))
		why = "it contains '/'";
	else if (!g_utf8_validate(name, -1, NULL))
		why = "it is not valid UTF-8";
	for (const char *p = name; !why && *p; p++)
		if (g_ascii_iscntrl(*p))
			why = "it contains a control character";
	if (!why)
		return 0;
	domus_error_set(err, VIR_FROM_DOMAIN, code, "invalid domain name '%s': %s",
			name ? name : "", why);
	return -1;
}

const char *domus_lifecycle_action_name(enum domus_lifecycle_action action)
{
	switch (action) {
	case DOMUS_ACTION_DESTROY:
		return "destroy";
	case DOMUS_ACTION_RESTART:
		return "restart";
	case DOMUS_ACTION_PRESERVE:
		return "preserve";
	}
	return "destroy";
}
