// SPDX-License-Identifier: GPL-2.0-or-later
/* Taps, bridges and MAC addresses (domus/tap.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <domus/cleanup.h>
#include <domus/tap.h>

static int __attribute__((format(printf, 4, 5)))
parse_error(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

bool domus_tap_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (!len || len >= DOMUS_IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++) {
		if (*p <= ' ' || *p > '~' || *p == '/' || *p == ':')
			return false;
	}
	return true;
}

int domus_mac_parse(const char *val, uint8_t mac[6], char *err, size_t errlen)
{
	static const uint8_t zero[6];
	unsigned int b[6];
	int end = -1;

	if (strlen(val) != 17 ||
	    sscanf(val, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6 || end != 17)
		return parse_error(err, errlen, -EINVAL, "mac=%s: expected xx:xx:xx:xx:xx:xx", val);
	for (int i = 0; i < 6; i++) {
		if (!strchr("0123456789abcdefABCDEF", val[3 * i]) ||
		    !strchr("0123456789abcdefABCDEF", val[3 * i + 1]))
			return parse_error(err, errlen, -EINVAL, "mac=%s: not hexadecimal", val);
		mac[i] = b[i];
	}
	if ((mac[0] & 1) || !memcmp(mac, zero, 6))
		return parse_error(err, errlen, -EINVAL, "mac=%s: not a unicast address", val);
	return 0;
}

int domus_mac_random(uint8_t mac[6], char *err, size_t errlen)
{
	mac[0] = 0x02;
	if (getrandom(mac + 1, 5, 0) != 5)
		return parse_error(err, errlen, -EIO, "cannot make a MAC address: %s",
				   strerror(errno));
	return 0;
}

int domus_tap_open(const char *name, int *fdp, char ifname[DOMUS_IFNAMSIZ], char *err,
		   size_t errlen)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd;

	/* Checked here too: a longer name would run past ifr_name ("": the kernel picks). */
	if (name[0] && !domus_tap_name_ok(name))
		return parse_error(err, errlen, -EINVAL, "tap name '%.*s': 1-%d printable "
				   "octets", DOMUS_IFNAMSIZ, name, DOMUS_IFNAMSIZ - 1);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return parse_error(err, errlen, -errno, "/dev/net/tun: %s", strerror(errno));
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		int e = errno;

		close(fd);
		if (e == EPERM)
			return parse_error(err, errlen, -e, "tap %s: not allowed (it needs "
					   "CAP_NET_ADMIN, or a tap made for this user by "
					   "domus-vif-bridge)", name);
		if (e == EBUSY)
			return parse_error(err, errlen, -e, "tap %s: in use by another process",
					   name);
		if (e == EINVAL)
			return parse_error(err, errlen, -e, "%s exists and is not a "
					   "single-queue tap", name);
		return parse_error(err, errlen, -e, "tap %s: %s", name, strerror(e));
	}
	*fdp = fd;
	snprintf(ifname, DOMUS_IFNAMSIZ, "%.*s", IFNAMSIZ - 1, ifr.ifr_name);
	return 0;
}

/* Is @tap a port of the bridge @br already? (sysfs: /sys/class/net/TAP/master) */
static bool tap_on_bridge(const char *tap, const char *br)
{
	char path[64], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/master", tap);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	return !strcmp(strrchr(link, '/') ? strrchr(link, '/') + 1 : link, br);
}

int domus_tap_attach_bridge(const char *tap, const char *br, char *err, size_t errlen)
{
	int s __close = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {};

	if (!domus_tap_name_ok(tap) || !domus_tap_name_ok(br))
		return parse_error(err, errlen, -EINVAL, "bridge '%.*s', tap '%.*s': names of "
				   "1-%d printable octets", DOMUS_IFNAMSIZ, br, DOMUS_IFNAMSIZ, tap,
				   DOMUS_IFNAMSIZ - 1);
	if (s < 0)
		return parse_error(err, errlen, -errno, "socket: %s", strerror(errno));
	if (!tap_on_bridge(tap, br)) {
		memcpy(ifr.ifr_name, br, strlen(br));
		ifr.ifr_ifindex = if_nametoindex(tap);
		if (!ifr.ifr_ifindex || ioctl(s, SIOCBRADDIF, &ifr))
			return parse_error(err, errlen, -errno, "cannot add %s to bridge %s: %s%s",
					   tap, br, strerror(errno),
					   errno == ENODEV ? " (no such bridge)" :
					   errno == EOPNOTSUPP ? " (not a bridge)" : "");
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, tap, strlen(tap));
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		return parse_error(err, errlen, -errno, "%s: %s", tap, strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		return parse_error(err, errlen, -errno, "cannot bring %s up: %s", tap,
				   strerror(errno));
	return 0;
}

