/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the host is: CPUs, topology, memory, NUMA, SMBIOS — read from /proc and /sys. */
#ifndef VIRTD_HOSTINFO_H
#define VIRTD_HOSTINFO_H

#include <stdint.h>

#include <glib.h>

#include "rpc/verr.h"

struct host_node_info {
	char model[32];		/* the architecture, e.g. "x86_64" */
	uint64_t memory_kib;
	int cpus;		/* online CPUs */
	int mhz;
	int nodes, sockets, cores, threads;	/* nodes × sockets × cores × threads = CPUs */
	char vendor[64];	/* "GenuineIntel", "AuthenticAMD" */
	char cpu_model[128];	/* /proc/cpuinfo "model name" */
};

/* Return: 0, or -1 with @err set. @sysroot prefixes every path ("" for the real host). */
int host_node_info(const char *sysroot, struct host_node_info *info, struct verr *err);

/* Free memory in bytes (MemFree + Buffers + Cached, like libvirt's nodeGetFreeMemory). */
int host_free_memory(const char *sysroot, uint64_t *bytes, struct verr *err);

/* Free memory of NUMA cells @start.. (at most @max) in bytes; Return: how many, or -1. */
int host_cells_free_memory(const char *sysroot, int start, int max, uint64_t *out,
			   struct verr *err);

/* A named host counter (NODE_GET_CPU_STATS, NODE_GET_MEMORY_STATS). */
struct host_stat {
	const char *field;
	uint64_t value;
};

#define HOST_CPU_STATS 4	/* kernel, user, idle, iowait (ns) */
#define HOST_MEMORY_STATS 4	/* total, free, buffers, cached (KiB) */

/* CPU times of host CPU @cpu, or of all of them for -1. Return: 0 or -1 with @err. */
int host_cpu_stats(const char *sysroot, int cpu, struct host_stat out[HOST_CPU_STATS],
		   struct verr *err);

/* Memory of NUMA cell @cell, or of the host for -1. Return: entries filled, or -1. */
int host_memory_stats(const char *sysroot, int cell, struct host_stat out[HOST_MEMORY_STATS],
		      struct verr *err);

/* Number of NUMA nodes (1 if the kernel shows none). */
int host_numa_nodes(const char *sysroot);

/* Bitmap of online CPUs (bit i of byte i/8); Return: number of CPUs the map covers. */
int host_cpu_map(const char *sysroot, uint8_t **map, unsigned int *online);

/* The host's UUID as text (SMBIOS product_uuid, else /etc/machine-id). */
char *host_uuid(const char *sysroot);

/* <sysinfo type='smbios'> from /sys/class/dmi/id. */
char *host_sysinfo_xml(const char *sysroot, struct verr *err);

#endif
