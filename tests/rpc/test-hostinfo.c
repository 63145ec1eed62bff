// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host readers of virt-driver/host/ on made-up /proc and /sys trees (a sysroot), for
 * shapes this machine does not have: several sockets and NUMA nodes, SMT, offline CPUs,
 * topologies that do not fit libvirt's nodes × sockets × cores × threads, missing files.
 */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "host/capabilities.h"
#include "host/hostinfo.h"

static char *root;

static void put(const char *path, const char *text)
{
	g_autofree char *full = g_strconcat(root, path, NULL);
	g_autofree char *dir = g_path_get_dirname(full);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_assert_true(g_file_set_contents(full, text, -1, NULL));
}

static void put_cpu(int cpu, int pkg, int core, const char *siblings)
{
	char path[128], v[16];

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/%s", cpu,
		 "physical_package_id");
	snprintf(v, sizeof(v), "%d\n", pkg);
	put(path, v);
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
	snprintf(v, sizeof(v), "%d\n", core);
	put(path, v);
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/%s", cpu,
		 "thread_siblings_list");
	put(path, siblings);
}

static void new_root(void)
{
	if (root) {
		g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);

		g_assert_cmpint(system(cmd), ==, 0);
		g_free(root);
	}
	root = g_dir_make_tmp("hostinfo-XXXXXX", NULL);
	put("/proc/meminfo", "MemTotal:       16384000 kB\nMemFree:         8000000 kB\n"
			     "Buffers:           1000 kB\nCached:           200000 kB\n");
	put("/proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\n"
			     "model name\t: Example CPU @ 2.00GHz\ncpu MHz\t\t: 1999.999\n");
}

/* 2 sockets × 2 cores × 2 threads, one NUMA node per socket. */
static void test_two_sockets_smt_numa(void)
{
	struct host_node_info ni;
	struct verr err = { 0 };

	new_root();
	put("/sys/devices/system/cpu/present", "0-7\n");
	put("/sys/devices/system/cpu/online", "0-7\n");
	for (int cpu = 0; cpu < 8; cpu++)
		put_cpu(cpu, cpu / 4, (cpu / 2) % 2, cpu % 2 ? "" : "0-1\n");
	put("/sys/devices/system/node/online", "0-1\n");
	g_assert_cmpint(host_node_info(root, &ni, &err), ==, 0);
	g_assert_cmpint(ni.cpus, ==, 8);
	g_assert_cmpint(ni.nodes, ==, 2);
	g_assert_cmpint(ni.sockets, ==, 1);
	g_assert_cmpint(ni.cores, ==, 2);
	g_assert_cmpint(ni.threads, ==, 2);
	g_assert_cmpint(ni.mhz, ==, 1999);
	g_assert_cmpuint(ni.memory_kib, ==, 16384000);
	g_assert_cmpstr(ni.vendor, ==, "GenuineIntel");
}

/* One socket of 4 cores with CPU 3 offline: 3 CPUs, and the map says which. */
static void test_offline_cpu(void)
{
	struct host_node_info ni;
	struct verr err = { 0 };
	g_autofree uint8_t *map = NULL;
	unsigned int online;

	new_root();
	put("/sys/devices/system/cpu/present", "0-3\n");
	put("/sys/devices/system/cpu/online", "0-2\n");
	for (int cpu = 0; cpu < 3; cpu++)
		put_cpu(cpu, 0, cpu, "0\n");
	g_assert_cmpint(host_node_info(root, &ni, &err), ==, 0);
	g_assert_cmpint(ni.cpus, ==, 3);
	g_assert_cmpint(ni.nodes * ni.sockets * ni.cores * ni.threads, ==, 3);
	g_assert_cmpint(host_cpu_map(root, &map, &online), ==, 4);
	g_assert_cmpuint(online, ==, 3);
	g_assert_cmpint(map[0], ==, 0x7);
}

/* Two NUMA nodes but one package: libvirt's convention cannot express it, go flat. */
static void test_misfit_topology_goes_flat(void)
{
	struct host_node_info ni;
	struct verr err = { 0 };

	new_root();
	put("/sys/devices/system/cpu/present", "0-3\n");
	put("/sys/devices/system/cpu/online", "0-3\n");
	for (int cpu = 0; cpu < 4; cpu++)
		put_cpu(cpu, 0, cpu, "0\n");
	put("/sys/devices/system/node/online", "0-1\n");
	g_assert_cmpint(host_node_info(root, &ni, &err), ==, 0);
	g_assert_cmpint(ni.nodes, ==, 1);
	g_assert_cmpint(ni.sockets, ==, 1);
	g_assert_cmpint(ni.cores, ==, 4);
	g_assert_cmpint(ni.threads, ==, 1);
}

