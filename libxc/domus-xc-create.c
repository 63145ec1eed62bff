// SPDX-License-Identifier: GPL-2.0-or-later
/* domus-xc create: an xc_build_config from options (xm create's config keys, as options). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <domus/tap.h>

#include "domus-xc.h"

#define MAX_EXTRA 32

struct create_opts {
	xc_build_config cfg;
	xc_disk_config disks[16];
	xc_nic_config nics[8];
	const char *extra[MAX_EXTRA + 1];
	unsigned int nr_extra;
	const char *incoming;		/* --incoming [HOST:]PORT */
};

static void create_usage(FILE *f)
{
	fprintf(f,
		"Usage: domus-xc create --name NAME --kernel PATH [options]\n"
		"       domus-xc restore FILE --name NAME [options]   (= create --restore FILE)\n"
		"  --restore FILE      continue a saved domain (domus-xc save); the same devices\n"
		"  --incoming [HOST:]PORT   receive a live migration: listen there, take one\n"
		"                      connection (domus-xc migrate DOMAIN HOST:PORT), print the\n"
		"                      domid once the guest runs here; the same devices, --memory\n"
		"                      and --vcpus as the source. With either, --kernel is optional\n"
		"                      (the machine after a reboot boots it)\n"
		"  --initrd PATH  --cmdline TEXT  --uuid UUID\n"
		"  --memory SIZE       what the guest starts with (default 256M)\n"
		"  --maxmem SIZE       its RAM; above --memory, the balloon holds the rest\n"
		"  --vcpus N           1-255\n"
		"  --disk PATH[,readonly][,serial=S]   repeatable (vda, vdb, ...)\n"
		"  --nic [tap=NAME][,bridge=BR][,mac=MAC]   repeatable; tap default vifD.N\n"
		"  --console pty|socket|file:PATH|none   (default pty)\n"
		"  --rng  --balloon  --paused\n"
		"  --weight W (1-65535)  --cap PERCENT\n"
		"  --log PATH          the VMM's log (default: in the registry)\n"
		"  --user USER         run the VMM as USER, with only the descriptors it is given\n"
		"  --vmm-arg ARG       pass ARG to domus-vmm (repeatable; tests)\n");
}

static int parse_disk(struct create_opts *o, char *arg)
{
	xc_disk_config *d = &o->disks[o->cfg.nr_disks];
	char *item, *list = arg;

	if (o->cfg.nr_disks == 16)
		return -1;
	d->path = strsep(&list, ",");
	while ((item = strsep(&list, ","))) {
		if (!strcmp(item, "readonly") || !strcmp(item, "ro"))
			d->readonly = true;
		else if (!strncmp(item, "serial=", 7))
			d->serial = item + 7;
		else
			return -1;
	}
	o->cfg.nr_disks++;
	return *d->path ? 0 : -1;
}

static int parse_nic(struct create_opts *o, char *arg)
{
	xc_nic_config *n = &o->nics[o->cfg.nr_nics];
	char *item, *list = arg, err[128];

	if (o->cfg.nr_nics == 8)
		return -1;
	while (list && (item = strsep(&list, ","))) {
		if (!strncmp(item, "tap=", 4))
			n->tap = item + 4;
		else if (!strncmp(item, "bridge=", 7))
			n->bridge = item + 7;
		else if (strncmp(item, "mac=", 4) || domus_mac_parse(item + 4, n->mac, err,
								     sizeof(err)))
			return -1;
	}
	o->cfg.nr_nics++;
	return 0;
}

