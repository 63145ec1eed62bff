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

#endif
