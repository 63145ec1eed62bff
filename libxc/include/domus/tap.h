/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Taps and MAC addresses, shared by libxc (which opens a domain's taps and passes them to
 * the VMM) and domus-vmm (--net tap=NAME when it runs with CAP_NET_ADMIN itself).
 * Errors: a -errno return and the words in @err.
 */
#ifndef DOMUS_TAP_H
#define DOMUS_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOMUS_IFNAMSIZ 16	/* IFNAMSIZ, with the terminating NUL */

/* An interface name the kernel would take: 1-15 bytes, no '/', ':' or white space. */
bool domus_tap_name_ok(const char *name);

/* xx:xx:xx:xx:xx:xx, a unicast address. */
int domus_mac_parse(const char *val, uint8_t mac[6], char *err, size_t errlen);
/* 02:xx:xx:xx:xx:xx: locally administered, unicast, random. */
int domus_mac_random(uint8_t mac[6], char *err, size_t errlen);

/*
 * Attach to (or create) the tap @name ("" or a name ending in %d: the kernel picks) with
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, close-on-exec. The tap lives while a descriptor to
 * it is open. Return: 0 with *@fd and @ifname (the kernel's name) set, or -errno.
 */
int domus_tap_open(const char *name, int *fd, char ifname[DOMUS_IFNAMSIZ], char *err,
		   size_t errlen);

/* Xen's vif-bridge, in-process: make the tap a port of @br and bring it up. */
int domus_tap_attach_bridge(const char *tap, const char *br, char *err, size_t errlen);

#endif
