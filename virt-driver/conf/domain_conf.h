/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The domain model: libvirt's domain XML (domain type 'kvm'), the subset Domus supports.
 *
 * xml-schemas/domain.rng is the authority on what is accepted; docs/domain-xml.md says
 * element by element what Domus does with it. Every definition is validated against that
 * schema (struct domus_schema, domain_schema.h) before it is parsed, and whatever the schema
 * refuses is reported naming the element or attribute and its line.
 *
 * Ownership: a struct domus_domain_def owns everything it points to; free it with
 * domus_domain_def_free() (or g_autoptr(domus_domain_def)). Strings are UTF-8, g_malloc'd.
 * Not thread-safe: one owner at a time (the daemon keeps a def under its domain's lock).
 *
 * Runtime-only state (the domain id, the console's pty path, tap device names) lives in the
 * same struct; it is written in live XML, left out of inactive XML (DOMUS_DEF_FORMAT_INACTIVE)
 * and read back only with DOMUS_DEF_PARSE_STATUS.
 */
#ifndef DOMUS_DOMAIN_CONF_H
#define DOMUS_DOMAIN_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf_util.h"
#include "domus_error.h"

struct domus_schema;

/* vCPUs a domain may have: the x2APIC-less MADT of domus-vmm addresses APIC ids 0..254. */
#define DOMUS_DOMAIN_MAX_VCPUS 255
/* Devices domus-vmm can give a domain (hypervisor/vm.h: VM_MAX_DISKS, VM_MAX_NICS). */
#define DOMUS_DOMAIN_MAX_DISKS 16
#define DOMUS_DOMAIN_MAX_NETS 8
/* A domain name becomes a file name, "<name>.xml": keep it well inside NAME_MAX. */
#define DOMUS_DOMAIN_NAME_MAX 200
/* Tap devices named by Domus start with this; such a <target dev> is runtime state and is
 * dropped when a definition is parsed (as libvirt does with "vnet"). */
#define DOMUS_TAP_PREFIX "vnet"
/* Largest XML document accepted (bytes); libvirt's RPC strings stop at 4 MiB as well. */
#define DOMUS_DOMAIN_XML_MAX (4 * 1024 * 1024)

/* on_poweroff / on_reboot / on_crash. */
enum domus_lifecycle_action {
	DOMUS_ACTION_DESTROY,		/* the domain ends (becomes shut off) */
	DOMUS_ACTION_RESTART,		/* a fresh boot of the same definition */
	DOMUS_ACTION_PRESERVE,		/* on_crash only: keep the crashed VMM, paused, for inspection */
};

enum domus_clock_offset {
	DOMUS_CLOCK_UTC,
	DOMUS_CLOCK_LOCALTIME,
};

enum domus_disk_type {
	DOMUS_DISK_FILE,		/* <disk type='file'>: <source file=…> */
	DOMUS_DISK_BLOCK,		/* <disk type='block'>: <source dev=…> */
};

struct domus_disk_def {
	enum domus_disk_type type;
	char *source;			/* absolute path of the image file or block device */
	char *target;			/* guest name, "vda".. (bus is always virtio) */
	bool readonly;
	char *serial;			/* NULL when absent */
};

enum domus_net_type {
	DOMUS_NET_BRIDGE,		/* tap device added to <source bridge=…> */
	DOMUS_NET_ETHERNET,		/* a tap device, nothing else */
};

struct domus_net_def {
	enum domus_net_type type;
	uint8_t mac[6];			/* generated under 52:54:00 when absent */
	char *bridge;			/* DOMUS_NET_BRIDGE: the bridge; else NULL */
	char *ifname;			/* <target dev=…> asked for in the config; NULL = any */
	char *runtime_ifname;		/* runtime: the tap device in use; NULL when inactive */
};

enum domus_chr_type {
	DOMUS_CHR_PTY,			/* a host pty; its path is runtime state */
	DOMUS_CHR_FILE,			/* guest output appended to a file */
};

/* The one 16550 UART (serial port 0), which is also the <console>. */
struct domus_chr_def {
	enum domus_chr_type type;
	char *path;			/* FILE: config; PTY: runtime (the pty), NULL when inactive */
};

struct domus_vcpupin {
	unsigned int vcpu;
	struct domus_cpuset cpus;
};

enum domus_balloon_model {
	DOMUS_BALLOON_VIRTIO,		/* the default when <memballoon> is absent, as in libvirt */
	DOMUS_BALLOON_NONE,
};

struct domus_domain_def {
	/* runtime: the domain id while running, -1 otherwise */
	int id;

	char *name;
	uint8_t uuid[16];		/* generated when absent */
	char *title;			/* single line; NULL when absent */
	char *description;		/* NULL when absent */
	char *metadata;			/* <metadata>'s child elements, serialized verbatim, each
					 * with its namespace declarations; NULL when absent */

	uint64_t memory_kib;		/* <memory>: the boot-time (maximum) size */
	uint64_t current_memory_kib;	/* <currentMemory>: balloon target; <= memory_kib */

	unsigned int vcpus;		/* <vcpu>: maximum */
	unsigned int current_vcpus;	/* <vcpu current=…>: online at boot; <= vcpus */
	struct domus_cpuset *vcpu_cpuset; /* <vcpu cpuset=…>: default pinning; NULL = any CPU */

	struct {
		bool has_shares;
		unsigned int shares;		/* relative weight (cgroup cpu.weight/shares) */
		uint64_t period;		/* µs, 1000..1000000; 0 = not set */
		bool has_quota;
		int64_t quota;			/* µs per period, -1 = unlimited */
		struct domus_vcpupin *pins;	/* sorted by vcpu, each vcpu at most once */
		size_t npins;
	} cputune;

	struct {
		char *arch;			/* always "x86_64" */
		char *machine;			/* machine type name, kept as given (default "pc") */
		char *kernel;			/* absolute paths; kernel NULL = no direct boot */
		char *initrd;
		char *cmdline;
	} os;

	bool acpi;			/* <features><acpi/>: ACPI tables, power button */
	bool apic;			/* <features><apic/>: always present; kept for round trips */
	bool pm_no_suspend_to_mem;	/* <pm><suspend-to-mem enabled='no'/>: Domus has no S3 */
	bool pm_no_suspend_to_disk;	/* <pm><suspend-to-disk enabled='no'/>: nor S4 */

	enum domus_clock_offset clock_offset;
	enum domus_lifecycle_action on_poweroff;	/* default destroy */
	enum domus_lifecycle_action on_reboot;		/* default restart */
	enum domus_lifecycle_action on_crash;		/* default destroy */

	char *emulator;			/* <emulator>, kept as given; NULL when absent */
	bool usb_none;			/* <controller type='usb' model='none'/> was given */

	struct domus_disk_def **disks;
	size_t ndisks;
	struct domus_net_def **nets;
	size_t nnets;
	struct domus_chr_def *serial;	/* NULL when the domain has no serial port/console */
	bool rng;			/* virtio-rng, fed from /dev/urandom */
	char *rng_backend;		/* "/dev/urandom" or "/dev/random" */
	enum domus_balloon_model memballoon;
};
typedef struct domus_domain_def domus_domain_def;	/* for g_autoptr() only */

/* Parse flags. */
enum {
	/* Read runtime state too (the domain id, pty paths, tap names): for the daemon's own
	 * status files. Without it, runtime state in the input is accepted and ignored, as
	 * libvirt does when live XML is given to define. */
	DOMUS_DEF_PARSE_STATUS = 1 << 0,
};

/* Format flags. */
enum {
	/* Leave out runtime state: what `virsh dumpxml --inactive` and the store write. */
	DOMUS_DEF_FORMAT_INACTIVE = 1 << 0,
};

/*
 * domus_domain_def_parse_string() - validate @xml against @schema, then parse it.
 * Unsupported elements, attributes and values are refused (VIR_ERR_CONFIG_UNSUPPORTED)
 * naming them and their line; malformed XML gives VIR_ERR_XML_DETAIL with the line; values
 * that are wrong for other reasons VIR_ERR_XML_ERROR (VIR_ERR_OVERFLOW for sizes too big).
 * Defaults are filled in: a UUID and MAC addresses are generated when absent.
 * Return: a new def (domus_domain_def_free()), or NULL with *err set.
 */
struct domus_domain_def *domus_domain_def_parse_string(const struct domus_schema *schema,
							const char *xml, unsigned int flags,
							struct domus_error **err);

/* Like domus_domain_def_parse_string(), reading @path (messages start with the path). */
struct domus_domain_def *domus_domain_def_parse_file(const struct domus_schema *schema,
						      const char *path, unsigned int flags,
						      struct domus_error **err);

/*
 * domus_domain_def_validate() - check a def changed in memory (setvcpus, setmaxmem, … with
 * --config) the way a definition is checked when it is read: it is written as inactive
 * XML and read back with @schema (so the lines in messages are lines of that XML).
 * Return: 0, or -1 with *err as from _parse_string().
 */
int domus_domain_def_validate(const struct domus_schema *schema,
			      const struct domus_domain_def *def, struct domus_error **err);

/*
 * domus_domain_def_format() - the domain XML of @def, as libvirt would write it (2-space
 * indentation, no XML declaration). It validates against both xml-schemas/domain.rng and
 * libvirt's domain.rng. Return: a new string (g_free).
 */
char *domus_domain_def_format(const struct domus_domain_def *def, unsigned int flags);

/* A deep copy (runtime state included). Return: a new def. */
struct domus_domain_def *domus_domain_def_copy(const struct domus_domain_def *def);

/* Forgets the runtime state (id = -1, pty paths, tap names): after the domain stopped. */
void domus_domain_def_clear_runtime(struct domus_domain_def *def);

/* Returns NULL. Accepts NULL. */
struct domus_domain_def *domus_domain_def_free(struct domus_domain_def *def);
void domus_domain_def_freep(struct domus_domain_def **def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(domus_domain_def, domus_domain_def_free)

/* A name that can be a domain's name (and so a file name): non-empty, at most
 * DOMUS_DOMAIN_NAME_MAX bytes, no '/', no control character, not starting with '.'.
 * Return: 0, or -1 with VIR_ERR_XML_ERROR (or VIR_ERR_INVALID_ARG with @for_api). */
int domus_domain_name_check(const char *name, bool for_api, struct domus_error **err);

/* Names used in the XML, for the daemon's messages: "destroy", "restart", "preserve". */
const char *domus_lifecycle_action_name(enum domus_lifecycle_action action);

#endif
