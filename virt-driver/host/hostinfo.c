// SPDX-License-Identifier: GPL-2.0-or-later
/* Host facts for NODE_GET_INFO, free memory, the CPU map, the host UUID and sysinfo. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "hostinfo.h"

static char *read_file(const char *sysroot, const char *path)
{
	g_autofree char *full = g_strconcat(sysroot, path, NULL);
	char *text = NULL;

	if (!g_file_get_contents(full, &text, NULL, NULL))
		return NULL;
	return g_strstrip(text);
}

/* Parse a Linux CPU list ("0-3,8,10-11") into a bitmap of @nbits; Return: CPUs set or -1. */
static int parse_cpu_list(const char *s, uint8_t *map, int nbits)
{
	int count = 0;

	while (s && *s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s || a < 0)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		for (long i = a; i <= b; i++) {
			if (i < nbits && map)
				map[i / 8] |= 1u << (i % 8);
			count++;
		}
		s = *end == ',' ? end + 1 : NULL;
		if (*end && *end != ',' && *end != '\n')
			return -1;
	}
	return count;
}

static int cpu_topology_int(const char *sysroot, int cpu, const char *what)
{
	g_autofree char *path = g_strdup_printf("/sys/devices/system/cpu/cpu%d/topology/%s", cpu, what);
	g_autofree char *v = read_file(sysroot, path);

	return v ? atoi(v) : -1;
}

/* Highest CPU number the kernel lists as present, plus one. */
static int cpu_count_present(const char *sysroot)
{
	g_autofree char *present = read_file(sysroot, "/sys/devices/system/cpu/present");
	int n = -1;

	if (present) {
		char *last = strrchr(present, '-');
		char *comma = strrchr(present, ',');

		n = atoi(comma && comma > last ? comma + 1 : last ? last + 1 : present) + 1;
	}
	return n > 0 ? n : (int)sysconf(_SC_NPROCESSORS_CONF);
}

/*
 * Sockets/cores/threads from sysfs, in libvirt's convention (nodes × sockets × cores ×
 * threads = CPUs); when the host's shape does not fit it, libvirt reports everything as
 * flat cores of one socket, and so do we.
 */
static void node_topology(const char *sysroot, struct host_node_info *info)
{
	int ncpu = cpu_count_present(sysroot);
	g_autoptr(GHashTable) packages = g_hash_table_new(NULL, NULL);
	g_autoptr(GHashTable) cores = g_hash_table_new(NULL, NULL);
	g_autofree char *sib =
		read_file(sysroot, "/sys/devices/system/cpu/cpu0/topology/thread_siblings_list");
	int threads = sib ? parse_cpu_list(sib, NULL, 0) : 1;

	for (int cpu = 0; cpu < ncpu; cpu++) {
		int pkg = cpu_topology_int(sysroot, cpu, "physical_package_id");
		int core = cpu_topology_int(sysroot, cpu, "core_id");

		if (pkg < 0 || core < 0)
			continue;	/* offline */
		g_hash_table_add(packages, GINT_TO_POINTER(pkg + 1));
		g_hash_table_add(cores, GINT_TO_POINTER(((pkg + 1) << 16) | core));
	}
	info->nodes = host_numa_nodes(sysroot);
	if (threads < 1)
		threads = 1;
	int npkg = g_hash_table_size(packages), ncores = g_hash_table_size(cores);

	if (npkg && npkg % info->nodes == 0 && ncores % npkg == 0 &&
	    ncores * threads == info->cpus) {
		info->sockets = npkg / info->nodes;
		info->cores = ncores / npkg;
		info->threads = threads;
		return;
	}
	info->nodes = 1;
	info->sockets = 1;
	info->cores = info->cpus;
	info->threads = 1;
}

