/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The capabilities, domain capabilities and sysinfo XML documents. */
#ifndef VIRTD_CAPABILITIES_H
#define VIRTD_CAPABILITIES_H

#include "rpc/verr.h"

#define DOMUS_GUEST_ARCH "x86_64"
#define DOMUS_MACHINE "pc"
#define DOMUS_VIRTTYPE "kvm"
#define DOMUS_MAX_VCPUS 255	/* xAPIC ids in the VMM's MADT */

/* @sysroot prefixes host paths ("" for the real host); @emulator is domus-vmm's path. */
char *capabilities_xml(const char *sysroot, const char *emulator, struct verr *err);

/* Arguments may be NULL (= ours); anything else we cannot run is refused. */
char *domain_capabilities_xml(const char *emulator, const char *emulatorbin, const char *arch,
			      const char *machine, const char *virttype, struct verr *err);

char *sysinfo_xml(const char *sysroot, struct verr *err);

#endif
