/* SPDX-License-Identifier: GPL-2.0-or-later */
/* domus-xc's verbs, one file each where they need more than a few lines. */
#ifndef DOMUS_XC_CLI_H
#define DOMUS_XC_CLI_H

#include <domus/xc.h>

/* domus-xc create OPTIONS: build a domain, print its domid. Return: 0, 1 failed, 2 usage. */
int cmd_create(xc_interface *xch, int argc, char **argv);

/* domus-xc console DOMAIN: the guest's console on this terminal until Ctrl-]. */
int cmd_console(xc_interface *xch, xc_domain *dom);

void cli_error(xc_interface *xch, int err);

#define CLI_USAGE 1000	/* a verb's return value: bad usage, already said; exit status 2 */

/* domus-xc-job.c: save, migrate and their jobs. Return: 0, -errno (failed), CLI_USAGE. */
int cmd_save(xc_interface *xch, xc_domain *dom, int argc, char **argv);
int cmd_migrate(xc_interface *xch, xc_domain *dom, int argc, char **argv);
int cmd_migrate_set(xc_interface *xch, xc_domain *dom, int argc, char **argv);
int cmd_job(xc_interface *xch, xc_domain *dom);
/* Listen on [HOST:]PORT, take one connection. Return: its fd, or -1 (said on stderr). */
int cli_incoming_accept(const char *arg);

#endif
