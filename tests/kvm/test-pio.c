// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-pio: port I/O exits to the test device.
 *
 * Host side (tests/kvm/meson.build): domus-vmm --test-device must print
 *   domus-vmm: testdev: report vcpu=0 value=0x12345678
 *   domus-vmm: testdev: report vcpu=0 value=0x0        (the id read back from port 0xf5)
 * and exit with 64 (guest_main() returned 0). Built with -DEXIT_WIDTH=1 or 2, the guest ends
 * with a 1- or 2-byte OUT to port 0xf4 instead: the value is masked with 63, so 0xc5 gives
 * exit 69 and 0x1c6 exit 70.
 */
#include "libguest.h"

int guest_main(void)
{
	uint32_t id = guest_vcpu_id();
	const char *str = "pio";
	uint64_t len = 3;

	/* Repeated reads are stable and have no side effect. */
	GUEST_ASSERT_EQ(id, 0);
	GUEST_ASSERT_EQ(guest_vcpu_id(), id);
	guest_report(0x12345678);
	guest_report(id);

	/* rep outsb to the POST port is one string I/O exit with count 3: the VMM must cope. */
	__asm__ __volatile__("rep outsb" : "+S"(str), "+c"(len) : "d"(0x80) : "memory");

#if defined(EXIT_WIDTH) && EXIT_WIDTH == 1
	outb(TESTDEV_PORT_EXIT, 0xc5);
#elif defined(EXIT_WIDTH) && EXIT_WIDTH == 2
	outw(TESTDEV_PORT_EXIT, 0x1c6);
#endif
	return GUEST_EXIT_OK;
}