static void cpuinfo_fields(const char *sysroot, struct host_node_info *info)
{
	g_autofree char *text = read_file(sysroot, "/proc/cpuinfo");
	g_auto(GStrv) lines = text ? g_strsplit(text, "\n", -1) : NULL;

	for (char **l = lines; l && *l; l++) {
		char *colon = strchr(*l, ':');

		if (!colon)
			continue;
		g_autofree char *key = g_strstrip(g_strndup(*l, colon - *l));
		const char *val = g_strstrip(colon + 1);

		if (!info->mhz && strcmp(key, "cpu MHz") == 0)
			info->mhz = (int)strtod(val, NULL);
		else if (!info->vendor[0] && strcmp(key, "vendor_id") == 0)
			g_strlcpy(info->vendor, val, sizeof(info->vendor));
		else if (!info->cpu_model[0] && strcmp(key, "model name") == 0)
			g_strlcpy(info->cpu_model, val, sizeof(info->cpu_model));
	}
}

static int meminfo_kib(const char *sysroot, const char *file, const char *const *keys,
		       uint64_t *sum)
{
	g_autofree char *text = read_file(sysroot, file);
	g_auto(GStrv) lines = text ? g_strsplit(text, "\n", -1) : NULL;
	int found = 0;

	*sum = 0;
	for (char **l = lines; l && *l; l++) {
		/* /proc/meminfo: "MemFree:  123 kB"; node meminfo: "Node 0 MemFree:  123 kB" */
		const char *p = g_str_has_prefix(*l, "Node ") ? strchr(*l + 5, ' ') : *l;

		for (const char *const *k = keys; p && *k; k++) {
			size_t kl = strlen(*k);

			while (*p == ' ')
				p++;
			if (strncmp(p, *k, kl) == 0 && p[kl] == ':') {
				*sum += g_ascii_strtoull(p + kl + 1, NULL, 10);
				found++;
			}
		}
	}
	return found ? 0 : -1;
}

int host_numa_nodes(const char *sysroot)
{
	g_autofree char *online = read_file(sysroot, "/sys/devices/system/node/online");
	int n = online ? parse_cpu_list(online, NULL, 0) : -1;

	return n > 0 ? n : 1;
}

int host_node_info(const char *sysroot, struct host_node_info *info, struct verr *err)
{
	static const char *const total[] = { "MemTotal", NULL };
	g_autofree char *online = read_file(sysroot, "/sys/devices/system/cpu/online");
	struct utsname u;

	memset(info, 0, sizeof(*info));
	uname(&u);
	g_strlcpy(info->model, u.machine, sizeof(info->model));
	if (meminfo_kib(sysroot, "/proc/meminfo", total, &info->memory_kib) < 0)
		return verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_NONE,
				"cannot find MemTotal in %s/proc/meminfo", sysroot);
	info->cpus = online ? parse_cpu_list(online, NULL, 0) : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (info->cpus <= 0)
		return verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_NONE,
				"cannot count the online CPUs");
	cpuinfo_fields(sysroot, info);
	node_topology(sysroot, info);
	return 0;
}

int host_free_memory(const char *sysroot, uint64_t *bytes, struct verr *err)
{
	static const char *const keys[] = { "MemFree", "Buffers", "Cached", NULL };
	uint64_t kib;

	if (meminfo_kib(sysroot, "/proc/meminfo", keys, &kib) < 0)
		return verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_NONE,
				"cannot read free memory from /proc/meminfo");
	*bytes = kib * 1024;
	return 0;
}

int host_cells_free_memory(const char *sysroot, int start, int max, uint64_t *out, struct verr *err)
{
	static const char *const keys[] = { "MemFree", NULL };
	int nodes = host_numa_nodes(sysroot), n = 0;

	if (start < 0 || start >= nodes)
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_NONE,
				"start cell %d out of range (0-%d)", start, nodes - 1);
	for (int cell = start; cell < nodes && n < max; cell++, n++) {
		g_autofree char *path = g_strdup_printf("/sys/devices/system/node/node%d/meminfo", cell);
		uint64_t kib;

		if (meminfo_kib(sysroot, path, keys, &kib) < 0) {
			/* No NUMA in this kernel: the one cell is the whole host. */
			if (nodes == 1 && cell == 0 && host_free_memory(sysroot, &out[n], err) == 0)
				continue;
			return verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_NONE,
					"cannot read free memory of NUMA cell %d", cell);
		}
		out[n] = kib * 1024;
	}
	return n;
}

