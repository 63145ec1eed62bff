// SPDX-License-Identifier: GPL-2.0-or-later
/* libxc handles: open/close, the timeout, the last-error text (and quoting what callers
 * gave for it), state and reason names. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xc_private.h"

int xc_interface_open(unsigned int flags, xc_interface **ret_xch)
{
	xc_interface *xch;

	if (flags)
		return -EINVAL;
	xch = calloc(1, sizeof(*xch));
	if (!xch)
		return -ENOMEM;
	xch->timeout_ms = XC_DEFAULT_TIMEOUT_MS;
	*ret_xch = xch;
	return 0;
}

void xc_interface_close(xc_interface *xch)
{
	if (!xch)
		return;
	while (xch->domains)
		xc_domain_close(xch, xch->domains);
	free(xch->run_dir);
	free(xch);
}

const char *xc_last_error(xc_interface *xch)
{
	return xch->last_error;
}

int xc_interface_set_timeout(xc_interface *xch, int timeout_ms)
{
	if (timeout_ms <= 0)
		return xc__error(xch, -EINVAL, "timeout of %d ms: must be positive", timeout_ms);
	xch->timeout_ms = timeout_ms;
	return 0;
}

int xc__error(xc_interface *xch, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(xch->last_error, sizeof(xch->last_error), fmt, ap);
	va_end(ap);
	return err;
}

const char *xc_domain_state_name(unsigned int state)
{
	static const char *const names[] = {
		[XC_DOMSTATE_RUNNING] = "running",
		[XC_DOMSTATE_BLOCKED] = "blocked",
		[XC_DOMSTATE_PAUSED] = "paused",
		[XC_DOMSTATE_SHUTDOWN] = "shutdown",
		[XC_DOMSTATE_CRASHED] = "crashed",
		[XC_DOMSTATE_DYING] = "dying",
	};

	return state < ARRAY_SIZE(names) && names[state] ? names[state] : "unknown";
}

const char *xc_domain_reason_name(unsigned int reason)
{
	static const char *const names[] = {
		[XC_REASON_NONE] = "none",
		[XC_REASON_PAUSED] = "paused",
		[XC_REASON_UNPAUSED] = "unpaused",
		[XC_REASON_POWEROFF] = "poweroff",
		[XC_REASON_REBOOT] = "reboot",
		[XC_REASON_CRASH] = "crash",
		[XC_REASON_DESTROYED] = "destroyed",
		[XC_REASON_HOST_ERROR] = "host-error",
		[XC_REASON_TEST_EXIT] = "test-exit",
		[XC_REASON_SAVED] = "saved",
		[XC_REASON_MIGRATED] = "migrated",
		[XC_REASON_VMM_DIED] = "vmm-died",
	};

	return reason < ARRAY_SIZE(names) && names[reason] ? names[reason] : "unknown";
}

const char *xc__quoted(const char *s, char out[XC_QUOTED_MAX])
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0;

	for (; *p && o < 320; p++) {
		if (*p < ' ' || *p == 0x7f)
			o += snprintf(out + o, 5, "\\x%02x", *p);
		else
			out[o++] = *p;
	}
	strcpy(out + o, *p ? "..." : "");
	return out;
}