static void test_cpu_list_gaps(void)
{
	g_autofree uint8_t *map = NULL;
	unsigned int online;

	new_root();
	put("/sys/devices/system/cpu/present", "0-11\n");
	put("/sys/devices/system/cpu/online", "0-3,8,10-11\n");
	g_assert_cmpint(host_cpu_map(root, &map, &online), ==, 12);
	g_assert_cmpuint(online, ==, 7);
	g_assert_cmpint(map[0], ==, 0x0f);
	g_assert_cmpint(map[1], ==, 0x0d);
}

static void test_missing_meminfo(void)
{
	struct host_node_info ni;
	struct verr err = { 0 };

	new_root();
	put("/proc/meminfo", "Nothing: 1 kB\n");
	g_assert_cmpint(host_node_info(root, &ni, &err), ==, -1);
	g_assert_nonnull(strstr(err.message, "cannot find MemTotal"));
}

static void test_stats(void)
{
	struct host_stat st[HOST_MEMORY_STATS];
	struct verr err = { 0 };
	uint64_t cells[4];
	int n;

	new_root();
	put("/proc/stat", "cpu  100 10 20 1000 5 1 2 0 0 0\ncpu0 50 5 10 500 2 1 1 0 0 0\n");
	put("/sys/devices/system/node/online", "0-1\n");
	put("/sys/devices/system/node/node1/meminfo",
	    "Node 1 MemTotal:       4000 kB\nNode 1 MemFree:        1500 kB\n");
	put("/sys/devices/system/node/node0/meminfo",
	    "Node 0 MemTotal:       5000 kB\nNode 0 MemFree:        2500 kB\n");
	g_assert_cmpint(host_cpu_stats(root, -1, st, &err), ==, 0);
	g_assert_cmpstr(st[0].field, ==, "kernel");
	g_assert_cmpuint(st[0].value, ==, (20 + 1 + 2) * (1000000000ULL / sysconf(_SC_CLK_TCK)));
	g_assert_cmpstr(st[1].field, ==, "user");
	g_assert_cmpuint(st[1].value, ==, 110 * (1000000000ULL / sysconf(_SC_CLK_TCK)));
	g_assert_cmpint(host_cpu_stats(root, 0, st, &err), ==, 0);
	g_assert_cmpint(host_cpu_stats(root, 1, st, &err), ==, -1);
	g_assert_nonnull(strstr(err.message, "Invalid cpuNum 1"));
	n = host_memory_stats(root, 1, st, &err);
	g_assert_cmpint(n, ==, 2);
	g_assert_cmpstr(st[0].field, ==, "total");
	g_assert_cmpuint(st[0].value, ==, 4000);
	g_assert_cmpuint(st[1].value, ==, 1500);
	g_assert_cmpint(host_memory_stats(root, -1, st, &err), ==, 4);
	g_assert_cmpint(host_memory_stats(root, 2, st, &err), ==, -1);
	g_assert_cmpint(host_cells_free_memory(root, 0, 4, cells, &err), ==, 2);
	g_assert_cmpuint(cells[0], ==, 2500 * 1024);
	g_assert_cmpuint(cells[1], ==, 1500 * 1024);
	g_assert_cmpint(host_cells_free_memory(root, 2, 4, cells, &err), ==, -1);
}

static void test_sysinfo_without_and_with_dmi(void)
{
	struct verr err = { 0 };
	g_autofree char *bare = NULL, *dmi = NULL, *uuid = NULL;

	new_root();
	bare = sysinfo_xml(root, &err);
	g_assert_nonnull(strstr(bare, "<entry name='manufacturer'>GenuineIntel</entry>"));
	g_assert_null(strstr(bare, "<bios>"));
	put("/sys/class/dmi/id/bios_vendor", "Acme & Sons\n");
	put("/sys/class/dmi/id/product_uuid", "4C4C4544-0000-1000-8000-000000000001\n");
	dmi = sysinfo_xml(root, &err);
	g_assert_nonnull(strstr(dmi, "<bios>\n    <entry name='vendor'>Acme &amp; Sons</entry>"));
	g_assert_nonnull(strstr(dmi, "<entry name='uuid'>4C4C4544-0000-1000-8000-000000000001"));
	uuid = host_uuid(root);
	g_assert_cmpstr(uuid, ==, "4c4c4544-0000-1000-8000-000000000001");
}

int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hostinfo/two-sockets-smt-numa", test_two_sockets_smt_numa);
	g_test_add_func("/hostinfo/offline-cpu", test_offline_cpu);
	g_test_add_func("/hostinfo/misfit-topology", test_misfit_topology_goes_flat);
	g_test_add_func("/hostinfo/cpu-list-gaps", test_cpu_list_gaps);
	g_test_add_func("/hostinfo/missing-meminfo", test_missing_meminfo);
	g_test_add_func("/hostinfo/stats", test_stats);
	g_test_add_func("/hostinfo/sysinfo", test_sysinfo_without_and_with_dmi);
	ret = g_test_run();
	if (root) {
		g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);

		ret |= system(cmd);
	}
	return ret;
}