int host_cpu_map(const char *sysroot, uint8_t **map, unsigned int *online)
{
	int ncpu = cpu_count_present(sysroot);
	g_autofree char *list = read_file(sysroot, "/sys/devices/system/cpu/online");
	int n;

	*map = g_malloc0((ncpu + 7) / 8);
	n = list ? parse_cpu_list(list, *map, ncpu) : -1;
	if (n < 0) {
		for (int i = 0; i < ncpu; i++)
			(*map)[i / 8] |= 1u << (i % 8);
		n = ncpu;
	}
	*online = n;
	return ncpu;
}

char *host_uuid(const char *sysroot)
{
	g_autofree char *dmi = read_file(sysroot, "/sys/class/dmi/id/product_uuid");
	g_autofree char *mid = NULL;

	if (dmi && g_uuid_string_is_valid(dmi))
		return g_ascii_strdown(dmi, -1);
	mid = read_file(sysroot, "/etc/machine-id");
	if (mid && strlen(mid) == 32)
		return g_strdup_printf("%.8s-%.4s-%.4s-%.4s-%.12s", mid, mid + 8, mid + 12, mid + 16,
				       mid + 20);
	return g_strdup("00000000-0000-0000-0000-000000000000");
}

int host_cpu_stats(const char *sysroot, int cpu, struct host_stat out[HOST_CPU_STATS],
		   struct verr *err)
{
	g_autofree char *text = read_file(sysroot, "/proc/stat");
	g_autofree char *want = cpu < 0 ? g_strdup("cpu") : g_strdup_printf("cpu%d", cpu);
	g_auto(GStrv) lines = text ? g_strsplit(text, "\n", -1) : NULL;
	const uint64_t ns_per_tick = 1000000000ULL / sysconf(_SC_CLK_TCK);

	for (char **l = lines; l && *l; l++) {
		unsigned long long user, nice, sys, idle, iowait, irq, softirq;
		g_auto(GStrv) f = g_strsplit_set(*l, " ", -1);

		if (!f[0] || strcmp(f[0], want) != 0)
			continue;
		if (sscanf(*l + strlen(want), "%llu %llu %llu %llu %llu %llu %llu", &user, &nice,
			   &sys, &idle, &iowait, &irq, &softirq) != 7)
			break;
		/* libvirt's grouping: kernel = system + irq + softirq, user = user + nice */
		out[0] = (struct host_stat){ "kernel", (sys + irq + softirq) * ns_per_tick };
		out[1] = (struct host_stat){ "user", (user + nice) * ns_per_tick };
		out[2] = (struct host_stat){ "idle", idle * ns_per_tick };
		out[3] = (struct host_stat){ "iowait", iowait * ns_per_tick };
		return 0;
	}
	return verr_set(err, VERR_INVALID_ARG, VERR_FROM_NONE, "Invalid cpuNum %d in %s/proc/stat",
			cpu, sysroot);
}

int host_memory_stats(const char *sysroot, int cell, struct host_stat out[HOST_MEMORY_STATS],
		      struct verr *err)
{
	static const char *const names[] = { "total", "free", "buffers", "cached" };
	static const char *const keys[] = { "MemTotal", "MemFree", "Buffers", "Cached" };
	g_autofree char *path = cell < 0 ? g_strdup("/proc/meminfo") :
				g_strdup_printf("/sys/devices/system/node/node%d/meminfo", cell);
	int n = 0;

	if (cell >= host_numa_nodes(sysroot))
		return verr_set(err, VERR_INVALID_ARG, VERR_FROM_NONE,
				"Invalid cell number %d (the host has %d)", cell,
				host_numa_nodes(sysroot));
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		const char *const key[] = { keys[i], NULL };
		uint64_t kib;

		if (meminfo_kib(sysroot, path, key, &kib) == 0)
			out[n++] = (struct host_stat){ names[i], kib };
	}
	/* A kernel without NUMA still has the one cell: the whole host. */
	if (!n && cell == 0)
		return host_memory_stats(sysroot, -1, out, err);
	if (!n)
		return verr_set(err, VERR_INTERNAL_ERROR, VERR_FROM_NONE, "cannot read %s%s",
				sysroot, path);
	return n;
}