static int parse_console(xc_build_config *cfg, const char *arg)
{
	if (!strcmp(arg, "pty"))
		cfg->console = XC_CONSOLE_PTY;
	else if (!strcmp(arg, "socket"))
		cfg->console = XC_CONSOLE_SOCKET;
	else if (!strcmp(arg, "none"))
		cfg->console = XC_CONSOLE_NONE;
	else if (!strncmp(arg, "file:", 5) && arg[5]) {
		cfg->console = XC_CONSOLE_FILE;
		cfg->console_path = arg + 5;
	} else {
		return -1;
	}
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_user(xc_build_config *cfg, const char *name)
{
	struct passwd *pw = getpwnam(name);

	if (!pw || !pw->pw_uid)
		return -1;
	cfg->uid = pw->pw_uid;
	cfg->gid = pw->pw_gid;
	return 0;
}

/* One option; Return: 0, or -1 after naming what was wrong. */
static int parse_one(struct create_opts *o, int c, char *arg)
{
	xc_build_config *cfg = &o->cfg;
	int bad = 0;

	switch (c) {
	case 'n': cfg->name = arg; break;
	case 'k': cfg->kernel = arg; break;
	case 'i': cfg->initrd = arg; break;
	case 'c': cfg->cmdline = arg; break;
	case 'u': bad = xc_uuid_parse(arg, cfg->uuid); break;
	/* 0 would mean "the default" to libxc: on the command line it is a mistake. */
	case 'm': bad = xc_parse_size(arg, &cfg->mem_bytes) || !cfg->mem_bytes; break;
	case 'M': bad = xc_parse_size(arg, &cfg->max_mem_bytes) || !cfg->max_mem_bytes; break;
	case 'p': bad = parse_uint(arg, XC_MAX_VCPUS, &cfg->nr_vcpus) || !cfg->nr_vcpus; break;
	case 'd': bad = parse_disk(o, arg); break;
	case 'N': bad = parse_nic(o, arg); break;
	case 'C': bad = parse_console(cfg, arg); break;
	case 'r': cfg->rng = true; break;
	case 'b': cfg->balloon = true; break;
	case 'P': cfg->start_paused = true; break;
	case 'w': bad = parse_uint(arg, 65535, &cfg->weight) || !cfg->weight; break;
	case 'a': bad = parse_uint(arg, 100000, &cfg->cap); break;
	case 'l': cfg->log_path = arg; break;
	case 'U': bad = parse_user(cfg, arg); break;
	case 'R': cfg->restore_path = arg; break;
	case 'I': o->incoming = arg; break;
	case 'x':
		bad = o->nr_extra == MAX_EXTRA;
		if (!bad)
			o->extra[o->nr_extra++] = arg;
		break;
	default: return -1;
	}
	if (bad)
		fprintf(stderr, "domus-xc create: bad value '%s'\n", arg);
	return bad ? -1 : 0;
}

int cmd_create(xc_interface *xch, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' }, { "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' }, { "cmdline", required_argument, NULL, 'c' },
		{ "uuid", required_argument, NULL, 'u' }, { "memory", required_argument, NULL, 'm' },
		{ "maxmem", required_argument, NULL, 'M' }, { "vcpus", required_argument, NULL, 'p' },
		{ "disk", required_argument, NULL, 'd' }, { "nic", required_argument, NULL, 'N' },
		{ "console", required_argument, NULL, 'C' }, { "rng", no_argument, NULL, 'r' },
		{ "balloon", no_argument, NULL, 'b' }, { "paused", no_argument, NULL, 'P' },
		{ "weight", required_argument, NULL, 'w' }, { "cap", required_argument, NULL, 'a' },
		{ "log", required_argument, NULL, 'l' }, { "user", required_argument, NULL, 'U' },
		{ "vmm-arg", required_argument, NULL, 'x' }, { "help", no_argument, NULL, 'h' },
		{ "restore", required_argument, NULL, 'R' },
		{ "incoming", required_argument, NULL, 'I' },
		{},
	};
	struct create_opts o = {};
	xc_domain *dom;
	int c, r;

	/* domus-xc restore FILE ...: create --restore FILE ... */
	if (!strcmp(argv[0], "restore") && argc > 1 && argv[1][0] != '-') {
		o.cfg.restore_path = argv[1];
		argv++;
		argc--;
	}
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			create_usage(stdout);
			return 0;
		}
		if (parse_one(&o, c, optarg)) {
			create_usage(stderr);
			return 2;
		}
	}
	if (optind < argc || !o.cfg.name ||
	    (!o.cfg.kernel && !o.cfg.restore_path && !o.incoming)) {
		fprintf(stderr, "domus-xc create: %s\n", optind < argc ? "unexpected argument" :
			"--name and --kernel are required (--restore FILE or --incoming PORT "
			"instead of --kernel)");
		create_usage(stderr);
		return 2;
	}
	o.cfg.disks = o.disks;
	o.cfg.nics = o.nics;
	o.cfg.vmm_args = o.extra;
	if (o.incoming) {
		o.cfg.incoming = true;
		o.cfg.incoming_fd = cli_incoming_accept(o.incoming);
		if (o.cfg.incoming_fd < 0)
			return 1;
	}
	r = xc_domain_create(xch, &o.cfg, &dom);
	if (o.incoming) {
		close(o.cfg.incoming_fd);
		if (!r && (r = xc_domain_wait_running(xch, dom, -1)))
			dom = NULL;
	}
	if (r) {
		cli_error(xch, r);
		return r == -EINVAL ? 2 : 1;	/* a bad value, as libxc saw it */
	}
	printf("%" PRIu32 "\n", xc_domain_id(dom));
	xc_domain_close(xch, dom);
	return 0;
}
