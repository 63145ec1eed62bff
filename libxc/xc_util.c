// SPDX-License-Identifier: GPL-2.0-or-later
/* Small parsers shared by libxc's users (domus-xc, domus-vmm's command line). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <domus/xc.h>

int xc_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;		/* more digits than 64 bits hold */
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case '\0': case 'M': case 'm': shift = 20; break;
	case 'G': case 'g': shift = 30; break;
	case 'K': case 'k': shift = 10; break;
	default: return -EINVAL;
	}
	if (*end && end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
		return -EINVAL;
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}
